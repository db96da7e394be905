"""Event forwarding and audience sync: filtered and mapped events reach a webhook in Segment's
batch shape through the outbox, and audience changes as list updates."""

from __future__ import annotations

import json

from tests.test_destinations_support import T0, Env

from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import api as dapi
from touchpath.destinations.component import ForwardingComponent
from touchpath.events.message import stage_messages
from touchpath.profiles import audiences as aud
from touchpath.profiles.specs import Audience

pytest_plugins = ("tests.test_destinations_support",)


def _send(env: Env, source: str, *msgs: dict[str, object]) -> None:
    raws = [json.dumps(m).encode() for m in msgs]
    env.tp.store.ingest(stage_messages(raws, source=source, received_at=T0)).result()
    env.tp.store.wait_idle()


def test_forwarding_filters_maps_and_batches(env: Env, receiver: HttpReceiver) -> None:
    store = env.tp.store
    web = store.create_source("web")
    store.create_source("pos")
    secret = env.put("crm", {"kind": "webhook", "url": receiver.url + "/hooks/crm"}).new_secret
    receiver.secrets = [secret or ""]
    rule = {
        "destination": "crm",
        "sources": ["web"],
        "match": [{"event": "Order Completed", "where": [{"property": "revenue", "op": "gte", "value": 50}]}],
        "mapping": {"rename": {"properties.revenue": "properties.value"}, "drop": ["context.ip"],
                    "set": {"properties.tier": "{{ 'big' if event.properties.value > 100 else 'small' }}"}},
    }  # fmt: skip
    assert dapi.put_forwarding(store, "orders", rule).destination == "crm"
    order = {
        "type": "track",
        "event": "Order Completed",
        "userId": "u1",
        "context": {"ip": "1.2.3.4"},
    }
    _send(env, web.id,
          {**order, "messageId": "a", "properties": {"revenue": 120}},
          {**order, "messageId": "b", "properties": {"revenue": 10}},   # below the condition
          {**order, "messageId": "c", "event": "Product Viewed", "properties": {"revenue": 99}},
          {**order, "messageId": "d", "properties": {"revenue": 60}})  # fmt: skip
    _send(env, store.source("pos").id, {**order, "messageId": "e", "properties": {"revenue": 500}})
    env.dispatcher.run_until_idle()
    (got,) = receiver.of("webhook")
    assert got.verified is True
    batch = got.data["batch"]
    assert [e["messageId"] for e in batch] == ["a", "d"]
    assert batch[0]["properties"] == {"value": 120, "tier": "big"}
    assert batch[1]["properties"] == {"value": 60, "tier": "small"}
    assert "ip" not in batch[0]["context"] and batch[0]["userId"] == "u1"
    # Forwarded events are data: no message events are written for them.
    assert store.query("SELECT count(*) FROM events WHERE source = 'touchpath.destinations'") == [
        (0,)
    ]
    assert dapi.summary(store) == [{"destination": "crm", "state": "delivered", "messages": 1}]


def test_forwarding_resumes_after_a_restart_without_repeats(
    env: Env, receiver: HttpReceiver
) -> None:
    store = env.tp.store
    env.put("crm", {"kind": "webhook", "url": receiver.url + "/hooks/crm"})
    dapi.put_forwarding(store, "all", {"destination": "crm"})
    _send(env, "s", {"type": "track", "event": "A", "userId": "u", "messageId": "1"})
    # Events committed while no forwarding listener runs are caught up on start, once.
    store._listeners.clear()
    _send(env, "s", {"type": "track", "event": "B", "userId": "u", "messageId": "2"})
    ForwardingComponent().start(env.tp)
    ForwardingComponent().start(env.tp)
    _send(env, "s", {"type": "track", "event": "C", "userId": "u", "messageId": "3"})
    env.dispatcher.run_until_idle()
    batch = [e for r in receiver.of("webhook") for e in r.data["batch"]]
    assert sorted(e["event"] for e in batch) == ["A", "B", "C"]
    a = next(e for e in batch if e["event"] == "A")  # built by the database, Segment's shape
    assert (a["type"], a["messageId"], a["userId"]) == ("track", "1", "u")
    assert a["context"]["touchpath"]["source"] == "s" and a["timestamp"].endswith("Z")


def test_audience_sync_as_list_updates(env: Env, receiver: HttpReceiver) -> None:
    store = env.tp.store
    env.put("ads", {"kind": "webhook", "url": receiver.url + "/hooks/ads"})
    dapi.put_forwarding(
        store, "vip-sync", {"destination": "ads", "format": "audience", "audiences": ["vip"]}
    )
    spec = Audience.model_validate(
        {
            "name": "vip",
            "condition": {"kind": "trait", "trait": "plan", "op": "eq", "value": "gold"},
        }
    )
    store.write_sync(lambda con: aud.define_audience(con, spec, T0))
    _send(env, "s", {"type": "identify", "userId": "u1", "traits": {"plan": "gold"}},
          {"type": "identify", "userId": "u2", "traits": {"plan": "gold"}})  # fmt: skip
    from touchpath.profiles import refresh

    refresh(store)
    store.wait_idle()
    env.dispatcher.run_until_idle()
    updates = [r.data for r in receiver.of("webhook")]
    assert updates and updates[0]["type"] == "audience.update" and updates[0]["audience"] == "vip"
    added = sorted(p["user_id"] for u in updates for p in u["add"])
    assert added == ["u1", "u2"]
