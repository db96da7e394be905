"""A journey map touchpoint a decision personalises shows the decision's numbers when bound:
people exposed per arm and their conversions, as the experiments engine counts them."""

from __future__ import annotations

import json
from datetime import timedelta

from identity_helpers import msg
from touchpath.events.message import stage_messages
from touchpath.maps.bind import bind_map
from touchpath.maps.document import load_map
from touchpath.personalize import Personalizer, decision_numbers, publish, save_decision
from touchpath.store.store import utcnow
from touchpath.system import Touchpath

MAP = """
name: shop
goal: {event: Order Completed}
stages:
  - name: visit
    touchpoints:
      - {name: Home, match: {event: Home Viewed}}
  - name: buy
    touchpoints:
      - {name: Checkout, match: {event: Order Completed}}
"""


def test_a_bound_map_shows_the_numbers_of_the_decision_on_its_touchpoint(tp: Touchpath) -> None:
    store = tp.store
    src = store.create_source("web")
    spec = {
        "name": "hero",
        "variants": {"plain": {}, "bold": {"b": True}},
        "default": "plain",
        "rules": [{"name": "all", "when": {"kind": "context", "path": "page.path", "op": "is_set"},
                   "split": {"plain": 1, "bold": 1}}],
        "goal": {"event": "Order Completed"},
        "touchpoints": [{"map": "shop", "touchpoint": "Home"}],
    }  # fmt: skip
    save_decision(store, spec)
    publish(store, "hero", "web")
    p: Personalizer = tp.services["personalize"]
    p.reload_decisions()
    people = [f"u{i}" for i in range(40)]
    raws = [json.dumps(msg("identify", 0, userId=u)).encode() for u in people]
    store.ingest(stage_messages(raws, source=src.id, received_at=utcnow())).result()
    p.sync()
    arm = {
        u: p.decide(
            src.id, ["hero"], user_id=u, anonymous_id=None, context={"page": {"path": "/"}}
        )[0].arm
        for u in people
    }
    after = (utcnow() + timedelta(minutes=1)).isoformat() + "Z"  # after the exposures
    later = [{**msg("track", userId=u, event="Home Viewed"), "timestamp": after} for u in people]
    buyers = [u for u in people if arm[u] == "bold"][:5]
    later += [
        {**msg("track", userId=u, event="Order Completed"), "timestamp": after} for u in buyers
    ]
    p.sync()  # the exposures are written first: conversions come after them
    raws = [json.dumps(m).encode() for m in later]
    store.ingest(stage_messages(raws, source=src.id, received_at=utcnow())).result()
    p.sync()

    bound = bind_map(store, load_map(MAP))
    home = bound.stages[0].touchpoints[0]
    assert [d.decision for d in home.decisions] == ["hero"]
    assert bound.stages[1].touchpoints[0].decisions == []
    link = home.decisions[0]
    arms = {a.arm: a for a in link.arms}
    assert {a: arms[a].exposed for a in arms} == {
        a: sum(v == a for v in arm.values()) for a in set(arm.values())
    }
    assert arms["bold"].conversions == len(buyers) and arms["plain"].conversions == 0
    assert link.control == "plain" and link.goal == "Order Completed"
    same = decision_numbers(store, save_decision(store, spec).spec)
    assert [(a.arm, a.exposed, a.conversions) for a in same.arms] == [
        (a.arm, a.exposed, a.conversions) for a in link.arms
    ]
