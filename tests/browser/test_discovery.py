"""Process discovery, attribution and feedback: each page shows the numbers the REST API gives
for the same spec, its controls change the address and the request, and it passes axe."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def _api(app: App, kind: str, spec: dict[str, Any]) -> Any:
    r = httpx.post(f"{app.url}/api/analyses/{kind}", json=spec, headers=app.auth, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def test_directly_follows_graph_and_variants(demo_app: App, page: Any) -> None:
    page.goto(demo_app.url + "/insights/discovery")
    graph = page.get_by_role("region", name="Directly-follows graph")
    graph.locator("svg").first.wait_for()
    page.get_by_label("Show the busiest").fill("8")
    page.get_by_label("Leave out event").fill("Email Delivered")
    page.get_by_role("button", name="Leave out", exact=True).click()
    page.get_by_role("button", name="Show graph").click()
    page.wait_for_url("**top=8*")
    assert "x=Email+Delivered" in page.url
    want = _api(demo_app, "dfg", {"case": "session", "exclude": ["Email Delivered"], "top_k": 8})
    graph.get_by_text(f"{want['cases']:,} journeys, {want['events']:,} events").wait_for()
    busiest = max(want["edges"], key=lambda e: e["frequency"])
    row = page.get_by_role("table", name="Busiest transitions").get_by_role("row").nth(1)
    assert row.inner_text().split("\t")[:3] == [
        busiest["source"], busiest["target"], f"{busiest['frequency']:,}"
    ]  # fmt: skip
    # The time view: the same graph, arrows labelled with median times, from the same answer.
    page.get_by_role("radio", name="Median time").click()
    page.wait_for_url("**view=time*")
    assert graph.get_by_text("green when quick").is_visible()
    variants = _api(
        demo_app, "variants", {"case": "session", "exclude": ["Email Delivered"], "limit": 15}
    )
    table = page.get_by_role("table", name="Variants")
    table.get_by_text(f"{variants['distinct_variants']:,} different ones").wait_for()
    first = variants["variants"][0]
    assert " → ".join(first["steps"]) in table.get_by_role("row").nth(1).inner_text()
    axe(page)
    shot(page, "discovery")


def test_attribution_models_side_by_side(demo_app: App, page: Any) -> None:
    want = _api(demo_app, "attribution", {"conversion": {"event": "Order Completed"}})
    page.goto(demo_app.url + "/insights/attribution")
    chart = page.get_by_role("region", name="Attribution chart")
    chart.get_by_text(f"{want['conversions']:,}", exact=True).wait_for()
    table = page.get_by_role("table", name="Credit by model")
    header = table.get_by_role("row").first.inner_text()
    for label in ("First touch", "Last touch", "Linear", "Time decay", "Position-based", "Markov"):
        assert label in header
    # A row has a model's credit only where that model gives it some (Markov alone may credit
    # a channel such as delivery, which no converting path ends on).
    top = max(want["rows"], key=lambda r: r["credit"].get("linear", {}).get("conversions", 0))
    first = table.get_by_role("row").nth(1).inner_text()
    assert first.startswith(top["key"])
    assert f"{top['credit']['last_touch']['conversions']:.1f}" in first
    page.get_by_role("radio", name="Revenue").click()
    page.wait_for_url("**metric=revenue*")
    table.get_by_text("Revenue credited").wait_for()
    page.get_by_label("A touch is").select_option("event")
    page.get_by_role("button", name="Show attribution").click()
    page.wait_for_url("**touch=event*")
    axe(page)
    shot(page, "attribution")


def test_feedback_per_touchpoint(demo_app: App, page: Any) -> None:
    want = _api(demo_app, "feedback", {})
    assert want["overall"]["responses"] > 0, "the demo sends surveys"
    page.goto(demo_app.url + "/insights/feedback")
    overall = page.get_by_role("region", name="Overall")
    overall.get_by_text(f"NPS ({want['overall']['nps_responses']:,} responses)").wait_for()
    table = page.get_by_role("table", name="Feedback per touchpoint")
    busiest = max(want["touchpoints"], key=lambda t: t["responses"])
    row = table.get_by_role("row").nth(1).inner_text()
    assert row.startswith(busiest["name"]) and f"{busiest['responses']:,}" in row
    for phrase in want["negative_phrases"].get(busiest["name"], [])[:2]:
        assert phrase["phrase"] in row
    page.get_by_role("img", name="NPS and CSAT per touchpoint").locator("svg").wait_for()
    axe(page)
    shot(page, "feedback")
