"""A journey's holdout measured as an experiment: the real engine splits people and writes their
`Experiment Viewed`; orders planted per arm (0.298 reminded against 0.172 held out, the demo's
truth) are found with an interval that covers the planted lift."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.journeys_helpers import World

from touchpath.analytics.experiments import ExperimentSpec, experiment
from touchpath.analytics.experiments.saved import save_arm_audiences, save_experiment

JOURNEY = """
name: abandoned-cart
entry: {kind: event, event: {event: Cart Viewed}}
nodes:
  holdout:
    kind: split
    variants: [{name: remind, weight: 1, next: done}]
    holdout: 1
  done: {kind: exit, reason: reminded}
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def test_the_holdout_of_a_journey_split_finds_the_planted_lift(world: World) -> None:
    world.publish(JOURNEY)
    users = [f"u{i}" for i in range(2400)]
    world.send(*[{"type": "track", "userId": u, "event": "Cart Viewed"} for u in users])
    viewed = world.store.query(
        "SELECT user_id, json_extract_string(properties, '$.variation_id') FROM events "
        "WHERE event = 'Experiment Viewed'"
    )
    arm = dict(viewed)
    assert set(arm.values()) == {"remind", "holdout"} and len(arm) == len(users)
    rng = np.random.default_rng(4)
    rate = {"remind": 0.298, "holdout": 0.172}
    world.later(hours=5)
    world.send(
        *[
            {
                "type": "track",
                "userId": u,
                "event": "Order Completed",
                "properties": {"revenue": 40},
            }
            for u in users
            if rng.random() < rate[arm[u]]
        ]
    )
    spec = ExperimentSpec.journey_split("abandoned-cart", "holdout", goal="Order Completed")
    r = experiment(world.store, spec)
    assert r.experiment_id == "journey:abandoned-cart:holdout" and r.control == "holdout"
    assert sum(r.exposures.values()) == 2400 and not r.srm
    (c,) = r.metrics[0].comparisons
    assert c.arm == "remind" and c.lift_ci is not None
    assert c.lift_ci[0] <= 0.298 / 0.172 - 1 <= c.lift_ci[1]
    assert c.diff_ci[0] <= 0.298 - 0.172 <= c.diff_ci[1]
    assert r.verdict == "winner" and r.winner == "remind"
    # Each arm as an audience, for the map's compare view.
    save_experiment(world.store, "cart-reminder", spec)
    sizes = save_arm_audiences(world.store, "cart-reminder")
    assert sizes == r.exposures
