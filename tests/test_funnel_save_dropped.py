"""A funnel's drop-offs saved as a static audience: members, enter/exit events, refreshes leave
it alone, it drives an audience breakdown; Python, CLI and REST."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest
from tests.conftest import Server
from typer.testing import CliRunner

from touchpath.analytics import api, journey
from touchpath.analytics.funnels import dropped_sql, use_sorted
from touchpath.analytics.testing import journeys_for, profile_of
from touchpath.cli import app
from touchpath.errors import BadRequest
from touchpath.profiles import audiences as aud
from touchpath.profiles import refresh
from touchpath.profiles.specs import Audience
from touchpath.store import Store
from touchpath.store.store import utcnow
from touchpath.system import Touchpath

T0 = datetime(2024, 3, 4, 9, 0, 0)
STEPS = [{"event": "view"}, {"event": "cart"}, {"event": "buy"}]
SHOP: dict[str, list[tuple[str, float]]] = {
    "ann": [("view", 0), ("cart", 1), ("buy", 2)],
    "bob": [("view", 0), ("cart", 1)],
    "cat": [("view", 0), ("cart", 5)],
    "dan": [("view", 0)],
    "eve": [("view", 0), ("buy", 3)],
    "fay": [("view", 10), ("cart", 11), ("buy", 12)],
}


def ev(name: str, minutes: float) -> dict[str, object]:
    return {"event": name, "timestamp": (T0 + timedelta(minutes=minutes)).isoformat()}


def load(store: Store, people: Mapping[str, Sequence[tuple[str, float]]]) -> None:
    journeys_for(store, {p: [ev(e, m) for e, m in evs] for p, evs in people.items()})


def members(store: Store, name: str) -> list[str]:
    rows = store.query(
        "SELECT profile_id FROM audience_members WHERE audience = ? ORDER BY 1", [name]
    )
    return [p for (p,) in rows]


def audience_events(store: Store, event: str) -> list[str]:
    rows = store.query(
        "SELECT user_id FROM events WHERE source = 'touchpath.audiences' AND event = ? "
        "AND properties ->> '$.audience' = 'carted' ORDER BY 1",
        [event],
    )
    return [u for (u,) in rows]


def test_saved_members_are_the_dropped_list_with_enter_and_exit_events(store: Store) -> None:
    load(store, SHOP)
    spec = api.funnel_spec({"steps": STEPS, "dropped_at": 3})
    listed = api.funnel(store, spec).dropped
    saved = api.save_dropped(store, spec, 3, "carted")
    assert listed is not None and members(store, "carted") == sorted(listed.profiles)
    assert members(store, "carted") == [profile_of("bob"), profile_of("cat")]
    assert (saved.size, saved.entered, saved.exited) == (2, 2, 0)
    assert audience_events(store, "Audience Entered") == ["bob", "cat"]
    # bob buys later: saving again lets him exit, and only him.
    load(store, {"bob": [("buy", 30)]})
    saved = api.save_dropped(store, spec, 3, "carted")
    assert members(store, "carted") == [profile_of("cat")]
    assert (saved.size, saved.entered, saved.exited) == (1, 0, 1)
    assert audience_events(store, "Audience Exited") == ["bob"]
    assert audience_events(store, "Audience Entered") == ["bob", "cat"]


def test_refreshes_and_settling_leave_a_static_audience_alone(tp: Touchpath) -> None:
    store = tp.store
    load(store, SHOP)
    store.wait_idle()
    rule = Audience.model_validate(
        {"name": "viewers", "condition": {"kind": "performed", "event": {"event": "view"}}}
    )
    store.write_sync(lambda con: aud.define_audience(con, rule, utcnow()))
    api.save_dropped(store, {"steps": STEPS}, 2, "viewed_only")
    before = members(store, "viewed_only")
    assert len(before) == 2  # dan and eve viewed and never carted
    assert refresh(store, "audiences").exited == 0
    assert len(members(store, "viewers")) == 6 and members(store, "viewed_only") == before
    load(store, {"dan": [("cart", 40)], "gus": [("view", 41)]})  # settling touches dan
    store.wait_idle()
    refresh(store)
    assert members(store, "viewed_only") == before
    with store.reading() as con:
        kinds = {r["name"]: (r["kind"], r["size"]) for r in aud.audience_rows(con)}
        assert [a.name for a in aud.list_audiences(con)] == ["viewers"]
    assert kinds == {"viewers": ("rule", 7), "viewed_only": ("static", 2)}


def test_a_saved_drop_off_drives_an_audience_breakdown(store: Store) -> None:
    load(store, SHOP)
    api.save_dropped(store, {"steps": STEPS}, 3, "carted")
    r = api.funnel(
        store, {"steps": STEPS, "breakdown": {"by": "audience", "audiences": ["carted"]}}
    )
    counts = {g.value: [s.count for s in g.steps] for g in r.groups}
    assert counts == {None: [6, 4, 2], "(none)": [4, 2, 2], "carted": [2, 2, 0]}


def test_drop_offs_of_one_breakdown_group(store: Store) -> None:
    load(store, SHOP)
    api.save_dropped(store, {"steps": STEPS}, 3, "carted")  # bob, cat
    by_carted = {"by": "audience", "audiences": ["carted"]}
    spec = {"steps": STEPS[:2], "breakdown": by_carted}
    saved = api.save_dropped(store, spec, 2, "viewed_only", group="(none)")
    assert members(store, "viewed_only") == [profile_of("dan"), profile_of("eve")]
    assert saved.group == "(none)" and saved.size == 2
    api.save_dropped(store, spec, 2, "none_of_carted", group="carted")  # they all carted
    assert members(store, "none_of_carted") == []
    with pytest.raises(Exception, match="group: 'carted' needs a breakdown"):
        api.save_dropped(store, {"steps": STEPS}, 2, "x", group="carted")


def test_the_sorted_copy_saves_the_same_profiles(store: Store) -> None:
    load(store, SHOP)
    spec = api.funnel_spec({"steps": STEPS, "window": "4m"})
    plain = sorted(p for (p,) in store.query(dropped_sql(spec, 3)))
    journey.optimize(store)
    with store.reading() as cur:
        assert use_sorted(cur, spec)
    assert sorted(p for (p,) in store.query(dropped_sql(spec, 3, sorted_copy=True))) == plain
    api.save_dropped(store, spec, 3, "carted")
    # cat carted after the 4-minute window: she dropped at step 2 and is not in the list.
    assert members(store, "carted") == plain == [profile_of("bob")]


def test_names_and_steps_are_checked(store: Store) -> None:
    load(store, SHOP)
    rule = Audience.model_validate(
        {"name": "viewers", "condition": {"kind": "performed", "event": {"event": "view"}}}
    )
    store.write_sync(lambda con: aud.define_audience(con, rule, utcnow()))
    with pytest.raises(BadRequest, match="'viewers': a rule-based audience"):
        api.save_dropped(store, {"steps": STEPS}, 2, "viewers")
    with pytest.raises(Exception, match="step: needs 2 <= step <= 3, got 4"):
        api.save_dropped(store, {"steps": STEPS}, 4, "later")
    with pytest.raises(BadRequest, match="audience name '/x'"):
        api.save_dropped(store, {"steps": STEPS}, 2, "/x")
    api.save_dropped(store, {"steps": STEPS}, 2, "static_one")
    with pytest.raises(BadRequest, match="'static_one': a static audience"):
        rule2 = rule.model_copy(update={"name": "static_one"})
        store.write_sync(lambda con: aud.define_audience(con, rule2, utcnow()))


def test_cli_save_dropped_then_audiences_list(store: Store) -> None:
    load(store, SHOP)
    db = str(store.path)
    store.close()
    args = ["funnel", "--db", db, "--step", "view", "--step", "cart", "--step", "buy"]
    out = CliRunner().invoke(app, [*args, "--save-dropped", "3:carted", "--json"])
    assert out.exit_code == 0, out.output
    saved = json.loads(out.output)["saved"]
    assert (saved["audience"], saved["size"], saved["step"]) == ("carted", 2, 3)
    out = CliRunner().invoke(app, [*args, "--save-dropped", "3:carted"])
    assert out.exit_code == 0 and "carted: 2 who dropped at step 3" in out.output
    out = CliRunner().invoke(app, ["audiences", "list", "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    rows = {r["name"]: r for r in json.loads(out.output)}
    assert (rows["carted"]["kind"], rows["carted"]["size"]) == ("static", 2)
    out = CliRunner().invoke(app, [*args, "--save-dropped", "carted"])
    assert out.exit_code != 0 and "expected STEP:NAME" in out.output


def test_rest_save_dropped_and_list(server: Server) -> None:
    load(server.store, SHOP)
    with server.client() as http:
        r = http.post(
            "/api/analyses/funnel/save-dropped",
            json={"spec": {"steps": STEPS}, "step": 3, "audience": "carted"},
        )
        assert r.status_code == 200, r.text
        assert r.json() == {
            "audience": "carted",
            "step": 3,
            "group": None,
            "size": 2,
            "entered": 2,
            "exited": 0,
        }
        listed = {a["name"]: a for a in http.get("/api/audiences").json()}
        assert listed["carted"]["kind"] == "static" and listed["carted"]["size"] == 2
        assert listed["carted"]["origin"]["dropped_at"] == 3
        got = http.get("/api/audiences/carted/members").json()
        assert sorted(m["user_id"] for m in got["members"]) == ["bob", "cat"]
        r = http.post(
            "/api/analyses/funnel/save-dropped",
            json={"spec": {"steps": STEPS}, "step": 5, "audience": "x"},
        )
        assert r.status_code == 400 and "step: needs 2 <= step <= 3" in r.text
