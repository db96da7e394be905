"""The REST API of journeys on a real server, and the published schema of the document."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from touchpath.errors import SpecError
from touchpath.orchestrate.document import load_journey, schema_text

REPO = Path(__file__).resolve().parents[1]

CART = """
name: cart
title: Abandoned cart
entry: {kind: event, event: {event: Cart Viewed}}
re_entry: {mode: per_key, key: cart_id}
goal: {event: {event: Order Completed}, within: 3d}
nodes:
  wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 4h,
               on_event: bought, on_timeout: split, position: {x: 10, y: 20}}
  bought: {kind: exit, reason: bought}
  split: {kind: split, variants: [{name: remind, weight: 80, next: sms}], holdout: 20}
  sms: {kind: send, destination: sms, channel: sms, template: cart-sms}
"""


def wait_for(fn: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_the_journey_lifecycle_over_rest(server) -> None:  # type: ignore[no-untyped-def]
    api = server.client("editor")
    bad = CART.replace("timeout: 4h", "timeout: 4 hours").replace("kind: send", "kind: sned")
    checked = api.post("/api/journeys/validate", json={"yaml": bad}).json()
    assert checked["valid"] is False
    assert {(p["node"], p["path"]) for p in checked["problems"]} == {
        ("wait_order", "nodes.wait_order.timeout"),
        ("sms", "nodes.sms"),
    }
    refused = api.post("/api/journeys", json={"yaml": bad})
    assert refused.status_code == 400
    assert "nodes.wait_order.timeout: not a duration" in refused.json()["error"]["message"]
    saved = api.post("/api/journeys", json={"yaml": CART})
    assert saved.status_code == 201 and saved.json()["version"] == 1
    # JSON documents are accepted too, and saved as a new version.
    as_json = load_journey(CART).model_dump(mode="json", exclude_none=True)
    assert api.post("/api/journeys", json=as_json).json()["version"] == 2
    published = api.post("/api/journeys/cart/publish", json={"version": 1}).json()
    assert published == {"name": "cart", "version": 1, "status": "live", "entered": 0, "moved": 0}

    auth = (server.write_key, "")
    for user, cart in (("u1", "c1"), ("u2", "c2")):
        r = api.post(
            "/v1/track",
            auth=auth,
            json={"userId": user, "event": "Cart Viewed", "properties": {"cart_id": cart}},
        )
        assert r.status_code == 200
    api.post("/v1/track", auth=auth, json={"userId": "u2", "event": "Order Completed"})

    def counts() -> dict[str, Any]:
        c = api.get("/api/journeys/cart/counts").json()
        return c if c["nodes"].get("bought", {}).get("exited") == 1 else {}

    c = wait_for(counts)
    assert c["entered"] == 2 and c["converted"] == 1
    assert c["nodes"]["wait_order"] == {"entered": 2, "waiting": 1, "converted": 1, "exited": 0}

    canvas = api.get("/api/journeys/cart/canvas").json()
    assert (canvas["version"], canvas["status"], canvas["start"]) == (1, "live", "wait_order")
    nodes = {n["id"]: n for n in canvas["nodes"]}
    assert nodes["wait_order"]["position"] == {"x": 10.0, "y": 20.0}
    assert nodes["wait_order"]["config"]["timeout"] == 14400
    assert nodes["sms"]["kind"] == "send" and nodes["sms"]["problems"] == []
    edges = {e["id"]: e for e in canvas["edges"]}
    assert edges["wait_order:on_event"]["target"] == "bought"
    assert edges["wait_order:on_event"]["count"] == 1
    assert edges["split:holdout"]["target"] is None if "split:holdout" in edges else True

    people = api.get("/api/journeys/cart/people", params={"node": "wait_order"}).json()
    assert [p["entry_key"] for p in people] == ["c1"]

    detail = api.get("/api/journeys/cart").json()
    assert detail["live_version"] == 1 and detail["latest_version"] == 2
    assert detail["definition"]["nodes"]["sms"]["template"] == "cart-sms"

    dry = api.post("/api/journeys/cart/dry-run", json={"user_id": "u1"}).json()
    assert [s["node"] for s in dry["entries"][0]["steps"]][:2] == ["@entry", "wait_order"]
    sent = api.post("/api/journeys/cart/test-send", json={"user_id": "u1", "node": "sms"}).json()
    assert sent["queued"] is True

    assert api.post("/api/journeys/cart/pause").json()["status"] == "paused"
    assert api.post("/api/journeys/cart/pause").status_code == 400
    assert api.post("/api/journeys/cart/resume").json()["status"] == "live"
    entered = api.post(
        "/api/journeys/cart/enter", json={"user_id": "u9", "properties": {"cart_id": "c9"}}
    )
    assert entered.json()["entered"] is True
    assert api.post("/api/journeys/cart/archive").json()["status"] == "archived"
    listed = api.get("/api/journeys").json()
    assert [(j["name"], j["status"], j["entered"]) for j in listed] == [("cart", "archived", 3)]
    assert api.get("/api/journeys/nope").status_code == 404
    assert api.get("/api/journeys/cart", params={"version": 9}).status_code == 404
    assert api.post("/api/journeys/cart/test-send", json={"node": "sms"}).status_code == 400
    schema = api.get("/api/journeys/schema").json()
    assert schema["$id"].endswith("journey.schema.json")
    viewer = server.client("viewer")
    assert viewer.get("/api/journeys/cart/canvas").status_code == 200
    assert viewer.post("/api/journeys/cart/pause").status_code == 403
    assert httpx.get(f"{server.url}/api/journeys").status_code == 401


def test_published_schema_matches_the_model() -> None:
    published = REPO / "schemas" / "journey.schema.json"
    assert published.read_text() == schema_text(), (
        "schemas/journey.schema.json drifted from the model; regenerate it with "
        "`touchpath journeys schema --out schemas/journey.schema.json`"
    )
    schema = json.loads(published.read_text())
    (kinds,) = schema["properties"]["nodes"]["patternProperties"].values()
    assert set(kinds["discriminator"]["mapping"]) == {
        "wait",
        "wait_until",
        "wait_for_event",
        "branch",
        "split",
        "send",
        "webhook",
        "update_trait",
        "exit",
    }


def test_validation_errors_name_the_path() -> None:
    cases = {
        "nodes: {w: {kind: wait_for_event, event: {event: A}}}": "nodes.w.timeout: required",
        "nodes: {w: {kind: wait, duration: 1h, next: x}}": "nodes.w.next: no node 'x'",
        "nodes: {w: {kind: wiat}}": "nodes.w: unknown kind 'wiat'",
        "nodes: {w: {kind: send, destination: d}}": "nodes.w.template: required",
        "nodes: {a: {kind: wait, duration: 1h, next: b}, b: {kind: wait, duration: 1h, next: a}}": (
            "nodes.b: leads back to 'a'"
        ),
        "nodes: {a: {kind: exit}, b: {kind: exit}}": "nodes.b: no node leads here",
        "re_entry: {mode: per_key}\nnodes: {a: {kind: exit}}": "re_entry.key: required",
        "nodes: {a: {kind: wait_until, at: '9am'}}": "nodes.a.at: not a time of day: '9am'",
    }
    for body, message in cases.items():
        try:
            load_journey("name: j\nentry: {kind: api}\n" + body)
        except SpecError as exc:
            assert message in str(exc), (body, str(exc))
        else:
            raise AssertionError(f"accepted: {body}")
