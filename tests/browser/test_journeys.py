"""The journeys pages: the index with live numbers, the builder canvas with counts per node,
inline problems with their paths, adding and configuring a node, saving a version, publishing,
a dry run for a chosen person, and pausing."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser

CART = """
name: cart-rescue
title: Abandoned cart rescue
entry: {kind: event, event: {event: Cart Viewed}}
re_entry: {mode: per_key, key: cart_id}
goal: {event: {event: Order Completed}, within: 3d}
nodes:
  wait_order: {kind: wait_for_event, event: {event: Order Completed}, timeout: 4h,
               on_event: bought, on_timeout: split, position: {x: 0, y: 100}}
  bought: {kind: exit, reason: bought, position: {x: 300, y: 0}}
  split: {kind: split, variants: [{name: remind, weight: 80, next: email}], holdout: 20,
          position: {x: 300, y: 220}}
  email: {kind: send, destination: mail, template: cart-email, position: {x: 580, y: 200}}
"""
PEOPLE = [f"jb-{i}" for i in range(6)]


def setup_journey(app: App) -> None:
    """A mail destination, its template, the journey live, and six people who viewed a cart."""
    h = app.auth
    mail = {"config": {"kind": "smtp", "host": "127.0.0.1", "port": 2525, "security": "none",
                       "from_address": "shop@example.com", "from_name": "The shop"}}  # fmt: skip
    assert httpx.put(f"{app.url}/api/destinations/mail", json=mail, headers=h).status_code == 200
    tpl = {"channel": "email", "fields": {"subject": "Still thinking, {{ traits.first_name }}?",
           "text": "Your cart is waiting."}, "defaults": {"traits.first_name": "there"}}  # fmt: skip
    r = httpx.put(f"{app.url}/api/destinations/templates/cart-email", json=tpl, headers=h)
    assert r.status_code == 200, r.text
    r = httpx.post(f"{app.url}/api/journeys", json={"yaml": CART}, headers=h)
    assert r.status_code == 201, r.text
    r = httpx.post(f"{app.url}/api/journeys/cart-rescue/publish", json={}, headers=h)
    assert r.status_code == 200, r.text
    app.send(
        [
            {
                "type": "track",
                "event": "Cart Viewed",
                "userId": u,
                "properties": {"cart_id": f"c-{u}"},
            }
            for u in PEOPLE
        ]
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = httpx.get(f"{app.url}/api/journeys/cart-rescue/counts", headers=h).json()
        if got["entered"] >= len(PEOPLE):
            return
        time.sleep(0.2)
    pytest.fail(f"people did not enter the journey: {got}")


def test_build_publish_and_dry_run_a_journey(demo_app: App, page: Any) -> None:
    setup_journey(demo_app)
    page.goto(demo_app.url + "/journeys")
    row = page.get_by_role("row").filter(has_text="Abandoned cart rescue")
    row.wait_for()
    assert "Live" in row.inner_text() and "v1 live" in row.inner_text()
    axe(page)
    shot(page, "journeys-index")

    row.get_by_role("link").click()
    node = page.get_by_label("People at wait_order")
    node.wait_for()
    page.wait_for_function(
        "() => document.querySelector('[aria-label=\"People at wait_order\"] dd')?.innerText === '6'"
    )
    assert "6" in page.get_by_label("Journey totals").inner_text()

    # Add a trait update after the send: the server's problem shows on the node until it is set.
    page.locator(".react-flow__node", has_text="cart-email via mail").click()
    page.get_by_role("button", name="+ Update trait").click()
    form = page.get_by_role("region", name="Node update_trait_1")
    problems = form.get_by_role("list", name="Problems of this node")
    problems.wait_for()
    assert "nodes.update_trait_1.trait" in problems.inner_text()
    form.get_by_label("Trait", exact=True).fill("cart_reminded")
    form.get_by_label("Value", exact=True).fill("true")
    problems.wait_for(state="detached")
    shot(page, "journey-builder")
    page.get_by_role("button", name="Save as new version").click()
    page.wait_for_url("**/journeys/cart-rescue?version=2*")
    page.get_by_role("button", name="Publish v2").click()
    page.get_by_role("button", name="Publish v2").wait_for(state="detached")
    saved = httpx.get(f"{demo_app.url}/api/journeys/cart-rescue", headers=demo_app.auth).json()
    assert saved["live_version"] == 2
    assert saved["definition"]["nodes"]["email"]["next"] == "update_trait_1"
    assert saved["definition"]["nodes"]["update_trait_1"]["value"] is True

    page.get_by_role("tab", name="Dry run").click()
    panel = page.get_by_role("region", name="Dry run")
    panel.get_by_label("Person").fill("jb-3")
    panel.get_by_role("button", name="jb-3").click()
    panel.get_by_role("button", name="Run").click()
    result = panel.get_by_label("Dry run result")
    result.wait_for()
    assert "Enters once" in result.inner_text()
    assert "wait_order" in result.inner_text()
    axe(page, exclude=[".react-flow__renderer"])
    shot(page, "journey-dry-run")

    page.get_by_role("button", name="Pause").click()
    page.locator(".badge", has_text="Paused").wait_for()
