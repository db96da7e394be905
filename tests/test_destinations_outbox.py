"""The outbox seam: enqueue inside the writer's transaction, idempotent by key, all or nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from touchpath.destinations import OutboxMessage, enqueue, journey_key, message_id
from touchpath.destinations.outbox import get_message, list_messages, replay
from touchpath.errors import BadRequest
from touchpath.store import Store
from touchpath.store.migrations import discover

NOW = datetime(2026, 3, 1, 9, 0)


def _send(key: str, **kw: object) -> OutboxMessage:
    base: dict[str, object] = {
        "idempotency_key": key,
        "destination": "hooks",
        "channel": "webhook",
        "profile_id": "p_1",
        "content": {"payload": {"hello": "{{ traits.first_name }}"}},
    }
    base.update(kw)
    return OutboxMessage(**base)  # type: ignore[arg-type]


def test_enqueue_is_idempotent_by_key(store: Store) -> None:
    key = journey_key("welcome", 1, "p_1", "e1", "send", 0)
    first = store.write_sync(lambda con: enqueue(con, [_send(key), _send("other")], now=NOW))
    again = store.write_sync(lambda con: enqueue(con, [_send(key), _send(key)], now=NOW))
    assert (first, again) == (2, 0)
    rows = store.query("SELECT id, state, attempts, next_attempt_at FROM outbox ORDER BY id")
    assert sorted(r[0] for r in rows) == sorted([message_id(key), message_id("other")])
    assert {(r[1], r[2], r[3]) for r in rows} == {("pending", 0, NOW)}


def test_repeat_within_one_call_keeps_the_first(store: Store) -> None:
    n = store.write_sync(
        lambda con: enqueue(
            con, [_send("k", destination="first"), _send("k", destination="second")], now=NOW
        )
    )
    assert n == 1
    with store.reading() as con:
        assert get_message(con, "k")["destination"] == "first"


def test_enqueue_commits_with_the_callers_transaction(store: Store) -> None:
    def move_and_fail(con: duckdb.DuckDBPyConnection) -> None:
        enqueue(con, [_send("rolled-back")], now=NOW)
        raise RuntimeError("the state change failed")

    with pytest.raises(RuntimeError):
        store.write_sync(move_and_fail)
    assert store.query("SELECT count(*) FROM outbox") == [(0,)]


def test_fields_are_kept_for_the_dispatcher(store: Store) -> None:
    msg = _send(
        "k2",
        channel="email",
        recipient="ada@example.com",
        topic="marketing",
        template="welcome",
        content={"subject": "Hi {{ traits.first_name }}"},
        context={"event": "Signed Up", "properties": {"plan": "pro"}},
        journey="welcome",
        journey_version=2,
        node="send_email",
        entry_key="e1",
        send_after=datetime(2026, 3, 2),
    )
    store.write_sync(lambda con: enqueue(con, [msg], now=NOW))
    with store.reading() as con:
        row = get_message(con, message_id("k2"))
        listed = list_messages(con, journey="welcome", state="pending")
    assert row["content"] == {"subject": "Hi {{ traits.first_name }}"}
    assert row["context"]["properties"] == {"plan": "pro"}
    assert (row["journey"], row["journey_version"], row["node"], row["entry_key"]) == (
        "welcome",
        2,
        "send_email",
        "e1",
    )
    assert row["next_attempt_at"] == datetime(2026, 3, 2)
    assert row["attempts_log"] == []
    assert [r["id"] for r in listed] == [message_id("k2")]


@pytest.mark.parametrize(
    ("kw", "where"),
    [
        ({"channel": "fax"}, "messages[0].channel"),
        ({"idempotency_key": ""}, "messages[0].idempotency_key"),
        ({"destination": ""}, "messages[0].destination"),
        ({"content": None}, "messages[0]: a template or content"),
    ],
)
def test_bad_messages_say_what_and_where(store: Store, kw: dict[str, object], where: str) -> None:
    with pytest.raises(BadRequest, match=where.replace("[", r"\[").replace("]", r"\]")):
        store.write_sync(lambda con: enqueue(con, [_send("k", **kw)], now=NOW))


def test_migration_202_keeps_every_message_and_its_state(tmp_path: Path) -> None:
    """A store made before the outbox was split (one wide table) opens with every message, its
    content, key and delivery state; the unfinished ones are in the queue, the rest done."""
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP)")  # fmt: skip
    for m in discover():
        if m.version < 202:
            con.execute(m.sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [m.version, m.name, NOW])
    old = [  # id, state, attempts, lease_until, last_error, provider_id, done_at
        ("pending", 0, None, None, None, None),
        ("sending", 1, NOW, None, None, None),
        ("delivered", 1, None, None, None, NOW),
        ("sent", 1, None, None, "SM1", NOW),
        ("dead", 5, None, "HTTP 500", None, NOW),
    ]
    for i, (state, attempts, lease, error, provider, done) in enumerate(old):
        con.execute(
            "INSERT INTO outbox (id, idempotency_key, destination, channel, profile_id, content, "
            "context, render, state, attempts, next_attempt_at, lease_until, last_error, "
            "provider_id, created_at, updated_at, done_at, purpose) "
            "VALUES (?, ?, 'hooks', 'webhook', 'p_1', ?, '{}', true, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "'message')",
            [message_id(f"old{i}"), f"old{i}", f'{{"payload": {{"i": {i}}}}}', state, attempts,
             NOW, lease, error, provider, NOW + timedelta(seconds=i), NOW, done],
        )  # fmt: skip
    con.close()
    with Store(db) as store:
        got = store.query(
            "SELECT idempotency_key, state, attempts, last_error, provider_id, content ->> "
            "'$.payload.i' FROM outbox ORDER BY created_at"
        )
        assert got == [(f"old{i}", s, a, e, p, str(i)) for i, (s, a, _, e, p, _) in enumerate(old)]
        assert store.query("SELECT state FROM outbox_queue ORDER BY seq") == [
            ("pending",),
            ("sending",),
        ]
        assert store.query("SELECT count(*) FROM outbox_done") == [(3,)]
        # the keys still dedupe; a new message comes after the old ones
        again = [_send("old0"), _send("new")]
        assert store.write_sync(lambda con: enqueue(con, again, now=NOW)) == 1
        assert store.query("SELECT seq > 5 FROM outbox WHERE idempotency_key = 'new'") == [(True,)]
        # the dead letter replays
        assert store.write_sync(lambda con: replay(con, NOW, ["old4"])) == 1
        assert store.query("SELECT state, attempts FROM outbox WHERE idempotency_key = 'old4'") == [
            ("pending", 0)
        ]
