"""The event catalogue, tracking plans and violations in the web app; a misspelt funnel step
shows the did-you-mean error."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.browser.conftest import App, axe, shot

pytestmark = pytest.mark.browser


def test_catalogue_lists_events_and_their_property_types(demo_app: App, page: Any) -> None:
    want = httpx.get(
        demo_app.url + "/api/catalogue/properties",
        params={"event": "Order Completed", "type": "track"},
        headers=demo_app.auth,
    ).json()["properties"]
    page.goto(demo_app.url + "/catalogue")
    events = page.get_by_role("table", name="Events")
    events.get_by_role("link", name="Order Completed", exact=True).click()
    page.wait_for_url("**event=Order+Completed*")
    props = page.get_by_role("table", name="Properties of Order Completed")
    props.wait_for()
    rows = props.get_by_role("row")
    assert rows.count() == len(want) + 1
    first = rows.nth(1).inner_text()
    assert want[0]["key"] in first and want[0]["value_type"] in first
    axe(page)
    shot(page, "catalogue")


def test_a_misspelt_step_shows_the_closest_names(demo_app: App, page: Any, watch: Any) -> None:
    # The browser logs the API's answers: 400 to the bad spec, and 404 from the catalogue when the
    # step's autocomplete asks for the keys of an event it has never seen.
    watch.expected.extend(["400", "404"])
    page.goto(demo_app.url + "/insights/funnel?s=Product+Viewd&s=Order+Completed")
    alert = page.get_by_role("alert")
    alert.get_by_text("did you mean 'Product Viewed'").wait_for()
    assert "steps[0].event: unknown event 'Product Viewd'" in alert.inner_text()
    shot(page, "funnel-typo")


def test_infer_a_plan_assign_it_and_see_violations(demo_app: App, page: Any, watch: Any) -> None:
    page.goto(demo_app.url + "/plans")
    page.get_by_label("New plan from the data").fill("shop")
    page.get_by_role("button", name="Infer from the catalogue").click()
    page.wait_for_url("**plan=shop*")
    doc = page.get_by_label("Plan document (JSON)")
    doc.wait_for()
    assert '"Order Completed"' in doc.input_value()
    page.get_by_label("Plan of web").select_option("shop")
    page.get_by_label("Mode of web").wait_for()
    assert (
        httpx.get(demo_app.url + "/api/plans/assignments", headers=demo_app.auth).json()[0]["plan"]
        == "shop"
    )
    bad = {"type": "track", "event": "Order Completed", "userId": "u_browser",
           "properties": {"revenue": "lots", "order_id": 7}}  # fmt: skip
    demo_app.send([bad])
    page.goto(demo_app.url + "/violations?by=property")
    table = page.get_by_role("table", name="Violations by property")
    table.get_by_text("properties.revenue: must be number").first.wait_for()
    axe(page)
    shot(page, "violations")
    page.goto(demo_app.url + "/plans?plan=shop")
    page.get_by_label("Plan document (JSON)").wait_for()
    shot(page, "plans")
    httpx.delete(demo_app.url + "/api/plans/shop", headers=demo_app.auth)
