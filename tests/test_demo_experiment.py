"""The demo's planted reminder effect, found by the experiment over the abandoned-cart
journey's holdout (issue #17 item 6): the history carries the journey's runs
(`touchpath.demo.reminders`); the experiment reads their `Experiment Viewed` and the orders from
the store. It counts the same people as the truth file with the same conversions, and its 95%
interval covers the difference the truth file measured and the planted one (0.298 - 0.172).

At the test's scale (3,000 customers, 60 days: about 250 people, 50 held out) the interval is
too wide to rule out no effect; at the demo's 20,000 customers (about 2,250 people) it does:
`TOUCHPATH_TEST_DEMO_CUSTOMERS=20000 pytest tests/test_demo_experiment.py` checks that too."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest

from touchpath.analytics.experiments import ExperimentSpec, experiment
from touchpath.clock import utcnow
from touchpath.demo import DemoBusiness, DemoConfig
from touchpath.demo.facts import SMS_CART_REMINDER
from touchpath.demo.journeys import SPLIT_NODE
from touchpath.events.message import stage_messages
from touchpath.system import Touchpath

CUSTOMERS = int(os.environ.get("TOUCHPATH_TEST_DEMO_CUSTOMERS", "3000"))
DAYS = 60 if CUSTOMERS < 20_000 else 90


def test_the_holdout_experiment_finds_the_planted_reminder_effect(tmp_path: Path) -> None:
    business = DemoBusiness(DemoConfig(customers=CUSTOMERS, days=DAYS, seed=3))
    with Touchpath.open(db=tmp_path / "demo.duckdb") as tp:
        now = utcnow()
        for batch in business.batches(5000):
            raws = [orjson.dumps(m) for m in batch]
            tp.store.ingest(stage_messages(raws, source="demo", received_at=now)).result()
        tp.store.wait_idle(120)
        truth = business.truth()
        held, reminded = SMS_CART_REMINDER.conversion
        window = timedelta(seconds=SMS_CART_REMINDER.window)
        # Exposures whose window ends in the history, as the truth file counts them.
        end = datetime.fromisoformat(truth.period_end).replace(tzinfo=None) - window
        spec = ExperimentSpec.journey_split(
            "abandoned-cart", SPLIT_NODE, goal="Order Completed", window="3d"
        ).model_copy(
            update={"end": end, "sequential": False,
                    "expected_split": {"remind": 0.8, "holdout": 0.2}}
        )  # fmt: skip
        result = experiment(tp.store, spec)
    fact = truth.facts["sms_cart_reminder"]
    assert not result.srm
    # The same people as the truth file (identity resolves a few of them differently).
    assert result.exposures["remind"] == pytest.approx(fact["remind_people"], rel=0.03)
    assert result.exposures["holdout"] == pytest.approx(fact["holdout_people"], rel=0.03)
    arms = {a.arm: a.mean for a in result.metrics[0].arms}
    assert arms["remind"] == pytest.approx(fact["remind_conversion"], abs=0.015)
    assert arms["holdout"] == pytest.approx(fact["holdout_conversion"], abs=0.015)
    (c,) = result.metrics[0].comparisons
    lo, hi = c.diff_ci
    assert lo <= fact["difference"] <= hi  # the size the data holds
    assert lo <= reminded - held <= hi  # the size planted
    assert c.diff > 0
    if CUSTOMERS >= 20_000:  # enough people to tell the effect from none
        assert lo > 0 and result.winner == "remind"
