"""The shared vocabulary of events/: one condition compiler with one NULL rule and one operator
list for events, traits and computed traits; one name per duration, seconds inside; migrations
found per area in version order; listeners started only by the composition root."""

from __future__ import annotations

from typing import Any

import pytest

from touchpath.analytics import api
from touchpath.analytics.attribution import AttributionSpec
from touchpath.analytics.discovery import DfgSpec
from touchpath.analytics.testing import journeys_for, profile_of
from touchpath.errors import SpecError
from touchpath.events.match import OPS, Condition, EventMatch
from touchpath.identity.rules import Limit
from touchpath.maps.document import load_map
from touchpath.profiles.audiences import define_audience
from touchpath.profiles.specs import Audience, ComputedTrait, Performed, parse_spec
from touchpath.store import Store
from touchpath.store.migrations import discover
from touchpath.store.store import utcnow
from touchpath.system import Touchpath, components

T0 = "2026-01-05T10:00:00"

ORDERS = {
    "ann": [{"event": "Order Completed", "timestamp": T0, "properties": {"coupon": "WELCOME"}}],
    "bob": [{"event": "Order Completed", "timestamp": T0, "properties": {"coupon": "SPRING"}}],
    "cat": [{"event": "Order Completed", "timestamp": T0, "properties": {}}],
    "dan": [{"event": "Order Completed", "timestamp": T0, "properties": {"gift": True}}],
}


def matching(store: Store, *where: dict[str, Any]) -> set[str]:
    """Who has an order matching `where`, by one funnel step (reach of step 1)."""
    step = {"event": "Order Completed", "where": list(where)}
    spec = api.funnel_spec({"steps": [step, step], "dropped_at": 2})
    result = api.funnel(store, spec)
    entered = result.overall.entered
    with store.reading() as cur:
        rows = cur.execute(
            "SELECT DISTINCT profile_id FROM resolved_events WHERE "
            + EventMatch.model_validate(step).sql()
        ).fetchall()
    assert len(rows) == entered
    return {p for (p,) in rows}


@pytest.mark.parametrize(
    ("where", "who"),
    [
        ({"property": "coupon", "op": "eq", "value": "WELCOME"}, {"ann"}),
        # A missing value meets every negated test: cat has no coupon, so hers is not WELCOME.
        ({"property": "coupon", "op": "neq", "value": "WELCOME"}, {"bob", "cat", "dan"}),
        ({"property": "coupon", "op": "not_in", "value": ["WELCOME", "X"]}, {"bob", "cat", "dan"}),
        ({"property": "coupon", "op": "not_contains", "value": "welc"}, {"bob", "cat", "dan"}),
        ({"property": "coupon", "op": "contains", "value": "welc"}, {"ann"}),
        ({"property": "coupon", "op": "in", "value": ["SPRING"]}, {"bob"}),
        ({"property": "coupon", "op": "is_not_set"}, {"cat", "dan"}),
        ({"property": "gift", "op": "eq", "value": True}, {"dan"}),  # JSON's `true`
    ],
)
def test_one_null_rule_for_event_conditions(
    store: Store, where: dict[str, Any], who: set[str]
) -> None:
    journeys_for(store, ORDERS)
    assert matching(store, where) == {profile_of(p) for p in who}


def test_profiles_use_the_same_operators_and_null_rule(tp: Touchpath) -> None:
    store = tp.store
    assert set(OPS) >= {"not_contains", "neq", "not_in", "is_set"}
    journeys_for(
        store,
        {
            "ann": [{"type": "identify", "timestamp": T0, "traits": {"plan": "pro"}}],
            "bob": [{"type": "identify", "timestamp": T0, "traits": {"plan": "free"}}],
            "cat": [{"type": "identify", "timestamp": T0, "traits": {"name": "Cat"}}],
        },
    )
    store.wait_idle()
    for op, value, who in (
        ("neq", "pro", {"bob", "cat"}),  # cat has no plan: not pro
        ("not_contains", "PR", {"bob", "cat"}),
        ("eq", "pro", {"ann"}),
    ):
        aud = Audience.model_validate(
            {"name": f"a_{op}", "condition": {"kind": "trait", "trait": "plan", "op": op,
                                               "value": value}}
        )  # fmt: skip
        store.write_sync(lambda con, aud=aud: define_audience(con, aud, utcnow()))
        from touchpath.profiles import refresh

        refresh(store, "audiences")
        got = store.query(
            "SELECT i.value FROM audience_members m JOIN identifiers i USING (profile_id) "
            "WHERE m.audience = ? AND i.kind = 'user_id' ORDER BY 1",
            [aud.name],
        )
        assert {u for (u,) in got} == who, op


def test_order_tests_compare_numbers_and_numeric_text() -> None:
    assert Condition(property="revenue", op="gt", value="50").sql().sql("duckdb") == (
        "TRY_CAST(JSON_EXTRACT_STRING(properties, '$.\"revenue\"') AS DOUBLE) > 50.0"
    )
    # A text operand of an order test compares as text (ISO dates sort as text).
    assert Condition(property="day", op="gte", value="2026-01-01").sql().sql("duckdb") == (
        "JSON_EXTRACT_STRING(properties, '$.\"day\"') >= '2026-01-01'"
    )


@pytest.mark.parametrize(
    ("model", "old", "new", "seconds"),
    [
        (AttributionSpec, {"lookback_days": 14}, "lookback", 14 * 86400),
        (AttributionSpec, {"half_life_days": 3.5}, "half_life", 302400),
        (AttributionSpec, {"session_gap_minutes": 45}, "session_gap", 2700),
        (DfgSpec, {"session_gap_minutes": 200}, "session_gap", 12000),
        (Limit, {"max": 5, "within_days": 7}, "within", 7 * 86400),
    ],
)
def test_old_duration_names_are_read_in_their_unit(
    model: type[Any], old: dict[str, Any], new: str, seconds: int
) -> None:
    spec = model.model_validate(old)
    assert getattr(spec, new) == seconds
    assert not any(k.endswith(("_days", "_minutes")) for k in spec.model_dump())


def test_durations_take_units_and_refuse_both_names() -> None:
    assert AttributionSpec.model_validate({"lookback": "2w"}).lookback == 14 * 86400
    trait = parse_spec(
        ComputedTrait,
        {"name": "n", "op": "count", "event": {"event": "x"}, "within_days": 30},
        "t",
    )
    assert trait.within == 30 * 86400 and "within" in trait.model_dump()
    assert Performed.model_validate({"event": {"event": "x"}, "within": "1h"}).within == 3600
    assert load_map("name: m\nwindow_days: 7\nstages: [{name: s}]").window == 7 * 86400
    with pytest.raises(SpecError, match="lookback_days: the old name of lookback"):
        api.parse_spec(AttributionSpec, {"lookback_days": 1, "lookback": "1d"})


def test_an_optional_duration_may_be_null_but_not_zero() -> None:
    # JSON clients (the web app) send `null` for "no window"; it was a TypeError (a 500).
    assert Performed.model_validate({"event": {"event": "x"}, "within": None}).within is None
    with pytest.raises(SpecError, match="within: Input should be greater than 0"):
        parse_spec(ComputedTrait, {"name": "n", "op": "count", "within": 0}, "t")


def test_migrations_live_with_their_area_in_version_order() -> None:
    found = discover()
    assert [m.version for m in found] == sorted(m.version for m in found)
    area = {m.version: m.area for m in found}
    # The versions they had in the one schema file, so no store runs one twice.
    assert {v: area[v] for v in (1, 2, 3, 10, 11, 20, 21, 25, 30)} == {
        1: "store", 2: "identity", 3: "store", 10: "identity", 11: "profiles",
        20: "analytics", 21: "analytics", 25: "analytics", 30: "maps",
    }  # fmt: skip
    view = [m for m in found if "resolved_events" in m.sql and "CREATE" in m.sql]
    assert {m.area for m in view} == {"identity"}


def test_a_reopened_store_applies_nothing_again(tmp_path: Any) -> None:
    with Store(tmp_path / "t.duckdb") as store:
        first = store.query("SELECT version, applied_at FROM schema_migrations ORDER BY 1")
    with Store(tmp_path / "t.duckdb") as store:
        assert store.query("SELECT version, applied_at FROM schema_migrations ORDER BY 1") == first
    assert [v for v, _ in first] == [m.version for m in discover()]


def test_listeners_start_only_through_the_composition_root(store: Store) -> None:
    assert [c.name for c in components(background=False, listen=False)] == []
    with Touchpath.open(store=store, listen=False) as reader:
        assert reader.parts == [] and reader.services == {}
    review = {"event": "Review Submitted", "timestamp": T0, "properties": {"text": "Great!"}}
    with Touchpath.open(store=store) as tp:
        assert [p.name for p in tp.parts] == [
            "identity",
            "catalogue",
            "plans",
            "sentiment",
            "journeys",
            "forwarding",
            "personalize",
        ]
        assert tp.services["unify"].store is store
        journeys_for(store, {"ann": [review]})
        store.wait_idle()
    assert store.query("SELECT count(*) FROM sentiment")[0][0] == 1
    assert store.query("SELECT count(*) FROM profiles")[0][0] == 1
    # Stopped components stop listening: nothing scores or resolves what comes after.
    journeys_for(store, {"bob": [review]})
    store.wait_idle()
    assert store.query("SELECT count(*) FROM sentiment")[0][0] == 1
    assert store.query("SELECT count(*) FROM profiles")[0][0] == 1
