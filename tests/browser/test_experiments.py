"""The experiments pages: define an experiment over an outside test's Experiment Viewed events,
read its verdict (which arm wins, by how much, how sure, whether to wait) and the lift over time;
the sample-size calculator."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def send_test_events(app: App) -> None:
    """400 people a arm seen over ten days; 15% of control and 30% of `bold` order in a day."""
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    batch: list[dict[str, Any]] = []
    for i in range(800):
        arm = "control" if i % 2 else "bold"
        seen = now - timedelta(days=10) + timedelta(minutes=i * 17)
        user = f"hb-{i}"
        batch.append({"type": "track", "event": "Experiment Viewed", "userId": user,
                      "timestamp": seen.isoformat(),
                      "properties": {"experiment_id": "hero-banner", "variation_id": arm}})  # fmt: skip
        if rng.random() < (0.15 if arm == "control" else 0.30):
            batch.append({"type": "track", "event": "Order Completed", "userId": user,
                          "timestamp": (seen + timedelta(hours=5)).isoformat(),
                          "properties": {"revenue": 40}})  # fmt: skip
    for start in range(0, len(batch), 400):
        app.send(batch[start : start + 400])


def test_define_an_experiment_and_read_its_result(demo_app: App, page: Any) -> None:
    send_test_events(demo_app)
    page.goto(demo_app.url + "/experiments")
    page.get_by_role("button", name="New experiment").click()
    form = page.get_by_role("region", name="New experiment")
    form.get_by_label("Name").fill("hero-banner")
    form.locator("select").first.select_option("outside")
    form.get_by_label("Experiment id", exact=False).fill("hero-banner")
    form.get_by_label("Control arm").fill("control")
    form.get_by_role("combobox", name="Event").fill("Order Completed")
    form.get_by_label("Within").fill("2d")
    form.get_by_role("button", name="Save and see the result").click()
    page.wait_for_url("**/experiments/hero-banner")
    verdict = page.get_by_role("region", name="Verdict")
    verdict.wait_for(timeout=60_000)
    text = verdict.inner_text()
    assert "We have a winner" in text, text
    assert "bold" in text
    chart = page.get_by_role("region", name="Lift over time")
    chart.locator("svg").first.wait_for()
    table = page.get_by_role("region", name="Metric Order Completed")
    assert "400" in table.inner_text()
    axe(page)
    shot(page, "experiment-result")

    page.goto(demo_app.url + "/experiments")
    page.get_by_role("row").filter(has_text="hero-banner").wait_for()
    calc = page.get_by_role("region", name="Sample size")
    calc.get_by_role("button", name="Calculate").click()
    assert "people per arm" in calc.get_by_role("status").inner_text()
    axe(page)
