"""Tracking plans through the real collector, driven by the official Python SDK: each mode
(flag, block, drop), violations counted by event, property and source, infer and export."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from segment.analytics import Client

from conftest import Server
from touchpath.catalogue import TrackingPlan, export, read_plan

PLAN = {
    "name": "shop",
    "events": {
        "Order Completed": {
            "type": "object",
            "properties": {
                "revenue": {"type": "number"},
                "currency": {"type": "string", "enum": ["EUR", "USD"]},
            },
            "required": ["revenue"],
        }
    },
    "identify": {"type": "object", "properties": {"email": {"type": "string"}}},
}


@pytest.fixture
def sdk(server: Server) -> Iterator[Client]:
    client = Client(server.write_key, host=server.url, sync_mode=True, gzip=True)
    yield client  # sync_mode: nothing to flush


def _setup(server: Server, mode: str) -> None:
    with server.client("editor") as c:
        assert c.put("/api/plans/shop", json=PLAN).status_code == 200
    with server.client("admin") as c:
        r = c.put("/api/plans/assignments/test", json={"plan": "shop", "mode": mode})
        assert r.status_code == 200, r.text


def _send(sdk: Client) -> None:
    sdk.track("u1", "Order Completed", {"revenue": 10, "currency": "EUR"}, message_id="ok")
    sdk.track("u1", "Order Completed", {"revenue": "10", "currency": "GBP", "coupon": "X"},
              message_id="bad")  # fmt: skip
    sdk.track("u1", "Order Completed", {"currency": "USD"}, message_id="missing")
    sdk.track("u1", "Product Viewed", {"sku": 1}, message_id="unplanned")
    sdk.identify("u1", {"email": 5}, message_id="traits")


def _props(server: Server, message_id: str) -> dict[str, object] | None:
    rows = server.store.query("SELECT properties FROM events WHERE message_id = ?", [message_id])
    return json.loads(rows[0][0]) if rows else None


def test_flag_keeps_every_message_and_records_each_violation(server: Server, sdk: Client) -> None:
    _setup(server, "flag")
    _send(sdk)
    assert {_props(server, m) is not None for m in ("ok", "bad", "missing", "unplanned")} == {True}
    rows = server.store.query(
        "SELECT message_id, property, kind, action FROM plan_violations ORDER BY 1, 2"
    )
    assert rows == [
        ("bad", "currency", "not_allowed_value", "kept"),
        ("bad", "revenue", "wrong_type", "kept"),
        ("missing", "revenue", "missing_required", "kept"),
        ("traits", "email", "wrong_type", "kept"),
    ]
    with server.client("viewer") as c:
        by_prop = c.get("/api/plans/violations", params={"by": "property"}).json()
        assert by_prop["total"] == 4
        top = {(g["event"], g["property"]): g for g in by_prop["groups"]}
        assert top[("Order Completed", "revenue")]["violations"] == 2
        assert top[("Order Completed", "revenue")]["kinds"] == ["missing_required", "wrong_type"]
        assert "properties.revenue" in top[("Order Completed", "revenue")]["example"]
        by_source = c.get("/api/plans/violations", params={"by": "source"}).json()
        assert [(g["source"], g["messages"]) for g in by_source["groups"]] == [("test", 3)]


def test_block_sends_the_message_to_rejected_with_the_reason(server: Server, sdk: Client) -> None:
    _setup(server, "block")
    _send(sdk)
    assert _props(server, "ok") is not None and _props(server, "unplanned") is not None
    assert _props(server, "bad") is None and _props(server, "missing") is None
    reasons = dict(server.store.query("SELECT message_id, reason FROM rejected"))
    assert set(reasons) == {"bad", "missing", "traits"}
    assert reasons["missing"] == "plan shop: properties.revenue: required"
    assert "properties.currency: must be one of ['EUR', 'USD']" in reasons["bad"]
    blocked = server.store.query("SELECT DISTINCT action FROM plan_violations")
    assert blocked == [("blocked",)]


def test_drop_takes_out_what_the_plan_does_not_name(server: Server, sdk: Client) -> None:
    _setup(server, "drop")
    _send(sdk)
    assert _props(server, "bad") == {"revenue": "10", "currency": "GBP"}  # coupon dropped
    assert _props(server, "ok") == {"revenue": 10, "currency": "EUR"}
    dropped = server.store.query("SELECT property FROM plan_violations WHERE action = 'dropped'")
    assert dropped == [("coupon",)]


def test_unplanned_events_can_be_violations(server: Server, sdk: Client) -> None:
    with server.client("editor") as c:
        plan = {**PLAN, "unplanned_events": "violation"}
        assert c.put("/api/plans/shop", json=plan).status_code == 200
    with server.client("admin") as c:
        c.put("/api/plans/assignments/test", json={"plan": "shop", "mode": "block"})
    sdk.track("u1", "Product Viewed", {"sku": 1}, message_id="unplanned")
    assert _props(server, "unplanned") is None
    (reason,) = server.store.query("SELECT reason FROM rejected")[0]
    assert reason == "plan shop: event: 'Product Viewed' is not in the plan"


def test_infer_export_import_and_bad_schemas(server: Server, sdk: Client) -> None:
    sdk.track("u1", "Order Completed", {"revenue": 10, "currency": "EUR"})
    sdk.track("u2", "Order Completed", {"revenue": 12.5})
    with server.client("editor") as c:
        r = c.post("/api/plans/infer", json={"name": "seen", "save": True})
        assert r.status_code == 200, r.text
        inferred = r.json()["events"]["Order Completed"]
        assert inferred["properties"] == {"currency": {"type": "string"},
                                          "revenue": {"type": "number"}}  # fmt: skip
        assert inferred["required"] == ["revenue"]
        text = c.get("/api/plans/seen/export", params={"format": "yaml"}).text
        assert read_plan(text) == TrackingPlan.model_validate(c.get("/api/plans/seen").json())
        bad = {"name": "x", "events": {"A": {"type": "nonsense"}}}
        r = c.put("/api/plans/x", json=bad)
        assert r.status_code == 400
        assert r.json()["error"]["problems"][0]["path"] == "events.A"
    with server.client("viewer") as c:
        assert c.put("/api/plans/x", json=PLAN).status_code == 403
    plan = read_plan(json.dumps(PLAN))
    assert read_plan(export(plan, "yaml")) == read_plan(export(plan, "json")) == plan


@pytest.mark.node
def test_node_sdk_messages_are_checked_too(server: Server) -> None:
    from test_sdk_node import NODE_DIR, _node

    plan = {"name": "node", "events": {"Checkout Started": {
        "type": "object", "properties": {"value": {"type": "integer"}}}}}  # fmt: skip
    with server.client("editor") as c:
        assert c.put("/api/plans/node", json=plan).status_code == 200
    with server.client("admin") as c:
        c.put("/api/plans/assignments/test", json={"plan": "node", "mode": "block"})
    proc = subprocess.run(
        [_node(), "send.mjs", server.url, server.write_key],
        cwd=NODE_DIR, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    kinds = {t for (t,) in server.store.query("SELECT type FROM events")}
    assert kinds == {"identify", "page", "screen", "group", "alias"}  # the track was blocked
    (reason,) = server.store.query("SELECT reason FROM rejected")[0]
    assert reason == "plan node: properties.value: must be integer"
