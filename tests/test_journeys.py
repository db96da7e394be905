"""Every node kind, on a real store, with the clock in the test's hands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from journeys_helpers import World
from touchpath.events.message import Staged
from touchpath.orchestrate.emit import SOURCE
from touchpath.profiles.specs import Audience, ComputedTrait
from touchpath.store import ingest, utcnow
from touchpath.store.ingest import EVENT_COLUMNS


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def test_wait_then_send_then_exit_with_the_journey_events(world: World) -> None:
    world.publish(
        """
        name: welcome
        entry: {kind: event, event: {event: Signed Up}}
        nodes:
          pause: {kind: wait, duration: 1h, next: hello}
          hello: {kind: send, destination: mail, channel: email, template: welcome}
        """
    )
    world.track("u1", "Signed Up", plan="pro")
    assert world.where("u1") == ("pause", "wait", None)
    assert world.later(minutes=59) == 0
    assert world.where("u1") == ("pause", "wait", None)
    world.later(minutes=1)
    assert world.where("u1") == ("hello", "done", "completed")
    assert world.path("u1") == ["@entry", "pause", "hello:queued", "@exit:completed"]
    entered = world.events("Journey Entered", "u1")
    assert [e["properties"]["journey"] for e in entered] == ["welcome"]
    assert entered[0]["source"] == "touchpath.journeys"
    steps = world.events("Journey Step Reached", "u1")
    assert [(s["properties"]["node"], s["properties"]["kind"]) for s in steps] == [
        ("pause", "wait"),
        ("hello", "send"),
    ]
    assert str(steps[1]["timestamp"]) == "2026-03-02 10:00:00"
    (exited,) = world.events("Journey Exited", "u1")
    assert exited["properties"]["reason"] == "completed"
    assert exited["properties"]["node"] == "hello"
    (detail,) = world.store.query("SELECT detail FROM journey_steps WHERE node = 'hello'")[0]
    key = (
        f"journey:welcome:v1:{world.profile('u1')}:{entered[0]['properties']['entry_key']}:hello:2"
    )
    assert json.loads(detail)["idempotency_key"] == key
    # The send is in the destinations' outbox, written with the step.
    assert world.store.query_dicts(
        "SELECT idempotency_key, destination, channel, template, journey, journey_version, node, "
        "state, context ->> '$.properties.plan' AS plan FROM outbox"
    ) == [
        {
            "idempotency_key": key,
            "destination": "mail",
            "channel": "email",
            "template": "welcome",
            "journey": "welcome",
            "journey_version": 1,
            "node": "hello",
            "state": "pending",
            "plan": "pro",
        }
    ]


def test_wait_for_event_has_a_branch_for_the_event_and_one_for_the_timeout(world: World) -> None:
    world.publish(
        """
        name: cart
        entry: {kind: event, event: {event: Cart Viewed}}
        nodes:
          wait_order:
            kind: wait_for_event
            event: {event: Order Completed, where: [{property: revenue, op: gt, value: 10}]}
            timeout: 4h
            on_event: thanks
            on_timeout: remind
          thanks: {kind: exit, reason: bought}
          remind: {kind: send, destination: sms, channel: sms, template: cart}
        """
    )
    world.track("buyer", "Cart Viewed")
    world.track("small", "Cart Viewed")
    world.track("idle", "Cart Viewed")
    world.later(hours=1)
    world.track("buyer", "Order Completed", revenue=50)
    world.track("small", "Order Completed", revenue=5)  # below the condition: still waiting
    assert world.where("buyer") == ("thanks", "done", "bought")
    assert world.where("small") == ("wait_order", "listen", None)
    world.later(hours=3)
    assert world.where("small") == ("remind", "done", "completed")
    assert world.where("idle") == ("remind", "done", "completed")
    assert world.path("buyer") == ["@entry", "wait_order", "thanks:bought", "@exit:bought"]
    via = world.store.query(
        "SELECT via FROM journey_steps s JOIN journey_state j ON j.id = s.instance "
        "WHERE s.node = 'remind' ORDER BY s.id"
    )
    assert via == [("on_timeout",), ("on_timeout",)]


def test_an_event_after_the_timeout_is_not_heard_though_the_timer_ran_late(world: World) -> None:
    """The timer thread may be behind (a restart, a busy writer): an event stamped after the
    wait's deadline still leaves the person to the timeout, as a dry run's replay would."""
    world.publish(
        """
        name: late
        entry: {kind: event, event: {event: Cart Viewed}}
        nodes:
          wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 4h,
                       on_event: thanks, on_timeout: remind}
          thanks: {kind: exit, reason: bought}
          remind: {kind: exit, reason: reminded}
        """
    )
    world.track("in_time", "Cart Viewed")
    world.track("too_late", "Cart Viewed")
    world.clock.advance(timedelta(hours=3, minutes=59))  # no timer run
    world.track("in_time", "Order Completed")
    world.clock.advance(timedelta(minutes=2))  # past the deadline, still no timer run
    world.track("too_late", "Order Completed")
    assert world.where("in_time") == ("thanks", "done", "bought")
    assert world.where("too_late") == ("wait_order", "listen", None)
    world.later(seconds=0)
    assert world.where("too_late") == ("remind", "done", "reminded")


def test_an_event_before_the_wait_began_does_not_release_it(world: World) -> None:
    world.publish(
        """
        name: later
        entry: {kind: event, event: {event: Started}}
        nodes:
          first: {kind: wait, duration: 1h, next: listen}
          listen: {kind: wait_for_event, event: {event: Clicked}, timeout: 1d, on_event: done}
          done: {kind: exit, reason: clicked}
        """
    )
    world.track("u1", "Started")
    world.track("u1", "Clicked")  # while still in the first wait
    world.later(hours=1)
    assert world.where("u1") == ("listen", "listen", None)
    world.track("u1", "Clicked")
    assert world.where("u1") == ("done", "done", "clicked")


def test_branch_on_traits_computed_traits_audiences_and_entry_properties(world: World) -> None:
    from touchpath.profiles.audiences import define_audience
    from touchpath.profiles.traits import define_computed

    def define(con):  # type: ignore[no-untyped-def]
        define_computed(
            con,
            ComputedTrait(name="orders", op="count", event={"event": "Order Completed"}),
            utcnow(),
        )
        define_audience(
            con,
            Audience.model_validate(
                {"name": "vip", "condition": {"kind": "trait", "trait": "tier", "value": "gold"}}
            ),
            utcnow(),
        )

    world.store.write_sync(define)
    world.publish(
        """
        name: route
        entry: {kind: event, event: {event: Checkout Started}}
        nodes:
          route:
            kind: branch
            branches:
              - {name: big, when: {kind: property, property: total, op: gte, value: 100}, next: big}
              - {name: vip, when: {kind: audience, audience: vip}, next: vip}
              - {name: pro, when: {kind: trait, trait: plan, op: in, value: [pro, team]}, next: pro}
              - name: loyal
                when: {kind: and, all: [{kind: computed, trait: orders, op: gte, value: 2},
                                        {kind: not, cond: {kind: trait, trait: plan, value: free}}]}
                next: loyal
            otherwise: rest
          big: {kind: exit, reason: big}
          vip: {kind: exit, reason: vip}
          pro: {kind: exit, reason: pro}
          loyal: {kind: exit, reason: loyal}
          rest: {kind: exit, reason: rest}
        """
    )
    world.identify("gold", tier="gold", plan="pro")
    world.identify("pro", plan="team")
    world.identify("free", plan="free")
    for _ in range(2):
        world.track("loyal", "Order Completed")
        world.track("free", "Order Completed")
    world.store.wait_idle()
    for user in ("gold", "pro", "free", "loyal", "nobody"):
        world.track(user, "Checkout Started", total=20)
    world.track("spender", "Checkout Started", total=250)
    reasons = {u: world.where(u)[2] for u in ("gold", "pro", "free", "loyal", "nobody", "spender")}
    assert reasons == {
        "gold": "vip",
        "pro": "pro",
        "free": "rest",
        "loyal": "loyal",
        "nobody": "rest",
        "spender": "big",
    }


def test_split_is_deterministic_weighted_and_logged_as_an_experiment(world: World) -> None:
    world.publish(
        """
        name: promo
        entry: {kind: event, event: {event: Visited}}
        re_entry: {mode: always}
        nodes:
          split:
            kind: split
            variants: [{name: a, weight: 1}, {name: b, weight: 3}]
            holdout: 1
        """
    )
    users = [f"u{i}" for i in range(400)]
    world.send(*[{"type": "track", "userId": u, "event": "Visited"} for u in users])
    first = {u: world.where(u)[2] for u in users}
    counts = {arm: list(first.values()).count(arm) for arm in ("a", "b", "holdout")}
    # 1:3:1 of 400 people: 80, 240 and 80 expected.
    assert 55 <= counts["a"] <= 105 and 210 <= counts["b"] <= 270 and 55 <= counts["holdout"] <= 105
    # Entering again puts everyone in the same arm.
    world.later(minutes=1)
    world.send(*[{"type": "track", "userId": u, "event": "Visited"} for u in users[:50]])
    assert all(world.where(u)[2] == first[u] for u in users[:50])
    assert all(len(world.instances(u)) == 2 for u in users[:50])
    viewed = world.events("Experiment Viewed", "u7")  # entered twice: exposed twice, same arm
    assert [v["properties"]["experiment_id"] for v in viewed] == ["journey:promo:split"] * 2
    assert {v["properties"]["variation_id"] for v in viewed} == {first["u7"]}
    assert viewed[0]["properties"]["journey"] == "promo"


def test_update_trait_sets_it_now_and_writes_it_to_the_log(world: World) -> None:
    world.publish(
        """
        name: tag
        entry: {kind: event, event: {event: Cart Viewed}}
        nodes:
          mark: {kind: update_trait, trait: last_cart, from_property: cart_id, next: check}
          check:
            kind: branch
            branches: [{name: seen, when: {kind: trait, trait: last_cart, value: c9}, next: tagged}]
          tagged: {kind: exit, reason: tagged}
        """
    )
    world.track("u1", "Cart Viewed", cart_id="c9")
    assert world.where("u1") == ("tagged", "done", "tagged")
    pid = world.profile("u1")
    assert world.store.query(
        "SELECT value FROM profile_traits WHERE profile_id = ? AND name = 'last_cart'", [pid]
    ) == [('"c9"',)]
    (ident,) = world.store.query(
        "SELECT traits FROM events WHERE type = 'identify' AND source = 'touchpath.journeys'"
    )
    assert ident[0] == '{"last_cart":"c9"}'


def test_webhook_and_exit_nodes(world: World) -> None:
    world.publish(
        """
        name: hook
        entry: {kind: event, event: {event: Ticket Opened}}
        nodes:
          call: {kind: webhook, destination: helpdesk, body: {action: escalate}, next: stop}
          stop: {kind: exit, reason: escalated}
          never: {kind: wait, duration: 1d}
        """.replace("          never: {kind: wait, duration: 1d}\n", "")
    )
    world.track("u1", "Ticket Opened", ticket="t1")
    assert world.path("u1") == ["@entry", "call:queued", "stop:escalated", "@exit:escalated"]
    (detail,) = world.store.query("SELECT detail FROM journey_steps WHERE node = 'call'")[0]
    assert json.loads(detail)["channel"] == "webhook"
    (content,) = world.store.query("SELECT content FROM outbox WHERE channel = 'webhook'")[0]
    payload = json.loads(content)["payload"]
    assert (payload["action"], payload["journey"], payload["properties"]) == (
        "escalate",
        "hook",
        {"ticket": "t1"},
    )


def test_events_before_publishing_do_not_enter_and_steps_emit_once(world: World) -> None:
    world.track("early", "Signed Up")
    world.publish(
        """
        name: welcome
        entry: {kind: event, event: {event: Signed Up}}
        nodes:
          hello: {kind: exit, reason: hi}
        """
    )
    world.track("late", "Signed Up")
    assert world.instances("early") == []
    assert world.where("late") == ("hello", "done", "hi")
    # Emitting the same steps again (a restart before the cursor moved) writes nothing new.
    before = world.store.query("SELECT count(*) FROM events")[0][0]
    world.engine._queued = world.engine._confirmed = 0
    world.engine.flush_events()
    world.store.wait_idle()
    assert world.store.query("SELECT count(*) FROM events")[0][0] == before


def test_step_events_are_the_rows_the_ingest_path_makes_of_them(world: World) -> None:
    """The engine writes its events as typed rows, past the parsing and checks of ingest: each
    row must be what ingest makes of the same message (channel, times, JSON text and all)."""
    world.publish(
        """
        name: typed
        entry: {kind: event, event: {event: Signed Up}}
        nodes:
          ab:
            kind: split
            variants: [{name: a, weight: 1, next: mark}, {name: b, weight: 1, next: mark}]
          mark: {kind: update_trait, trait: tier, value: {level: gold}, next: bye}
          bye: {kind: exit, reason: done}
        """
    )
    for user in ("t1", "t2", "t3"):
        world.track(user, "Signed Up", plan="pro")
    cols = [c for c in EVENT_COLUMNS if c != "seq"]
    stored = world.store.query_dicts(
        f"SELECT {', '.join(cols)} FROM events WHERE source = '{SOURCE}' ORDER BY seq"
    )
    kinds = {(r["type"], r["event"]) for r in stored}
    assert ("identify", None) in kinds and ("track", "Experiment Viewed") in kinds
    # Entered, ab, mark, bye, Exited; the split's exposure and the trait's identify.
    assert len(stored) == 3 * 7
    stageds = []
    for r in stored:
        msg = {"type": r["type"], "messageId": r["message_id"], "context": json.loads(r["context"])}
        msg["timestamp"] = r["timestamp"].isoformat() + "Z"
        for key, col in (
            ("event", "event"),
            ("userId", "user_id"),
            ("anonymousId", "anonymous_id"),
        ):
            if r[col] is not None:
                msg[key] = r[col]
        for key in ("properties", "traits"):
            if r[key] is not None:
                msg[key] = json.loads(r[key])
        stageds.append(
            Staged(source=SOURCE, received_at=r["received_at"], raws=[json.dumps(msg).encode()])
        )
    with world.store.reading() as cur:
        door = ingest.normalise(cur, ingest.staged_table(stageds)[0]).to_pylist()
    assert all(d["valid"] for d in door)
    for r, d in zip(stored, door, strict=True):
        assert {c: d[c] for c in cols} == r
