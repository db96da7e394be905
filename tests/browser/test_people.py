"""People: find a person by any identifier, open their page, read their journey and identity."""

from __future__ import annotations

from typing import Any

import pytest
from tests.browser.conftest import App, Watch, axe, shot

pytestmark = pytest.mark.browser


def _known_person(app: App) -> tuple[str, str, int]:
    """A demo person with a user id and an anonymous id: (user id, anonymous id, events)."""
    row = app.store.query(
        "SELECT u.value, a.value, u.profile_id FROM identifiers u JOIN identifiers a "
        "USING (profile_id) WHERE u.kind = 'user_id' AND a.kind = 'anonymous_id' "
        "ORDER BY u.value LIMIT 1"
    )[0]
    n = app.store.query("SELECT count(*) FROM resolved_events WHERE profile_id = ?", [row[2]])[0][0]
    return row[0], row[1], int(n)


def test_search_by_anonymous_id_and_open_the_person(demo_app: App, page: Any) -> None:
    user_id, anon, n = _known_person(demo_app)
    page.goto(demo_app.url + "/people")
    page.get_by_role("searchbox").fill(anon[:13])
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("table", name="People")
    results.get_by_role("link", name=user_id).click()

    page.get_by_role("heading", name=user_id, level=1).wait_for()
    timeline = page.get_by_role("region", name="Timeline")
    timeline.get_by_text(f"{n:,} events in").wait_for()
    assert timeline.locator("details.session").count() >= 1
    identity = page.get_by_role("region", name="Identity")
    identity.get_by_text(anon).wait_for()
    axe(page)
    shot(page, "person")


def test_unknown_person_says_not_found(demo_app: App, page: Any, watch: Watch) -> None:
    watch.expected.append("404 (Not Found)")
    page.goto(demo_app.url + "/people/nobody-at-all")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "no profile has this id" in alert.inner_text()


def test_a_persons_page_asks_for_profile_and_timeline_side_by_side(
    demo_app: App, page: Any
) -> None:
    """A person's page opened by its address asks for the profile and the timeline at once,
    each once, both by the address's reference and before the page's code is requested (the
    timeline used to wait for the profile's answer); the explanation follows the timeline."""
    user_id, anon, n = _known_person(demo_app)
    loads: list[str] = []
    page.on("request", lambda r: loads.append(r.url))
    page.goto(f"{demo_app.url}/people/{user_id}")
    timeline = page.get_by_role("region", name="Timeline")
    timeline.get_by_text(f"{n:,} events in").wait_for()
    page.get_by_role("region", name="Identity").get_by_text(anon).wait_for()
    chunk = next(i for i, u in enumerate(loads) if "/assets/PersonPage-" in u)
    profile = [
        i for i, u in enumerate(loads) if u.endswith(f"/api/profiles/{user_id}?consent=false")
    ]
    line = [i for i, u in enumerate(loads) if f"/api/profiles/{user_id}/timeline?" in u]
    why = [i for i, u in enumerate(loads) if f"/api/profiles/{user_id}/explain" in u]
    assert len(profile) == 1 and len(line) == 1 and len(why) == 1, loads
    assert profile[0] < chunk and line[0] < chunk < why[0], loads
