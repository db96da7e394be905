"""Funnels and retention broken down by audience membership; the profiles that dropped at a step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from typer.testing import CliRunner

from touchpath.analytics import api
from touchpath.analytics.funnels import dropped_sql
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.errors import NotFound
from touchpath.profiles import audiences as aud
from touchpath.profiles import refresh
from touchpath.profiles.specs import Audience
from touchpath.store import Store
from touchpath.store.store import utcnow
from touchpath.system import Touchpath

T0 = datetime(2024, 3, 4, 9, 0, 0)
STEPS = [{"event": "view"}, {"event": "cart"}, {"event": "buy"}]


def ev(name: str, minutes: float) -> dict[str, object]:
    return {"event": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat()}


def plan(name: str) -> dict[str, object]:
    return {"type": "identify", "timestamp": T0.isoformat(), "traits": {"plan": name}}


def define(store: Store, name: str, plan_name: str) -> None:
    audience = Audience.model_validate(
        {"name": name, "condition": {"kind": "trait", "trait": "plan", "value": plan_name}}
    )
    store.write_sync(lambda con: aud.define_audience(con, audience, utcnow()))


@pytest.fixture
def shop(tp: Touchpath) -> Store:
    """Two pro and three free people; identity attached, audiences `pro` and `free` defined."""
    store = tp.store
    journeys_for(
        store,
        {
            "ann": [plan("pro"), ev("view", 0), ev("cart", 1), ev("buy", 2)],
            "bob": [plan("pro"), ev("view", 0), ev("cart", 1)],
            "cat": [plan("free"), ev("view", 0), ev("cart", 1)],
            "dan": [plan("free"), ev("view", 0)],
            "eve": [plan("free"), ev("view", 0), ev("buy", 3)],
            "fay": [ev("view", 0), ev("cart", 1), ev("buy", 2)],  # in no audience
        },
    )
    store.wait_idle()
    define(store, "pro", "pro")
    define(store, "free", "free")
    refresh(store, "audiences")
    return store


def by_value(result: api.FunnelResult) -> dict[str | None, list[int]]:
    return {g.value: [s.count for s in g.steps] for g in result.groups}


def test_funnel_breakdown_by_named_audiences(shop: Store) -> None:
    r = api.funnel(shop, {"steps": STEPS, "breakdown": {"by": "audience", "audiences": ["pro"]}})
    assert by_value(r) == {None: [6, 4, 2], "pro": [2, 2, 1], "(none)": [4, 2, 1]}
    r = api.funnel(shop, {"steps": STEPS, "breakdown": {"by": "audience"}})
    assert by_value(r) == {
        None: [6, 4, 2],
        "free": [3, 1, 0],
        "pro": [2, 2, 1],
        "(none)": [1, 1, 1],
    }


def test_retention_breakdown_by_audience(shop: Store) -> None:
    r = api.retention(
        shop,
        {
            "cohort_event": {"event": "view"},
            "return_event": {"event": "buy"},
            "period": "day",
            "periods": 1,
            "breakdown": {"by": "audience", "audiences": ["free", "pro"]},
        },
    )
    assert {g.value: (g.size, g.curve) for g in r.groups} == {
        None: (6, [pytest.approx(3 / 6)]),
        "free": (3, [pytest.approx(1 / 3)]),
        "pro": (2, [pytest.approx(1 / 2)]),
        "(none)": (1, [1.0]),
    }


def test_unknown_audience_and_audiences_on_another_breakdown(shop: Store) -> None:
    spec = {"steps": STEPS, "breakdown": {"by": "audience", "audiences": ["pro", "vip"]}}
    with pytest.raises(NotFound, match=r"breakdown.audiences\[1\]: no audience 'vip'"):
        api.funnel(shop, spec)
    with pytest.raises(Exception, match="audiences: only for a breakdown by audience"):
        api.funnel_spec({"steps": STEPS, "breakdown": {"by": "channel", "audiences": ["pro"]}})


def test_dropped_sql_selects_who_made_the_step_before_and_not_the_step(shop: Store) -> None:
    spec = api.funnel_spec({"steps": STEPS})
    members = dict(shop.query("SELECT profile_id, audience FROM audience_members"))
    dropped = [p for (p,) in shop.query(dropped_sql(spec, 3))]
    # bob (pro) and cat (free) carted and never bought.
    assert sorted(members[p] for p in dropped) == ["free", "pro"]
    listed = api.funnel(shop, {"steps": STEPS, "dropped_at": 3}).dropped
    assert listed is not None and sorted(listed.profiles) == sorted(dropped)
    with pytest.raises(ValueError, match="step: needs 2 <= step <= 3"):
        dropped_sql(spec, 1)


def test_cli_breakdown_by_audience(shop: Store) -> None:
    db = str(shop.path)
    shop.close()
    out = CliRunner().invoke(
        app,
        [
            "funnel",
            "--db",
            db,
            "--step",
            "view",
            "--step",
            "cart",
            "--breakdown",
            "audience:pro",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    assert '"value": "pro"' in out.output and '"value": "(none)"' in out.output
