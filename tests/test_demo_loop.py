"""The loop the product exists for, end to end on the living demo (issue #18): the map shows
app checkout as the pain point; a journey from that touchpoint with a reminder and a 50/50
split is made through the REST API, as a user would; the business runs on the accelerated
clock and answers the reminders with the planted effect; the experiment over the split finds
the planted lift with an interval that covers it; the map shows the journey's numbers on the
touchpoint.

Small by default (a few simulated days, about 2,000 people) so it runs in CI in well under
two minutes; LIVE_LOOP_RATE (new people per simulated hour, default 450) scales it up.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from live_helpers import LiveWorld
from touchpath.demo.facts import LIVE_REACTIONS

RATE = float(os.environ.get("LIVE_LOOP_RATE", "450"))

JOURNEY = """\
version: 1
name: app-checkout-rescue
title: Rescue app checkouts
entry: {kind: touchpoint, map: demo-first-purchase, touchpoint: Checkout (app)}
goal: {event: {event: Order Completed}, within: 2d}
nodes:
  wait_order:
    kind: wait_for_event
    event: {event: Order Completed}
    timeout: 1h
    on_timeout: split
  split:
    kind: split
    variants: [{name: remind, weight: 50, next: sms}]
    holdout: 50
  sms: {kind: send, destination: demo-sms, template: checkout-reminder}
"""

TEMPLATE = {
    "channel": "sms",
    "fields": {
        "body": "Hi {{ traits.first_name }}, your order is one tap away: "
        "https://www.northwind-outfitters.example/checkout - stop: {{ unsubscribe_url }}"
    },
    "defaults": {"traits.first_name": "there"},
}


@pytest.fixture
def world(tmp_path: Path) -> LiveWorld:
    w = LiveWorld(tmp_path, rate=RATE)
    yield w  # type: ignore[misc]
    w.close()


def test_the_loop_finds_the_planted_lift(world: LiveWorld) -> None:
    api = world.api
    # a few hours of business before anyone acts: the map's top pain point is app checkout
    world.run(hours=2, step_minutes=30)
    bound = api.get("/api/maps/demo-first-purchase/bind", params={"optimize": "true"})
    assert bound.status_code == 200, bound.text
    pains = bound.json()["pain_points"]
    assert pains and pains[0]["touchpoint"] == "Checkout (app)", pains[:2]

    # act on it: a reminder with a 50/50 split, from that touchpoint
    assert (
        api.put("/api/destinations/templates/checkout-reminder", json=TEMPLATE).status_code == 200
    )
    saved = api.post("/api/journeys", json={"yaml": JOURNEY})
    assert saved.status_code == 201, saved.text
    assert api.post("/api/journeys/app-checkout-rescue/publish", json={}).status_code == 200

    # run the business: people keep arriving for a while, then the doors close and the
    # reminders, the returns on one's own and the purchases play out
    world.run(hours=3, step_minutes=15)
    world.business.rate = 0  # type: ignore[union-attr]
    world.run(hours=40, step_minutes=240)

    spec = {
        "experiment_id": "journey:app-checkout-rescue:split",
        "control": "holdout",
        "primary": {"name": "orders", "kind": "conversion",
                    "event": {"event": "Order Completed"}, "window": "2d"},
        "sequential": False,
    }  # fmt: skip
    assert api.put("/api/experiments/rescue", json={"spec": spec}).status_code == 200
    result = api.get("/api/experiments/rescue/results").json()
    arms = {a["arm"]: a for a in result["metrics"][0]["arms"]}
    comparison = result["metrics"][0]["comparisons"][0]
    n_remind = arms["remind"]["n"]

    # the planted lift: each reminder's chance of bringing the person back (its channel,
    # template, hour in the person's zone, fatigue) x buying then, for those whose checkout was
    # still open and who would not have come back on their own, over the arm
    sent = world.store.query(
        "SELECT count(*), sum(p_click) FILTER (open_checkout AND NOT own_return) "
        "FROM demo_live_messages WHERE journey = ?",
        ["app-checkout-rescue"],
    )[0]
    truth = LIVE_REACTIONS.buy_after_click * sent[1] / n_remind
    lo, hi = comparison["diff_ci"]
    print(result["summary"], arms, comparison["diff"], (lo, hi), "truth", truth, sent)
    assert sent[0] > 0.9 * n_remind  # nearly everyone reminded got it (the rest: no phone)
    assert lo <= truth <= hi
    assert lo > 0, "the reminder's lift is found"
    assert not result["srm"]

    # the map shows the journey's numbers on the touchpoint
    bound = api.get("/api/maps/demo-first-purchase/bind", params={"optimize": "true"}).json()
    (tp,) = [t for s in bound["stages"] for t in s["touchpoints"] if t["name"] == "Checkout (app)"]
    (j,) = [j for j in tp["journeys"] if j["journey"] == "app-checkout-rescue"]
    counts = api.get("/api/journeys/app-checkout-rescue/counts").json()
    own = world.store.query(
        "SELECT avg((state::JSON ->> 'own_return_at' IS NOT NULL)::INT) FROM demo_live_people "
        "WHERE state::JSON ->> 'checkout_id' IS NOT NULL AND state::JSON ->> 'app' = 'true'"
    )
    arm_own = world.store.query(
        "SELECT e.properties ->> 'variation_id' AS arm, count(*), "
        "avg((p.state::JSON ->> 'own_return_at' IS NOT NULL)::INT), "
        "avg((p.state::JSON ->> 'ordered')::BOOLEAN::INT) "
        "FROM events e JOIN demo_live_people p ON p.state::JSON ->> 'user_id' = e.user_id "
        "WHERE e.event = 'Experiment Viewed' GROUP BY 1"
    )
    print(j, counts, own, arm_own)
    assert j["entered"] >= arms["remind"]["n"] + arms["holdout"]["n"]
    assert j["converted"] > 0
