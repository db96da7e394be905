"""The writer's SQL checks give the same verdict as `check_message`, the Python statement of the
Segment spec rules, on any message: valid ones are stored, every other one is rejected with the
reason check_message gives (or the time check's)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpath.events.message import MESSAGE_TYPES, check_message, decode_head, stage_messages
from touchpath.store import Store
from touchpath.store.ingest import normalise, staged_table

ABSENT = object()
VALUES = st.sampled_from([ABSENT, None, "", "x1", "a b", 0, 12, -7, 1.5, 2e3, True, False,
                          {"id": 1}, [1, 2], "{not an object}", "true"])  # fmt: skip
TYPES = st.sampled_from([ABSENT, None, "", 5, "purchase", *sorted(MESSAGE_TYPES)])
TIMES = st.sampled_from([ABSENT, "2026-11-23T10:00:00.000Z", "2026-11-23T10:00:00+01:00",
                         "yesterday", "2024-13-01"])  # fmt: skip
ROUTES = st.sampled_from([None, None, None, "track", "identify", "group", "alias", "page"])
BAD_TIMES = {"yesterday", "2024-13-01"}

FIELDS = ("userId", "anonymousId", "event", "messageId", "groupId", "previousId")


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = {}
    kind = draw(TYPES)
    if kind is not ABSENT:
        msg["type"] = kind
    for name in FIELDS:
        value = draw(VALUES)
        if value is not ABSENT:
            msg[name] = value
    for name in ("timestamp", "sentAt"):
        value = draw(TIMES)
        if value is not ABSENT:
            msg[name] = value
    msg["properties"] = {"n": draw(st.integers(0, 3))}
    return msg


def expected(raw: bytes, route: str | None) -> str | None:
    """check_message's reason, then the time checks' (the two bad times are all DuckDB rejects)."""
    reason = check_message(decode_head(raw), route)
    if reason is not None:
        return reason
    msg = orjson.loads(raw)
    if msg.get("timestamp") in BAD_TIMES:
        return f"timestamp: not an ISO-8601 time: {msg['timestamp']!r}"
    if msg.get("sentAt") in BAD_TIMES:
        return f"sentAt: not an ISO-8601 time: {msg['sentAt']!r}"
    return None


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(messages(), min_size=1, max_size=30), route=ROUTES)
def test_sql_verdict_equals_check_message(
    store: Store, batch: list[dict[str, Any]], route: str | None
) -> None:
    raws = [orjson.dumps(m) for m in batch] + [b"7", b'"text"', b"[1]"]
    staged = stage_messages(raws, source="s", received_at=datetime(2026, 11, 23), route_type=route)
    table, _ = staged_table([staged])
    with store.reading() as con:
        result = normalise(con, table)
    got = result.column("reason").to_pylist()
    want = [expected(r, route) for r in raws[: len(batch)]] + ["message: not a JSON object"] * 3
    assert got == want
    assert result.column("valid").to_pylist() == [w is None for w in want]


def test_a_valid_message_keeps_every_field(store: Store, tmp_path: Path) -> None:
    msg = {
        "type": "track", "event": "Order Completed", "userId": 42, "anonymousId": "a-1",
        "messageId": "m-1", "timestamp": "2026-11-23T10:00:00Z", "sentAt": "2026-11-23T10:00:05Z",
        "properties": {"revenue": 9.5, "note": None}, "context": {"traits": {"email": "x@y.z"}},
    }  # fmt: skip
    staged = stage_messages(
        [orjson.dumps(msg)], source="s", received_at=datetime(2026, 11, 23, 10, 0, 10)
    )
    table, _ = staged_table([staged])
    with store.reading() as con:
        row = normalise(con, table).to_pylist()[0]
    assert row["valid"] and row["reason"] is None and row["given_id"]
    assert (row["type"], row["event"], row["user_id"], row["anonymous_id"], row["message_id"]) == (
        "track", "Order Completed", "42", "a-1", "m-1")  # fmt: skip
    assert row["timestamp"] == datetime(2026, 11, 23, 10, 0, 5)  # receivedAt - (sentAt - timestamp)
    assert orjson.loads(row["properties"]) == {"revenue": 9.5, "note": None}
    assert orjson.loads(row["traits"]) == {"email": "x@y.z"}  # context.traits when no traits
