"""The writer's channel memo (`touchpath.store.ingest.Channels`) gives every message the channel
the rule table's CASE gives it inline, whatever the fields; it stays bounded; it never outlives
the rules it was made from; and the writer's kept statement reads each batch, not the first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchpath.events import channels
from touchpath.events.channels import Rule, channel_case
from touchpath.events.message import stage_messages
from touchpath.store import Store
from touchpath.store.ingest import (
    CHANNEL_KEY,
    NORMALISE_SQL,
    Channels,
    Normaliser,
    staged_table,
)

ABSENT = object()


def _maybe(*values: object) -> st.SearchStrategy[object]:
    return st.sampled_from([ABSENT, None, *values])


# Values near the rules' edges: case, schemes, ports, the page's own host, non-ASCII letters.
SOURCES = _maybe("google", "Facebook", "IG", "bing", "acme", "", "ÉCOLE")
MEDIA = _maybe("cpc", "CPC", "paid_social", "email", "sms", "Push", "organic", "display", "bio")
URLS = _maybe(
    "https://www.google.co.uk/search?q=x", "https://shop.test/p", "http://SHOP.test:8080/",
    "t.co/abc", "https://l.instagram.com/", "news.ycombinator.com", "", "mailto:x@y.z",
    "https://blog.example.org/post#top", "HTTPS://Ünïcode.example/",
)  # fmt: skip
PROPERTY_CHANNELS = _maybe("store", "Email", "carrier pigeon", "", "sms")
LIBRARIES = _maybe("analytics.js", "analytics-ios", "POS", "store", "")
DEVICES = _maybe("iOS", "android", "desktop")
APPS = _maybe({"name": "Shop"}, {}, "x")
EVENTS = st.sampled_from(["Product Viewed", "Email Opened", "SMS Sent", "Push Opened",
                          "Ticket Created", "Chat Started", "Call Ended", "email opened"])  # fmt: skip


def _put(target: dict[str, Any], path: str, value: object) -> None:
    if value is ABSENT:
        return
    *parents, last = path.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = value


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["track", "track", "page", "identify"]))
    msg: dict[str, Any] = {"type": kind, "userId": "u"}
    if kind == "track":
        msg["event"] = draw(EVENTS)
    elif kind == "page":
        msg["name"] = draw(EVENTS)
    _put(msg, "context.campaign.source", draw(SOURCES))
    _put(msg, "context.campaign.medium", draw(MEDIA))
    _put(msg, "context.page.referrer", draw(URLS))
    _put(msg, "context.page.url", draw(URLS))
    _put(msg, "properties.referrer", draw(URLS))
    _put(msg, "properties.url", draw(URLS))
    _put(msg, "properties.channel", draw(PROPERTY_CHANNELS))
    _put(msg, "context.library.name", draw(LIBRARIES))
    _put(msg, "context.device.type", draw(DEVICES))
    _put(msg, "context.app", draw(APPS))
    return msg


def _stage(batch: list[dict[str, Any]], first: int) -> Any:
    raws = [orjson.dumps({**m, "messageId": f"m{first + i}"}) for i, m in enumerate(batch)]
    return stage_messages(raws, source="src", received_at=datetime(2026, 1, 1))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(messages(), min_size=1, max_size=25), min_size=1, max_size=4))
def test_memo_gives_the_channel_of_the_inline_rules(
    tmp_path: Path, batches: list[list[dict[str, Any]]]
) -> None:
    # Several commits on one store: later ones find some of their field tuples in the memo.
    with Store(tmp_path / f"s{id(batches)}.duckdb") as store:
        n = 0
        for batch in batches:
            assert store.ingest(_stage(batch, n)).result(30).accepted == len(batch)
            n += len(batch)
        # The rules over the stored columns, as any query over the log would apply them.
        rows = store.query(
            f"SELECT message_id, channel, {channel_case().sql('duckdb')} FROM events"
        )
    assert len(rows) == n
    for message_id, channel, inline in rows:
        assert channel == inline, message_id


def test_memo_stays_bounded(store: Store) -> None:
    msgs = [{"type": "track", "userId": "u", "event": f"Email {i}"} for i in range(12)]
    msgs += [{"type": "track", "userId": "u", "event": f"Order {i}"} for i in range(12)]
    expected = ["email"] * 12 + ["direct"] * 12
    memo = Channels(limit=5)
    with store.reading() as con:
        con.register("staged", staged_table([_stage(msgs, 0)])[0])
        rows = con.sql(NORMALISE_SQL).to_arrow_table().sort_by("ord")  # with the fields
        assert set(CHANNEL_KEY) <= set(rows.column_names)
        for start in range(0, 24, 4):  # 4 new tuples each time: the memo starts afresh
            assert memo(con, rows.slice(start, 4)).to_pylist() == expected[start : start + 4]
            assert 0 < len(memo) <= 5
        assert memo(con, rows).to_pylist() == expected
        assert len(memo) <= 5


def test_a_rule_change_reaches_the_next_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    msg = [{"type": "track", "userId": "u", "event": "Order Completed", "messageId": "m0"}]
    with Store(tmp_path / "a.duckdb") as before:
        before.ingest(_stage(msg, 0)).result(30)
        assert before.query("SELECT channel FROM events") == [("direct",)]
    monkeypatch.setattr(
        channels, "RULES", (Rule("store", "event", "prefix", ("Order ",)), *channels.RULES)
    )
    with Store(tmp_path / "b.duckdb") as after:
        after.ingest(_stage(msg, 0)).result(30)
        assert after.query("SELECT channel FROM events") == [("store",)]


def test_each_batch_is_read_not_the_first(store: Store) -> None:
    normaliser = Normaliser(store.cursor())
    for first, size in ((0, 3), (3, 3), (6, 1)):
        batch = [{"type": "track", "userId": f"u{first + i}", "event": "E"} for i in range(size)]
        table, _ = staged_table([_stage(batch, first)])
        rows = normaliser(table)
        assert rows.column("user_id").to_pylist() == [f"u{first + i}" for i in range(size)]
        assert rows.column("message_id").to_pylist() == [f"m{first + i}" for i in range(size)]
