"""Retention: first-time and recurring cohorts, on / on or after, breakdown, repeat purchases."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from touchpath.analytics import api
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.store import Store

MON = datetime(2024, 3, 4, 12, 0, 0)  # a Monday


def buy(week: int, day: int = 0, **kw: object) -> dict[str, object]:
    return {"event": "buy", "timestamp": (MON + timedelta(weeks=week, days=day)).isoformat(), **kw}


PEOPLE = {
    "a": [buy(0), buy(1), buy(3)],
    "b": [buy(0, 2), buy(2)],
    "c": [buy(1, channel="email"), buy(1, 1, channel="email")],
    "d": [buy(3)],
}
SPEC = {"cohort_event": {"event": "buy"}, "period": "week", "periods": 4}


def test_first_time_weekly_cohorts_on(store: Store) -> None:
    journeys_for(store, PEOPLE)
    r = api.retention(store, SPEC)
    table = [(c.cohort.isoformat(), c.size, c.retained) for c in r.cohorts]
    assert table == [
        ("2024-03-04", 2, [2, 1, 1, 1]),
        ("2024-03-11", 1, [1, 0, 0, None]),
        ("2024-03-25", 1, [1, None, None, None]),
    ]
    assert r.curve == [1.0, pytest.approx(1 / 3), pytest.approx(1 / 3), 0.5]


def test_on_or_after_and_recurring(store: Store) -> None:
    journeys_for(store, PEOPLE)
    r = api.retention(store, {**SPEC, "mode": "on_or_after"})
    assert r.cohorts[0].retained == [2, 2, 2, 1]
    rec = api.retention(store, {**SPEC, "cohort_type": "recurring"})
    # Week 2024-03-11: c enters for the first time, a again.
    assert [(c.cohort.isoformat(), c.size) for c in rec.cohorts] == [
        ("2024-03-04", 2),
        ("2024-03-11", 2),
        ("2024-03-18", 1),
        ("2024-03-25", 2),
    ]
    assert rec.cohorts[1].retained[:3] == [2, 0, 1]


def test_breakdown_by_channel(store: Store) -> None:
    journeys_for(store, PEOPLE)
    r = api.retention(store, {**SPEC, "breakdown": {"by": "channel"}})
    assert [(g.value, g.size) for g in r.groups] == [(None, 4), ("direct", 3), ("email", 1)]


def test_repeat_rate_and_time_between_purchases(store: Store) -> None:
    journeys_for(store, PEOPLE)
    rep = api.retention(store, SPEC).repeat
    assert (rep.profiles, rep.repeaters, rep.repeat_rate) == (4, 3, 0.75)
    week, day = 7 * 86400.0, 86400.0
    # Gaps: a 1w, 2w; b 12d; c 1d -> median of [1d, 1w, 12d, 2w].
    assert rep.median_gap_s == pytest.approx((week + 12 * day) / 2)
    assert rep.median_first_to_second_s == pytest.approx(week)


def test_rest_and_cli(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    journeys_for(server.store, PEOPLE)
    r = httpx.post(f"{server.url}/api/analyses/retention", headers=server.auth, json=SPEC)
    assert r.status_code == 200 and r.json()["cohorts"][0]["retained"] == [2, 1, 1, 1]
    bad = httpx.post(
        f"{server.url}/api/analyses/retention",
        headers=server.auth,
        json={**SPEC, "period": "year"},
    )
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("period:")
    spec = tmp_path / "r.yaml"
    spec.write_text("cohort_event: {event: buy}\nperiod: week\nperiods: 4\n")
    out = CliRunner().invoke(
        app, ["retention", "--db", str(server.store.path), "--spec", str(spec), "--json"]
    )
    assert out.exit_code == 0, out.output
    assert '"repeat_rate": 0.75' in out.output
