"""Journeys and maps in the browser: "Create a journey from here" on a map touchpoint opens the
builder with that touchpoint as the entry (and the map's goal); a touchpoint is chosen as entry
or goal from a map and a list of its touchpoints by stage; the saved journey is entered by
people who reach the touchpoint."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser

MAP = "demo-first-purchase"
TITLE = "Northwind Outfitters · first purchase"


def combo(scope: Any, label: str) -> Any:
    """The select labelled `label` (a select's name also holds its chosen option's text)."""
    return scope.get_by_role("combobox", name=re.compile("^" + re.escape(label) + r"(?! event)"))


def test_create_a_journey_from_a_map_touchpoint(demo_app: App, page: Any) -> None:
    page.goto(f"{demo_app.url}/maps/{MAP}")
    card = page.get_by_label("Touchpoint Checkout (app)", exact=True)
    card.wait_for(timeout=60_000)
    shot(page, "map-create-journey")
    card.get_by_role("link", name="Create a journey from here").click()
    page.wait_for_url("**/journeys/new?entry_map=*")

    entry = page.get_by_role("group", name="Entry: map touchpoint")
    entry.wait_for()
    assert combo(entry, "Map").input_value() == MAP
    assert combo(entry, "Touchpoint").input_value() == "Checkout (app)"
    chosen = page.get_by_label("Entry: chosen touchpoint")
    chosen.wait_for()
    text = chosen.inner_text()
    for part in ("Checkout (app)", "stage Decision", TITLE, "Checkout Started · channel app"):
        assert part in text, (part, text)
    settings = page.get_by_role("region", name="Journey settings")
    assert settings.get_by_label("Name (in addresses", exact=False).input_value() == "checkout-app"
    assert settings.get_by_label("Goal event").input_value() == "Order Completed"
    # the canvas draws its nodes' text after it has measured them: wait for it
    expect(page.locator(".jnode-entry")).to_contain_text("Checkout (app)")
    # The document is valid as it stands: the server found nothing to fix.
    page.wait_for_timeout(600)  # the draft is checked 400 ms after the last change
    assert page.get_by_role("alert", name="Problems").count() == 0
    axe(page, exclude=[".react-flow__renderer"])
    shot(page, "journey-from-map")

    # The goal: another touchpoint of the same map, chosen from the list by stage.
    combo(settings, "Goal").select_option("touchpoint")
    goal = page.get_by_role("group", name="Goal: map touchpoint")
    assert combo(goal, "Map").input_value() == MAP
    combo(goal, "Touchpoint").select_option(label="Decision › Order placed")
    goal_text = page.get_by_label("Goal: chosen touchpoint").inner_text()
    assert "Order placed" in goal_text and "stage Decision" in goal_text
    shot(page, "journey-goal-touchpoint")

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/journeys/checkout-app?version=1*")
    saved = httpx.get(f"{demo_app.url}/api/journeys/checkout-app", headers=demo_app.auth).json()
    definition = saved["definition"]
    assert definition["entry"] == {"kind": "touchpoint", "map": MAP, "touchpoint": "Checkout (app)"}
    assert definition["goal"]["touchpoint"] == {"map": MAP, "touchpoint": "Order placed"}

    page.get_by_role("button", name="Publish v1").click()
    page.get_by_role("button", name="Publish v1").wait_for(state="detached")
    # Someone who reaches the touchpoint (Checkout Started in the app) enters the journey.
    app = {"app": {"name": "Northwind", "version": "4.2"}, "device": {"type": "ios"}}
    demo_app.send(
        [{"type": "track", "event": "Checkout Started", "userId": "jm-1", "context": app}]
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        got = httpx.get(f"{demo_app.url}/api/journeys/checkout-app/counts", headers=demo_app.auth)
        if got.json()["entered"] >= 1:
            break
        time.sleep(0.3)
    else:
        pytest.fail(f"nobody entered the journey from the touchpoint: {got.json()}")


def test_choose_a_map_touchpoint_in_the_builder(demo_app: App, page: Any) -> None:
    page.goto(f"{demo_app.url}/journeys/new?name=support-follow-up&tab=settings")
    settings = page.get_by_role("region", name="Journey settings")
    combo(settings, "Entry").select_option("touchpoint")
    entry = page.get_by_role("group", name="Entry: map touchpoint")
    touchpoint = combo(entry, "Touchpoint")
    assert touchpoint.is_disabled()
    combo(entry, "Map").select_option(label=f"{TITLE} ({MAP})")
    touchpoint.locator("option", has_text="Support ticket").wait_for(state="attached")
    options = touchpoint.locator("option").all_inner_texts()
    assert "Experience › Support ticket" in options and "Awareness › Home page (web)" in options
    groups = touchpoint.locator("optgroup")
    assert groups.first.get_attribute("label") == "Stage: Awareness"
    touchpoint.select_option(label="Experience › Ticket resolved after a day")
    text = page.get_by_label("Entry: chosen touchpoint").inner_text()
    assert "Ticket resolved after a day" in text and "stage Experience" in text
    assert "wait_hours > 24" in text
    axe(page, exclude=[".react-flow__renderer"])


def test_a_touchpoint_the_map_does_not_have_is_named(demo_app: App, page: Any) -> None:
    page.goto(f"{demo_app.url}/journeys/new?entry_map={MAP}&entry_touchpoint=Nowhere&tab=settings")
    entry = page.get_by_role("group", name="Entry: map touchpoint")
    entry.get_by_text("has no touchpoint “Nowhere”").wait_for()
    problems = page.get_by_role("alert", name="Problems")
    problems.wait_for()
    assert "entry.touchpoint" in problems.inner_text()
