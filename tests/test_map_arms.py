"""A map bound for two arms of an experiment, side by side (issue #17, item 5): each arm's
touchpoints carry that arm's people and conversion, planted per arm; the same comparison from
Python, the REST API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import Server, api_token
from tests.journeys_helpers import World
from typer.testing import CliRunner

from touchpath.analytics.experiments import ExperimentSpec
from touchpath.analytics.experiments.saved import save_experiment
from touchpath.cli import app
from touchpath.errors import BadRequest
from touchpath.maps.arms import bind_arms
from touchpath.maps.document import load_map
from touchpath.maps.library import save_map
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

JOURNEY = """
name: cart
entry: {kind: event, event: {event: Cart Viewed}}
nodes:
  holdout:
    kind: split
    variants: [{name: remind, weight: 1, next: done}]
    holdout: 1
  done: {kind: exit, reason: reminded}
"""

MAP = load_map(
    """
name: checkout
goal: {event: Order Completed}
stages:
  - name: consideration
    touchpoints:
      - {name: Cart, match: {event: Cart Viewed}}
  - name: decision
    touchpoints:
      - {name: Ordered, match: {event: Order Completed}}
"""
)


def _planted(tmp_path: Path) -> dict[str, tuple[int, int]]:
    """120 people split by the journey; every 2nd reminded person orders, every 5th held out.
    Returns (people, orders) per arm."""
    world = World(tmp_path)
    try:
        world.publish(JOURNEY)
        users = [f"u{i}" for i in range(120)]
        world.send(*[{"type": "track", "userId": u, "event": "Cart Viewed"} for u in users])
        arm = dict(
            world.store.query(
                "SELECT user_id, json_extract_string(properties, '$.variation_id') FROM events "
                "WHERE event = 'Experiment Viewed'"
            )
        )
        world.later(hours=1)
        out: dict[str, tuple[int, int]] = {}
        orders = []
        for a, every in (("remind", 2), ("holdout", 5)):
            people = sorted((u for u in users if arm[u] == a), key=lambda u: int(u[1:]))
            buyers = people[::every]
            out[a] = (len(people), len(buyers))
            orders += [{"type": "track", "userId": u, "event": "Order Completed"} for u in buyers]
        world.send(*orders)
        spec = ExperimentSpec.journey_split("cart", "holdout", goal="Order Completed")
        save_experiment(world.store, "reminder", spec)
        save_map(world.store, MAP)
    finally:
        world.close()
    return out


def _cart(bound: dict) -> dict:  # type: ignore[type-arg]
    (tp,) = [t for s in bound["stages"] for t in s["touchpoints"] if t["name"] == "Cart"]
    return tp["persona"]  # type: ignore[no-any-return]


def test_each_arm_of_an_experiment_on_the_map_side_by_side(tmp_path: Path) -> None:
    planted = _planted(tmp_path)
    db = tmp_path / "touchpath.duckdb"
    settings = Settings(db=db, port=0)
    with Store(db, settings) as store:
        arms = bind_arms(store, MAP, "reminder")
        assert arms.arms == ("holdout", "remind")  # the control first
        assert arms.sizes == (planted["holdout"][0], planted["remind"][0])
        for bound, arm in ((arms.a, "holdout"), (arms.b, "remind")):
            cart = _cart(bound.model_dump())
            people, buyers = planted[arm]
            assert cart["reach"] == people
            assert cart["to_goal"] == pytest.approx(buyers / people)
            assert bound.map.persona.name == f"Everyone · {arm}"
        # The conversion that moved is marked on the touchpoint, as for two versions of a map.
        assert any(d.mark == "tp:Cart" and d.what == "to goal" for d in arms.differences)
        with pytest.raises(BadRequest, match=r"arms\[1\]: no arm 'sms'"):
            bind_arms(store, MAP, "reminder", ["remind", "sms"])

        # REST: the map compare view with the experiment's arms.
        with serving(settings, store) as url:
            server = Server(url, store, "", "", {"viewer": api_token(store, "viewer")})
            with server.client("viewer") as api:
                got = api.get(
                    "/api/maps/compare",
                    params={
                        "a": "checkout",
                        "experiment": "reminder",
                        "arms": ["remind", "holdout"],
                    },
                )
                assert got.status_code == 200, got.text
                body = got.json()
                assert body["labels"] == ["remind", "holdout"]
                assert body["sizes"] == [planted["remind"][0], planted["holdout"][0]]
                assert _cart(body["a"])["reach"] == planted["remind"][0]
                assert _cart(body["b"])["reach"] == planted["holdout"][0]
                bad = api.get("/api/maps/compare", params={"a": "checkout"})
                assert bad.status_code == 400 and "b: required" in bad.json()["error"]["message"]

    # CLI: the same comparison as the side-by-side page, the differences listed.
    page = tmp_path / "arms.html"
    run = CliRunner().invoke(
        app,
        ["map", "compare", "checkout", "--experiment", "reminder", "--db", str(db),
         "--out", str(page)],
    )  # fmt: skip
    assert run.exit_code == 0, run.output
    html = page.read_text()
    assert "holdout against remind" in html and "to goal" in html
