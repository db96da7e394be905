"""The journey speaks back into the event log: each recorded step becomes an event.

| step | event |
|---|---|
| @entry | Journey Entered (journey, version, node, entry_key) |
| a node | Journey Step Reached (journey, version, node, kind, step, via, outcome, entry_key) |
| a split | also Experiment Viewed (experiment_id `journey:<journey>:<node>`, variation_id) |
| update_trait | also an identify with the trait, so a rebuild of the profiles keeps it |
| @exit | Journey Exited (journey, version, node, reason, entry_key) |

Events are built from `journey_steps` rows after the transaction that recorded them commits,
by one statement per chunk, directly as event-log rows (`Staged.rows`: no JSON text to parse,
no message to check, under the source `touchpath.journeys`), and queued with
`store.ingest(internal=True)`, in the writer's background lane. They are the rows the ingest
path would make of the same messages (`tests/test_journeys.py` compares them). Their
messageIds are derived from the step (journey, version, person, entry key, node, step), so
emitting a step twice (after a crash, before the cursor moved) writes it once: the store drops
the repeat.
"""

from __future__ import annotations

import duckdb

from touchpath.events.channels import FIELDS, field_expr
from touchpath.events.message import Staged
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
CONTEXT = '{"library":{"name":"touchpath-journeys"}}'
"""The context of every step event."""

_USER = (
    "nullif(coalesce(s.user_id, CASE WHEN s.anonymous_id IS NULL AND s.profile_id LIKE 'u:%' "
    "THEN s.profile_id[3:] END), '')"
)
_ANON = (
    "nullif(coalesce(s.anonymous_id, CASE WHEN s.user_id IS NULL AND s.profile_id NOT LIKE 'u:%' "
    "THEN CASE WHEN s.profile_id LIKE 'a:%' THEN s.profile_id[3:] ELSE s.profile_id END END), '')"
)
_OPTIONAL = "node|from|kind|via|outcome|reason"
"""Properties left out when empty (as a message without them would have none)."""


def _props(struct: str) -> str:
    """A struct's JSON text without the optional keys that are null. The fields left out are
    only ever our own keys, and a `"key":null` can only be a key's (inside a JSON string every
    `"` is escaped), so removing the text is exact."""
    return (
        f"regexp_replace(regexp_replace(to_json({struct}), '\"({_OPTIONAL})\":null,', '', 'g'), "
        f"',\"({_OPTIONAL})\":null}}', '}}', 'g')"
    )


_STEP_PROPS = _props("""{
    'journey': journey, 'version': version, 'entry_key': entry_key, 'profile_id': profile_id,
    'node': CASE kind WHEN 'exited' THEN came_from WHEN 'entered' THEN NULL ELSE node END,
    'from': CASE WHEN kind NOT IN ('entered', 'exited') THEN came_from END,
    'kind': CASE WHEN kind IN ('entered', 'exited') THEN NULL ELSE kind END,
    'step': step, 'via': via,
    'outcome': CASE WHEN kind = 'exited' THEN NULL ELSE outcome END,
    'reason': CASE WHEN kind = 'exited' THEN outcome END}""")
_SPLIT_PROPS = """to_json({
    'experiment_id': 'journey:' || journey || ':' || node,
    'experiment_name': journey || ' / ' || node,
    'variation_id': outcome, 'variation_name': outcome,
    'journey': journey, 'version': version, 'node': node,
    'entry_key': entry_key, 'profile_id': profile_id})"""
_EVENT = f"""CASE kind WHEN 'entered' THEN '{JOURNEY_ENTERED}' WHEN 'exited' THEN '{JOURNEY_EXITED}'
    ELSE '{JOURNEY_STEP_REACHED}' END"""
_FIELDS = ",\n    ".join(
    f"{field_expr(name).sql('duckdb')} AS f_{name}" for name in FIELDS if name != "event"
)

_KEEP = "journey, version, profile_id, entry_key, node, step, ts, user_id, anonymous_id"
_ROWS_SQL = f"""
WITH st AS MATERIALIZED (
    SELECT st.id AS sid, st.node, st.step, st.kind, st.came_from, st.via, st.outcome, st.ts,
        st.detail, s.journey, s.version, s.profile_id, s.entry_key,
        {_USER} AS user_id, {_ANON} AS anonymous_id
    FROM journey_steps st JOIN journey_state s ON s.id = st.instance
    WHERE st.id > $after AND st.id <= $upto AND s.id BETWEEN $lo AND $hi
), m AS (
    SELECT 0 AS part, sid, 'e' AS suffix, 'track' AS type, {_EVENT} AS event,
        {_STEP_PROPS} AS properties, NULL::VARCHAR AS traits, {_KEEP}
    FROM st
    UNION ALL
    SELECT 1, sid, 'x', 'track', '{EXPERIMENT_VIEWED}', {_SPLIT_PROPS}, NULL, {_KEEP}
    FROM st WHERE kind = 'split'
    UNION ALL
    SELECT 2, sid, 'i', 'identify', NULL, NULL,
        json_object(detail ->> '$.trait', detail -> '$.value')::VARCHAR, {_KEEP}
    FROM st WHERE kind = 'update_trait'
), r AS (
    SELECT part, sid,
        'jny-' || md5(journey || '|' || version || '|' || profile_id || '|' || entry_key || '|'
                      || node || '|' || step || '|' || suffix) AS message_id,
        '{SOURCE}' AS source, type, event, anonymous_id, user_id,
        NULL::VARCHAR AS group_id, NULL::VARCHAR AS previous_id,
        ts AS timestamp, ts AS original_timestamp, NULL::TIMESTAMP AS sent_at,
        $received::TIMESTAMP AS received_at, '{CONTEXT}' AS context, properties, traits
    FROM m
)
SELECT message_id, source, type, event, anonymous_id, user_id, group_id, previous_id,
    timestamp, original_timestamp, sent_at, received_at,
    {_FIELDS},
    context, properties, traits
FROM r ORDER BY part, sid
"""


def pending_events(
    con: duckdb.DuckDBPyConnection, after: int, limit: int
) -> tuple[int, Staged | None]:
    """The events of the steps after step id `after` (at most `limit` steps): the last step id
    they cover and the staged rows (None when there are none).

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
    now = utcnow()
    params = {"after": after, "upto": upto, "lo": int(row[1]), "hi": int(row[2]), "received": now}
    rows = con.sql(_ROWS_SQL, params=params).to_arrow_table()
    return upto, Staged(source=SOURCE, received_at=now, rows=rows)
