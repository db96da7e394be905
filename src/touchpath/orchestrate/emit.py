"""The journey speaks back into the event log: each recorded step becomes an event.

| step | event |
|---|---|
| @entry | Journey Entered (journey, version, node, entry_key) |
| a node | Journey Step Reached (journey, version, node, kind, step, via, outcome, entry_key) |
| a split | also Experiment Viewed (experiment_id `journey:<journey>:<node>`, variation_id) |
| update_trait | also an identify with the trait, so a rebuild of the profiles keeps it |
| @exit | Journey Exited (journey, version, node, reason, entry_key) |

Events are built from `journey_steps` rows after the transaction that recorded them commits,
staged with `stage_internal` under the source `touchpath.journeys` and queued with
`store.ingest(internal=True)`. Their messageIds are derived from the step (journey, version,
person, entry key, node, step), so emitting a step twice (after a crash, before the cursor
moved) writes it once: the store drops the repeat.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from touchpath.events.message import Staged, stage_internal
from touchpath.events.names import (
    EXPERIMENT_VIEWED,
    JOURNEY_ENTERED,
    JOURNEY_EXITED,
    JOURNEY_STEP_REACHED,
)
from touchpath.orchestrate.sql import one
from touchpath.store import utcnow

__all__ = ["SOURCE", "pending_events"]

SOURCE = "touchpath.journeys"
_WHO = """
    'userId': coalesce(s.user_id, CASE WHEN s.anonymous_id IS NULL AND s.profile_id LIKE 'u:%'
                                       THEN s.profile_id[3:] END),
    'anonymousId': coalesce(s.anonymous_id, CASE WHEN s.user_id IS NULL
                                                  AND s.profile_id NOT LIKE 'u:%'
                                             THEN CASE WHEN s.profile_id LIKE 'a:%'
                                                       THEN s.profile_id[3:]
                                                       ELSE s.profile_id END END),
    'timestamp': strftime(st.ts, '%Y-%m-%dT%H:%M:%S.%fZ'),
    'context': {'library': {'name': 'touchpath-journeys'}},
"""


def _mid(suffix: str) -> str:
    return (
        "'jny-' || md5(s.journey || '|' || s.version || '|' || s.profile_id || '|' || "
        f"s.entry_key || '|' || st.node || '|' || st.step || '|{suffix}')"
    )


_STEPS_SQL = f"""
SELECT {{
    'type': 'track',
    'messageId': {_mid("e")},
    'event': CASE st.kind WHEN 'entered' THEN '{JOURNEY_ENTERED}'
                          WHEN 'exited' THEN '{JOURNEY_EXITED}'
                          ELSE '{JOURNEY_STEP_REACHED}' END,
    {_WHO}
    'properties': {{
        'journey': s.journey, 'version': s.version, 'entry_key': s.entry_key,
        'profile_id': s.profile_id,
        'node': CASE st.kind WHEN 'exited' THEN st.came_from
                             WHEN 'entered' THEN NULL ELSE st.node END,
        'from': CASE WHEN st.kind NOT IN ('entered', 'exited') THEN st.came_from END,
        'kind': CASE WHEN st.kind IN ('entered', 'exited') THEN NULL ELSE st.kind END,
        'step': st.step, 'via': st.via,
        'outcome': CASE WHEN st.kind = 'exited' THEN NULL ELSE st.outcome END,
        'reason': CASE WHEN st.kind = 'exited' THEN st.outcome END
    }}
}} AS msg
FROM journey_steps st JOIN journey_state s ON s.id = st.instance
WHERE st.id > $after AND st.id <= $upto AND s.id BETWEEN $lo AND $hi
ORDER BY st.id
"""

_SPLITS_SQL = f"""
SELECT {{
    'type': 'track',
    'messageId': {_mid("x")},
    'event': '{EXPERIMENT_VIEWED}',
    {_WHO}
    'properties': {{
        'experiment_id': 'journey:' || s.journey || ':' || st.node,
        'experiment_name': s.journey || ' / ' || st.node,
        'variation_id': st.outcome, 'variation_name': st.outcome,
        'journey': s.journey, 'version': s.version, 'node': st.node,
        'entry_key': s.entry_key, 'profile_id': s.profile_id
    }}
}} AS msg
FROM journey_steps st JOIN journey_state s ON s.id = st.instance
WHERE st.id > $after AND st.id <= $upto AND s.id BETWEEN $lo AND $hi AND st.kind = 'split'
ORDER BY st.id
"""

_IDENTIFY_SQL = f"""
SELECT {{'type': 'identify', 'messageId': {_mid("i")}, {_WHO}
         'traits': json_object(st.detail ->> '$.trait', st.detail -> '$.value')}} AS msg
FROM journey_steps st JOIN journey_state s ON s.id = st.instance
WHERE st.id > $after AND st.id <= $upto AND s.id BETWEEN $lo AND $hi AND st.kind = 'update_trait'
ORDER BY st.id
"""


def pending_events(
    con: duckdb.DuckDBPyConnection, after: int, limit: int
) -> tuple[int, Staged | None]:
    """The events of the steps after step id `after` (at most `limit` steps): the last step id
    they cover and the staged messages (None when there are none).

    Each event's timestamp is its step's time (the engine's clock); it is received now, by the
    wall clock, which is what the store's dedupe window counts in."""
    # The chunk's instances bound the scan of journey_state (its zone maps skip the rest):
    # joined whole, a million people cost a full scan per chunk.
    row = one(
        con,
        "SELECT max(id), min(instance), max(instance) FROM "
        "(SELECT id, instance FROM journey_steps WHERE id > ? ORDER BY id LIMIT ?)",
        [after, limit],
    )
    if row is None or row[0] is None:
        return after, None
    upto = int(row[0])
    params = {"after": after, "upto": upto, "lo": int(row[1]), "hi": int(row[2])}
    raws: list[bytes] = []
    for sql in (_STEPS_SQL, _SPLITS_SQL):
        raws += [r.encode() for (r,) in con.execute(_as_json(sql), params).fetchall()]
    table = con.sql(_IDENTIFY_SQL, params=params).to_arrow_table()
    assert table is not None
    identifies = [_clean(m) for m in table.column("msg").to_pylist()]
    staged = stage_internal(identifies, source=SOURCE, received_at=utcnow())
    staged.raws[:0] = raws
    return upto, staged


_OPTIONAL = "userId|anonymousId|node|from|kind|via|outcome|reason"
"""The fields of the step events that are left out when empty (a missing userId is absent,
not null)."""


def _as_json(sql: str) -> str:
    """Each message of `sql` as JSON text, built by the database: a Python dict per step cost
    ~75 µs, most of a journey's time per person. The fields left out when null are only ever
    our own keys, and a `"key":null` can only be a key's (inside a JSON string every `"` is
    escaped), so removing the text is exact."""
    return (
        "SELECT regexp_replace(regexp_replace(to_json(msg), "
        f"'\"({_OPTIONAL})\":null,', '', 'g'), ',\"({_OPTIONAL})\":null}}', '}}', 'g') "
        f"FROM ({sql})"
    )


def _clean(msg: dict[str, Any]) -> dict[str, Any]:
    """Leave out the empty fields a struct carries (a missing userId is absent, not null)."""
    out = {k: v for k, v in msg.items() if v is not None}
    if "properties" in out:
        out["properties"] = {k: v for k, v in out["properties"].items() if v is not None}
    if "traits" in out:
        out["traits"] = json.loads(out["traits"])
    return out
