"""The web app's read routes (/api/explore): summary, events, trend, lookups, builder previews."""

from __future__ import annotations

import time
from typing import Any

import httpx
from tests.conftest import Server


def _send(server: Server, batch: list[dict[str, Any]]) -> None:
    r = httpx.post(f"{server.url}/v1/batch", json={"batch": batch}, auth=(server.write_key, ""))
    assert r.status_code == 200, r.text
    # Identity resolves in a write of its own after the batch commits: wait for the profiles.
    deadline = time.monotonic() + 10
    while server.store.query("SELECT count(*) FROM profiles")[0][0] < 3:
        assert time.monotonic() < deadline, "identity did not resolve the batch"
        time.sleep(0.05)


BATCH = [
    {"type": "identify", "userId": "u1", "traits": {"plan": "pro", "email": "ann@example.com"}},
    {"type": "track", "event": "Order Completed", "userId": "u1",
     "properties": {"revenue": 120, "channel": "store"}, "timestamp": "2026-10-02T10:00:00Z"},
    {"type": "track", "event": "Order Completed", "userId": "u2",
     "properties": {"revenue": 30}, "timestamp": "2026-10-03T10:00:00Z"},
    {"type": "track", "event": "Product Viewed", "anonymousId": "a9",
     "properties": {"sku": "X1"}, "timestamp": "2026-10-03T11:00:00Z"},
]  # fmt: skip


def test_explore_routes(server: Server) -> None:
    _send(server, BATCH)
    with server.client() as c:
        s = c.get("/api/explore/summary").json()
        assert s["events"] == 4 and s["day_events"] >= 1
        big = {"match": {"event": "Order Completed",
                         "where": [{"property": "revenue", "op": "gt", "value": 100}]}}  # fmt: skip
        page = c.post("/api/explore/events", json=big).json()
        assert [e["user_id"] for e in page["events"]] == ["u1"]
        assert page["events"][0]["properties"]["revenue"] == 120
        t = c.post(
            "/api/explore/trend",
            json={"match": {"event": "Order Completed"}, "breakdown": "channel"},
        ).json()
        assert t["events"] == 2 and t["people"] == 2
        assert {s["name"]: s["total"] for s in t["series"]} == {"store": 1, "direct": 1}
        dated = {"range": {"start": "2026-10-03T00:00:00Z", "end": "2026-10-04T00:00:00Z"}}
        assert c.post("/api/explore/trend", json=dated).json()["events"] == 2
        names = c.get("/api/explore/names", params={"q": "order"}).json()
        assert names == [{"name": "Order Completed", "count": 2}]
        keys = {k["key"] for k in c.get("/api/explore/properties").json()}
        assert {"revenue", "sku"} <= keys
        vals = c.get("/api/explore/values", params={"property": "revenue"}).json()
        assert {v["name"] for v in vals} == {"120", "30"}
        hits = c.get("/api/explore/people", params={"q": "U1"}).json()
        assert [h["identifiers"][0]["value"] for h in hits] == ["u1"]
        bad = c.post(
            "/api/explore/events", json={"match": {"where": [{"property": "x", "op": "?"}]}}
        )
        assert bad.status_code == 422 and "op" in bad.text


def test_builder_previews(server: Server) -> None:
    _send(server, BATCH)
    with server.client() as c:
        cond = {"kind": "performed", "event": {"event": "Order Completed",
                "where": [{"property": "revenue", "op": "gte", "value": 100}]}}  # fmt: skip
        p = c.post("/api/explore/audience-preview", json={"condition": cond}).json()
        assert p["size"] == 1 and p["sample"][0]["identifiers"][0]["value"] == "u1"
        either = {"kind": "or", "any": [cond, {"kind": "trait", "trait": "plan", "value": "pro"}]}
        p = c.post("/api/explore/audience-preview", json={"condition": either}).json()
        assert p["size"] == 1
        none = c.post("/api/explore/audience-preview", json={"condition": {"kind": "not",
                      "cond": cond}}).json()  # fmt: skip
        assert none["size"] == none["profiles"] - 1
        nobody = {"kind": "performed", "event": {"event": "Never Sent"}}
        p = c.post("/api/explore/audience-preview", json={"condition": nobody}).json()
        assert (p["size"], p["sample"]) == (0, []) and p["profiles"] > 0
        bad = c.post("/api/explore/audience-preview", json={"condition": {"kind": "performed"}})
        assert bad.status_code == 422 and "event" in bad.text
        t = c.post(
            "/api/explore/trait-preview",
            json={"name": "revenue", "op": "sum", "property": "revenue",
                  "event": {"event": "Order Completed"}},
        ).json()  # fmt: skip
        assert t["profiles"] == 2 and {v["value"] for v in t["sample"]} == {120, 30}
        assert c.get("/api/explore/trait-names").json()[0]["name"] in ("plan", "email")


def test_seen_and_channels_count_peoples_own_touchpoints(server: Server) -> None:
    """Audience Entered (written by Touchpath, now) neither makes u1 and u2 "seen today" on
    People nor fills Home's day with channel `direct`: both read the people's own events."""
    _send(server, [
        {"type": "identify", "userId": "u1", "traits": {"email": "ann@example.com"},
         "timestamp": "2026-10-01T09:00:00Z"},
        {"type": "track", "event": "Order Completed", "userId": "u1",
         "properties": {"channel": "email"}, "timestamp": "2026-10-02T10:00:00Z"},
        {"type": "track", "event": "Order Completed", "userId": "u2",
         "properties": {"channel": "store"}, "timestamp": "2026-10-03T10:00:00Z"},
        {"type": "track", "event": "Product Viewed", "anonymousId": "a9",
         "timestamp": "2026-09-30T11:00:00Z"},
    ])  # fmt: skip
    with server.client("editor") as c:
        buyers = {"condition": {"kind": "performed", "event": {"event": "Order Completed"}}}
        assert c.put("/api/audiences/buyers", json=buyers).status_code == 200
        deadline = time.monotonic() + 10
        internal = "SELECT count(*) FROM events WHERE source LIKE 'touchpath.%'"
        while server.store.query(internal)[0][0] < 2:
            assert time.monotonic() < deadline, "no Audience Entered events"
            time.sleep(0.05)
        s = c.get("/api/explore/summary").json()
        assert s["day"] == "2026-10-03" and not s["day_is_today"], s
        assert s["day_by_channel"] == [{"name": "store", "count": 1}]
        assert (s["day_events"], s["day_people"]) == (1, 1)
        assert s["events"] == 6  # all-time: every event, Touchpath's own included
        everyone = c.get("/api/explore/people").json()
        seen = {h["identifiers"][0]["value"]: h["last_seen"] for h in everyone}
        assert seen == {"u2": "2026-10-03T10:00:00", "u1": "2026-10-02T10:00:00",
                        "a9": "2026-09-30T11:00:00"}  # fmt: skip
        assert [h["identifiers"][0]["value"] for h in everyone] == ["u2", "u1", "a9"]
        (ann,) = c.get("/api/explore/people", params={"q": "U1"}).json()
        assert ann["last_seen"] == "2026-10-02T10:00:00"
        assert len(c.get("/api/explore/people", params={"limit": 2}).json()) == 2
