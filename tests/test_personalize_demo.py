"""The demo's home page personalises: a returning visitor's hero names the category they viewed
last, and people the slow support queue kept waiting get the support banner (known answers read
from the log itself)."""

from __future__ import annotations

from collections import Counter

from demo_helpers import ingest_demo
from touchpath.demo import DemoConfig
from touchpath.demo import personalize as demo_personalize
from touchpath.personalize import Personalizer
from touchpath.system import Touchpath


def test_the_demo_home_page_personalises(tp: Touchpath) -> None:
    store = tp.store
    source = ingest_demo(store, DemoConfig(customers=300, days=30, seed=3), batch=500)
    assert demo_personalize.setup(store, "demo") == ["home-hero", "support-banner"]
    p: Personalizer = tp.services["personalize"]
    p.sync()
    p.reload_decisions()

    last = dict(
        store.query(
            "SELECT u.user_id, arg_max(properties->>'$.category', (timestamp, seq)) "
            "FROM resolved_events e JOIN (SELECT profile_id, min(value) AS user_id FROM "
            "identifiers WHERE kind = 'user_id' GROUP BY ALL) u USING (profile_id) "
            "WHERE event = 'Product Viewed' GROUP BY ALL"
        )
    )
    waited = {
        u
        for (u,) in store.query(
            "SELECT DISTINCT user_id FROM events WHERE event = 'Ticket Resolved' "
            "AND (properties->>'$.wait_hours')::DOUBLE > 24"
        )
    }
    users = [u for (u,) in store.query("SELECT DISTINCT user_id FROM events WHERE user_id "
                                       "IS NOT NULL ORDER BY 1")]  # fmt: skip
    assert len(last) > 100 and len(waited) > 5
    seen: Counter[str] = Counter()
    for user in users:
        hero, banner = p.decide(source, None, user_id=user, anonymous_id=None, record=False)
        seen[hero.arm] += 1
        if hero.arm == "last-category":
            assert hero.content == {
                "headline": f"Back for more {last[user]}?",
                "category": last[user],
            }, user
        elif hero.arm == "new-season":
            assert user not in last, user  # only people who never viewed a product
        assert (banner.variant == "priority-support") == (user in waited), user
    assert seen["last-category"] > 100 and 0 < seen["holdout"] < seen["last-category"] / 4
    # A visitor never seen gets the default hero and no banner.
    hero, banner = p.decide(source, None, user_id=None, anonymous_id="first-visit")
    assert (hero.variant, banner.variant, banner.content) == ("new-season", "none", {})
