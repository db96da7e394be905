"""Attribution: rule-based models and the Markov removal effect on declarative journeys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from touchpath.analytics import journey
from touchpath.analytics.api import attribution
from touchpath.analytics.attribution import (
    AttributionResult,
    AttributionSpec,
    attribution_sql,
    decay_weight,
    markov_removal_effects,
    transitions_sql,
)
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.events.match import EventMatch
from touchpath.store import Store


def at(day: int, time: str = "10:00") -> str:
    return f"2026-03-{day:02d}T{time}:00"


def visit(day: int, channel: str, time: str = "10:00") -> dict[str, Any]:
    return {"name": "Product", "timestamp": at(day, time), "channel": channel}


def order(day: int, revenue: float, time: str = "10:00") -> dict[str, Any]:
    return {"event": "Order Completed", "timestamp": at(day, time),
            "properties": {"revenue": revenue}, "channel": "direct"}  # fmt: skip


JOURNEYS = {
    "u1": [visit(1, "paid_social"), visit(5, "email"), order(6, 100)],
    "u2": [visit(1, "email"), order(2, 50), visit(3, "sms"), order(4, 30)],
    "u3": [visit(1, "paid_search"), order(31, 20, "12:00")],  # touch outside the 30-day window
    "u4": [visit(1, "paid_social")],  # never converts
    "u5": [visit(7, "paid_search", "10:00"), visit(7, "direct", "10:05"), order(7, 10, "10:10")],
}


def credit(result: AttributionResult, model: str) -> dict[str, tuple[float, float]]:
    return {
        r.key: (r.credit[model].conversions, r.credit[model].revenue)
        for r in result.rows
        if model in r.credit and r.credit[model].conversions
    }


@pytest.fixture
def result(store: Store) -> AttributionResult:
    journeys_for(store, JOURNEYS)
    return attribution(store, AttributionSpec())


def test_totals_and_unattributed_conversions(result: AttributionResult) -> None:
    assert (result.conversions, result.revenue) == (5, 210.0)
    assert (result.attributed_conversions, result.attributed_revenue) == (4, 190.0)


def test_first_and_last_touch_by_session(result: AttributionResult) -> None:
    # u5's second page view is in the same session: the session's touch is paid_search
    assert credit(result, "first_touch") == {
        "paid_social": (1, 100), "email": (1, 50), "sms": (1, 30), "paid_search": (1, 10),
    }  # fmt: skip
    assert credit(result, "last_touch") == {
        "email": (2, 150),
        "sms": (1, 30),
        "paid_search": (1, 10),
    }
    shares = {r.key: r.credit["last_touch"].share for r in result.rows}
    assert shares["email"] == 0.5


def test_linear_position_based_and_time_decay(result: AttributionResult) -> None:
    expected = {
        "paid_social": (0.5, 50),
        "email": (1.5, 100),
        "sms": (1, 30),
        "paid_search": (1, 10),
    }
    assert credit(result, "linear") == expected
    assert credit(result, "position_based") == expected  # two touches: 50/50
    early, late = decay_weight(5, 7), decay_weight(1, 7)  # u1's touches 5 and 1 days before
    social = early / (early + late)
    got = credit(result, "time_decay")
    assert got["paid_social"][0] == pytest.approx(social, abs=1e-6)
    assert got["email"][0] == pytest.approx(1 - social + 1, abs=1e-6)
    assert got["paid_social"][1] == pytest.approx(100 * social, abs=0.01)
    for model in ("first_touch", "last_touch", "linear", "time_decay", "position_based"):
        assert sum(c for c, _ in credit(result, model).values()) == pytest.approx(4)


def test_markov_removal_effect(result: AttributionResult) -> None:
    # P(convert) = 0.8; without email 0.4, without any other channel 0.6
    assert result.removal_effects == pytest.approx(
        {"paid_social": 0.25, "email": 0.5, "sms": 0.25, "paid_search": 0.25}
    )
    got = credit(result, "markov")
    assert got["email"][0] == pytest.approx(1.6)
    assert got["paid_social"] == pytest.approx((0.8, 0.2 * 190))


def test_shared_tables_give_what_the_single_statements_give(store: Store) -> None:
    # The runner keeps conversions and paths in temporary tables shared by the credit and the
    # Markov statements; each statement on its own (no tables) is the reference, on both sources.
    journeys_for(store, {**JOURNEYS, "u6": [visit(2, "email"), visit(2, "sms", "11:00")]})
    spec = AttributionSpec()
    for source in ("log", "copy"):
        if source == "copy":
            journey.optimize(store)
        res = attribution(store, spec)
        assert res.source == source
        chain = store.query(transitions_sql(spec, source == "copy"))
        effects = markov_removal_effects([(str(a), str(b), int(n)) for a, b, n in chain])
        assert res.removal_effects == pytest.approx(effects, abs=1e-6)
        assert effects["sms"] > 0  # u6's open path reaches the chain
        rows = store.query(attribution_sql(spec, source == "copy"))
        last = {r[0]: r[3] for r in rows if r[0] is not None and r[3]}
        assert {k: c for k, (c, _) in credit(res, "last_touch").items()} == pytest.approx(last)
        assert (res.conversions, res.attributed_conversions) == (rows[0][-4], rows[0][-2])


def test_position_based_with_middle_touches(store: Store) -> None:
    journeys_for(store, {"m": [visit(1, "paid_social"), visit(2, "email"), visit(3, "sms"),
                               visit(4, "push"),
                               order(5, 10)]})  # fmt: skip
    got = credit(attribution(store, AttributionSpec(models=("position_based",))), "position_based")
    assert {k: v[0] for k, v in got.items()} == pytest.approx(
        {"paid_social": 0.4, "email": 0.1, "sms": 0.1, "push": 0.4}
    )


def test_every_event_as_touch_lookback_and_exclusions(store: Store) -> None:
    journeys_for(store, JOURNEYS)
    spec = AttributionSpec(touch="event", models=("last_touch",))
    assert credit(attribution(store, spec), "last_touch")["direct"] == (1, 10)
    wide = AttributionSpec(lookback_days=60, models=("first_touch",))
    assert credit(attribution(store, wide), "first_touch")["paid_search"] == (2, 30)
    no_email = AttributionSpec(exclude_channels=("email",), models=("last_touch",))
    res = attribution(store, no_email)
    assert credit(res, "last_touch") == {
        "paid_social": (1, 100),
        "sms": (1, 30),
        "paid_search": (1, 10),
    }
    assert res.attributed_conversions == 3


def test_by_touchpoint_and_chosen_conversion(store: Store) -> None:
    journeys_for(store, {
        "t1": [{"event": "Email Link Clicked", "timestamp": at(1), "channel": "email"},
               {"event": "Signed Up", "timestamp": at(1, "12:00"), "properties": {"value": 7}}],
        "t2": [{"name": "Home", "timestamp": at(1)},
               {"event": "Signed Up", "timestamp": at(2), "properties": {"value": 3}}],
    })  # fmt: skip
    spec = AttributionSpec(
        by="touchpoint", conversion=EventMatch(event="Signed Up"), revenue_property="value",
        models=("first_touch",),
    )  # fmt: skip
    assert credit(attribution(store, spec), "first_touch") == {
        "Email Link Clicked": (1, 7), "Home": (1, 3),
    }  # fmt: skip


def test_removal_effect_of_a_chain_solved_by_hand() -> None:
    # start -> a -> b -> conversion (3), start -> a -> null (1), start -> b -> conversion (1)
    effects = markov_removal_effects([
        ("(start)", "a", 4), ("a", "b", 3), ("a", "(null)", 1), ("b", "(conversion)", 4),
        ("(start)", "b", 1),
    ])  # fmt: skip
    # P = 0.8*0.75 + 0.2 = 0.8; without a: 0.2; without b: 0
    assert effects == pytest.approx({"a": 0.75, "b": 1.0})


def test_spec_validation() -> None:
    with pytest.raises(ValidationError, match="must not exceed 1"):
        AttributionSpec(position_first=0.7, position_last=0.7)
    with pytest.raises(ValidationError):
        AttributionSpec(models=("nope",))  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        AttributionSpec(lookback_days=0)
    assert AttributionSpec(revenue_property="").revenue_property is None  # count only


def test_rest_and_cli(server: Any, tmp_path: Path) -> None:
    journeys_for(server.store, JOURNEYS)
    r = httpx.post(
        f"{server.url}/api/analyses/attribution",
        headers=server.auth,
        json={"models": ["last_touch"]},
    )
    assert r.status_code == 200, r.text
    got = {row["key"]: row["credit"]["last_touch"]["conversions"] for row in r.json()["rows"]}
    assert got == {"email": 2, "sms": 1, "paid_search": 1, "paid_social": 0}
    bad = httpx.post(
        f"{server.url}/api/analyses/attribution", headers=server.auth, json={"models": ["magic"]}
    )
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("models[0]:")
    db = ["--db", str(server.store.path)]
    out = CliRunner().invoke(app, ["attribution", *db, "--model", "first_touch", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["attributed_conversions"] == 4
    spec = tmp_path / "a.yaml"
    spec.write_text("lookback_days: 60\nmodels: [first_touch, markov]\n")
    out = CliRunner().invoke(app, ["attribution", *db, "--spec", str(spec)])
    assert out.exit_code == 0, out.output
    assert "paid_search" in out.output and "markov" in out.output
