"""Experiments read from the event log: `Experiment Viewed` exposures and goal events in, per-arm
numbers and a verdict out (a real DuckDB file, events ingested through the store)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from touchpath.analytics import journey
from touchpath.analytics.experiments import (
    ExperimentSpec,
    Metric,
    experiment,
    exposures,
    read_arms,
)
from touchpath.analytics.testing import journeys_for
from touchpath.events.match import EventMatch
from touchpath.events.names import EXPERIMENT_VIEWED
from touchpath.store import Store
from touchpath.system import Touchpath

T0 = datetime(2026, 3, 2, 9, 0)
SPLIT = "journey:abandoned-cart:split_1"


def _viewed(ts: datetime, arm: str, experiment_id: str = SPLIT) -> dict[str, Any]:
    return {
        "event": EXPERIMENT_VIEWED,
        "timestamp": ts,
        "properties": {
            "experiment_id": experiment_id,
            "variation_id": arm,
            "journey": "abandoned-cart",
            "node": "split_1",
        },
    }


def _planted(store: Store, n: int, rates: dict[str, float], seed: int) -> dict[str, float]:
    """n people split over the arms across 14 days; each converts within 3 days with the
    arm's rate and spends 20-80 when they do. Returns the realised conversion per arm."""
    rng = np.random.default_rng(seed)
    arms = list(rates)
    people: dict[str, list[dict[str, Any]]] = {}
    done = {a: [0, 0] for a in arms}
    for i in range(n):
        arm = arms[i % len(arms)]
        seen = T0 + timedelta(days=int(rng.integers(0, 14)), minutes=int(rng.integers(0, 600)))
        evs = [_viewed(seen, arm)]
        done[arm][1] += 1
        if rng.random() < rates[arm]:
            done[arm][0] += 1
            at = seen + timedelta(hours=float(rng.uniform(0.1, 72)))
            revenue = round(float(rng.uniform(20, 80)), 2)
            evs.append(
                {"event": "Order Completed", "timestamp": at, "properties": {"revenue": revenue}}
            )
        people[f"p{i}"] = evs
    journeys_for(store, people)
    return {a: c / k for a, (c, k) in done.items()}


def test_planted_sms_reminder_lift_is_found_with_an_interval_that_covers_it(store: Store) -> None:
    _planted(store, 3000, {"holdout": 0.172, "sms": 0.298}, seed=5)
    spec = ExperimentSpec.journey_split("abandoned-cart", "split_1", goal="Order Completed")
    r = experiment(store, spec)
    assert r.exposures == {"holdout": 1500, "sms": 1500}
    assert not r.srm
    primary = r.metrics[0]
    (comp,) = primary.comparisons
    lo, hi = comp.lift_ci
    assert lo <= 0.298 / 0.172 - 1 <= hi
    assert comp.diff_ci[0] <= 0.298 - 0.172 <= comp.diff_ci[1]
    assert r.verdict == "winner" and r.winner == "sms"
    assert r.summary.startswith("sms beats holdout on Order Completed: +")
    assert comp.chance_to_win > 0.99
    # The chart: one point per exposure day, ending with everyone.
    days = [p for p in r.series if p.arm == "sms"]
    assert len(days) == 14
    assert days[-1].n_arm == 1500 and days[-1].lift == pytest.approx(comp.lift)
    assert days[0].lift_ci is not None and days[-1].lift_ci is not None
    assert days[-1].lift_ci[1] - days[-1].lift_ci[0] < days[0].lift_ci[1] - days[0].lift_ci[0]


def test_windows_exposure_order_and_people_in_both_arms(store: Store) -> None:
    """Conversions count only within the window after the first exposure; someone seen in
    two arms belongs to neither; revenue per person sums a property."""
    order = "Order Completed"
    journeys_for(
        store,
        {
            "a": [
                _viewed(T0, "control"),
                {
                    "event": order,
                    "timestamp": T0 + timedelta(hours=1),
                    "properties": {"revenue": 30},
                },
            ],
            "b": [
                _viewed(T0, "control"),
                {
                    "event": order,
                    "timestamp": T0 + timedelta(days=8),
                    "properties": {"revenue": 50},
                },
            ],
            "c": [
                {
                    "event": order,
                    "timestamp": T0 - timedelta(days=1),
                    "properties": {"revenue": 10},
                },
                _viewed(T0, "control"),
            ],
            "d": [
                _viewed(T0, "test"),
                _viewed(T0 + timedelta(hours=2), "test"),
                {
                    "event": order,
                    "timestamp": T0 + timedelta(days=2),
                    "properties": {"revenue": 20},
                },
                {
                    "event": order,
                    "timestamp": T0 + timedelta(days=3),
                    "properties": {"revenue": 25},
                },
            ],
            "e": [
                _viewed(T0, "test"),
                _viewed(T0 + timedelta(hours=1), "control"),
                {"event": order, "timestamp": T0 + timedelta(hours=3)},
            ],
            "f": [_viewed(T0, "test", experiment_id="another")],
        },
    )
    spec = ExperimentSpec(
        experiment_id=SPLIT,
        primary=Metric(name="orders", event=EventMatch(event=order)),
        guardrails=(
            Metric(name="revenue", kind="sum", property="revenue", event=EventMatch(event=order)),
            Metric(
                name="order count", kind="count", event=EventMatch(event=order), pre_window="7d"
            ),
            Metric(
                name="came back",
                kind="retention",
                event=EventMatch(event=order),
                window_start="2d",
                window="7d",
            ),
        ),
        min_per_arm=2,
    )
    r = experiment(store, spec)
    assert r.control == "control"
    assert r.exposures == {"control": 3, "test": 1}
    assert r.multiple_exposures == 1
    by = {m.name: {a.arm: a for a in m.arms} for m in r.metrics}
    assert by["orders"]["control"].total == 1  # a only: b is outside 7d, c converted before
    assert by["orders"]["test"].total == 1
    assert by["revenue"]["control"].total == 30
    assert by["revenue"]["test"].total == 45
    assert by["order count"]["test"].total == 2
    assert by["came back"]["test"].total == 1  # d ordered again on day 2 and 3
    assert by["came back"]["control"].total == 0  # a ordered after 1h only
    # The pre-exposure covariate (CUPED): c's order the day before its exposure.
    control = read_arms(store, spec).totals()["control"]
    assert (control[2].pre, control[2].total) == (1, 1)
    assert r.verdict == "keep_running"


def test_sample_ratio_mismatch_withholds_the_verdict(store: Store) -> None:
    rng = np.random.default_rng(1)
    people = {}
    for i in range(1300):
        arm = "control" if i < 700 else "test"  # 700 / 600: chi-square p ~ 0.006 ...
        people[f"p{i}"] = [_viewed(T0 + timedelta(minutes=i), arm, "exp-1")]
        if rng.random() < (0.1 if arm == "control" else 0.3):
            people[f"p{i}"].append(
                {"event": "Signed Up", "timestamp": T0 + timedelta(minutes=i + 5)}
            )
    for i in range(300):  # ... and 300 more in control: p < 0.001
        people[f"q{i}"] = [_viewed(T0 + timedelta(minutes=i), "control", "exp-1")]
    journeys_for(store, people)
    spec = ExperimentSpec(
        experiment_id="exp-1", primary=Metric(name="signup", event=EventMatch(event="Signed Up"))
    )
    r = experiment(store, spec)
    assert r.srm and r.srm_p_value < 0.001
    assert r.verdict == "srm" and r.winner is None
    assert "Withheld" in r.summary
    # The planned split was 5:3: then the same counts fit, and the verdict is given.
    fits = experiment(store, spec.model_copy(update={"expected_split": {"control": 5, "test": 3}}))
    assert not fits.srm and fits.verdict == "winner" and fits.winner == "test"


def test_per_arm_sums_match_a_python_reference(store: Store) -> None:
    """Random people, exposures (repeated, some in two arms) and orders before and after:
    the SQL's per-arm sufficient statistics equal a plain Python count of the same rules."""
    rng = np.random.default_rng(9)
    order, day = "Order Completed", 86400
    people: dict[str, list[dict[str, Any]]] = {}
    truth: dict[str, list[tuple[float, list[tuple[float, float]]]]] = {}
    for i in range(300):
        arms = ["a", "b", "c"]
        first = T0 + timedelta(seconds=int(rng.integers(0, 10 * day)))
        seen = [(first, arms[int(rng.integers(0, 3))])]
        if rng.random() < 0.3:  # seen again, in the same arm or (rarely) another
            other = seen[0][1] if rng.random() < 0.8 else arms[int(rng.integers(0, 3))]
            seen.append((first + timedelta(seconds=int(rng.integers(1, 3 * day))), other))
        orders = [
            (first + timedelta(seconds=int(rng.integers(-20 * day, 20 * day))),
             float(rng.integers(1, 100)))
            for _ in range(int(rng.integers(0, 5)))
        ]  # fmt: skip
        people[f"p{i}"] = [_viewed(ts, arm) for ts, arm in seen] + [
            {"event": order, "timestamp": ts, "properties": {"revenue": v}} for ts, v in orders
        ]
        if len({arm for _, arm in seen}) == 1:
            rel = [((ts - first).total_seconds(), v) for ts, v in orders]
            truth.setdefault(seen[0][1], []).append((0.0, rel))
    journeys_for(store, people)
    spec = ExperimentSpec(
        experiment_id=SPLIT,
        primary=Metric(name="conv", event=EventMatch(event=order), window="7d"),
        guardrails=(
            Metric(name="rev", kind="sum", property="revenue", event=EventMatch(event=order),
                   window="14d", pre_window="10d"),
            Metric(name="n", kind="count", event=EventMatch(event=order), window="3d"),
        ),
    )  # fmt: skip
    totals = read_arms(store, spec).totals()
    assert sorted(totals) == sorted(truth)
    for arm, units in truth.items():
        conv = [float(any(0 <= d < 7 * day for d, _ in rel)) for _, rel in units]
        rev = [sum(v for d, v in rel if 0 <= d < 14 * day) for _, rel in units]
        pre = [sum(v for d, v in rel if -10 * day <= d < 0) for _, rel in units]
        n = [float(sum(1 for d, _ in rel if 0 <= d < 3 * day)) for _, rel in units]
        c, r, k = totals[arm]
        assert c.n == len(units) and (c.total, c.total_sq) == (sum(conv), sum(conv))
        assert r.total == pytest.approx(sum(rev)) and r.pre == pytest.approx(sum(pre))
        assert r.total_sq == pytest.approx(sum(x * x for x in rev))
        assert r.cross == pytest.approx(sum(x * y for x, y in zip(pre, rev, strict=True)))
        assert r.pre_sq == pytest.approx(sum(x * x for x in pre))
        assert (k.total, k.total_sq) == (sum(n), sum(x * x for x in n))


def test_an_anonymous_exposure_joins_the_profile_that_signs_in(tp: Touchpath) -> None:
    """Seen while anonymous, ordered after signing in: one person, converted (identity runs
    beside the store as in every process, and experiments read `resolved_events`)."""
    people: dict[str, list[dict[str, Any]]] = {}
    for i in range(200):
        arm = "control" if i % 2 else "test"
        anon = f"anon-{i}"
        people[f"p{i}"] = [
            {**_viewed(T0 + timedelta(minutes=i), arm), "user_id": None, "anonymous_id": anon},
            {"type": "identify", "timestamp": T0 + timedelta(minutes=i, seconds=30),
             "anonymous_id": anon},
        ]  # fmt: skip
        if i % 4 == 0:  # half the test arm orders, signed in, without the anonymous id
            people[f"p{i}"].append(
                {"event": "Order Completed", "timestamp": T0 + timedelta(minutes=i + 5)}
            )
    journeys_for(tp.store, people)
    tp.store.wait_idle()
    spec = ExperimentSpec(
        experiment_id=SPLIT,
        primary=Metric(name="orders", event=EventMatch(event="Order Completed")),
    )
    r = experiment(tp.store, spec)
    assert r.exposures == {"control": 100, "test": 100}
    by = {a.arm: a for a in r.metrics[0].arms}
    assert (by["test"].total, by["control"].total) == (50, 0)


def _mixed_people(rng: np.random.Generator, n: int) -> dict[str, list[dict[str, Any]]]:
    """People exposed once or twice (some in two arms, some first while anonymous and then
    signed in), with orders before and after exposure, visits, and an identify call (not in
    the journey copy)."""
    people: dict[str, list[dict[str, Any]]] = {}
    day = 86400
    for i in range(n):
        first = T0 + timedelta(seconds=int(rng.integers(0, 10 * day)))
        arm = ["control", "b", "c"][int(rng.integers(0, 3))]
        evs = [_viewed(first, arm)]
        if i % 5 == 0:  # seen anonymously first, then signs in
            evs = [
                {**_viewed(first, arm), "user_id": None, "anonymous_id": f"anon-{i}"},
                {"type": "identify", "timestamp": first + timedelta(seconds=5),
                 "anonymous_id": f"anon-{i}"},
            ]  # fmt: skip
        if rng.random() < 0.3:  # seen again, in the same arm or (rarely) another
            other = arm if rng.random() < 0.8 else "b"
            evs.append(_viewed(first + timedelta(seconds=int(rng.integers(1, 3 * day))), other))
        for _ in range(int(rng.integers(0, 5))):
            at = first + timedelta(seconds=int(rng.integers(-20 * day, 20 * day)))
            evs.append({"event": "Order Completed", "timestamp": at,
                        "properties": {"revenue": round(float(rng.uniform(1, 100)), 2)}})  # fmt: skip
        if rng.random() < 0.4:
            evs.append({"event": "Session Started", "timestamp": first + timedelta(days=9)})
        people[f"p{i}"] = evs
    return people


def test_the_journey_copy_gives_the_logs_numbers(tp: Touchpath) -> None:
    """With the sorted journey copy fresh, the planner reads each event's person from it (the
    profile numbers) instead of `resolved_events`: per arm and day, the same numbers as the
    log's statement; stale (an event after the build) or a metric the copy may lack (no event
    name), the log."""
    journeys_for(tp.store, _mixed_people(np.random.default_rng(17), 400))
    tp.store.wait_idle()
    order = EventMatch(event="Order Completed")
    spec = ExperimentSpec(
        experiment_id=SPLIT,
        primary=Metric(name="conv", event=order, window="7d"),
        guardrails=(
            Metric(name="rev", kind="sum", property="revenue", event=order, window="14d",
                   pre_window="10d"),
            Metric(name="n", kind="count", event=order, window="3d"),
            Metric(name="back", kind="retention", event=EventMatch(event="Session Started"),
                   window_start="7d", window="14d"),
        ),
    )  # fmt: skip
    assert experiment(tp.store, spec).source == "log"  # no copy yet
    journey.optimize(tp.store)
    with tp.store.reading() as cur:
        log, copy = exposures(cur, spec), exposures(cur, spec, copy=True)
    assert copy.multiple == log.multiple > 0
    assert [(d.arm, d.day) for d in copy.days] == [(d.arm, d.day) for d in log.days]
    for c, g in zip(copy.days, log.days, strict=True):
        for a, b in zip(c.stats, g.stats, strict=True):
            assert a.n == b.n and (a.total, a.pre) == pytest.approx((b.total, b.pre))
            assert (a.total_sq, a.pre_sq, a.cross) == pytest.approx((b.total_sq, b.pre_sq, b.cross))
    on_copy, on_log = experiment(tp.store, spec), read_arms(tp.store, spec)
    assert on_copy.source == "copy" and on_copy.exposures == {
        arm: stats[0].n for arm, stats in on_log.totals().items()
    }
    anything = spec.model_copy(update={"guardrails": (Metric(name="any", event=EventMatch()),)})
    assert experiment(tp.store, anything).source == "log"
    journeys_for(tp.store, {"late": [_viewed(T0, "control")]})
    assert experiment(tp.store, spec).source == "log"
