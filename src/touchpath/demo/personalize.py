"""The demo shop's personalised home page (docs/personalize.md): returning visitors see the
category they browsed last, and people who waited more than a day on support (the planted slow
queue) see a support banner. The audience has no window: the demo's history ends on a fixed
day, so "the last 30 days" would soon hold nobody.

`setup(store, source)` defines what the decisions need (the computed trait `last_category` and
the audience `slow-support`), brings them up to date for everyone, and saves and publishes the
two decisions, `home-hero` and `support-banner`, on the demo's source. Running it again changes
nothing that is already so.
"""

from __future__ import annotations

from typing import Any

from touchpath.personalize import publish, save_decision
from touchpath.profiles import refresh
from touchpath.profiles.audiences import define_audience
from touchpath.profiles.specs import Audience, ComputedTrait
from touchpath.profiles.traits import define_computed
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["DECISIONS", "LAST_CATEGORY", "SLOW_SUPPORT", "setup"]

LAST_CATEGORY = ComputedTrait.model_validate(
    {
        "name": "last_category",
        "op": "last",
        "event": {"event": "Product Viewed"},
        "property": "category",
    }
)
SLOW_SUPPORT = Audience.model_validate(
    {
        "name": "slow-support",
        "condition": {
            "kind": "performed",
            "event": {
                "event": "Ticket Resolved",
                "where": [{"property": "wait_hours", "op": "gt", "value": 24}],
            },
        },
    }
)

DECISIONS: list[dict[str, Any]] = [
    {
        "name": "home-hero",
        "description": "The home page's hero: a returning visitor's last category.",
        "variants": {
            "new-season": {"headline": "Gear for every trail", "link": "/sale"},
            "last-category": {
                "headline": "Back for more {{ computed.last_category }}?",
                "category": "{{ computed.last_category }}",
            },
        },
        "default": "new-season",
        "rules": [
            {
                "name": "returning",
                "when": {"kind": "computed", "trait": "last_category", "op": "is_set"},
                "variant": "last-category",
            }
        ],
        "holdout": 0.1,
        "goal": {"event": "Order Completed"},
        "goal_window": "7d",
    },
    {
        "name": "support-banner",
        "description": "A banner for people the slow support queue kept waiting.",
        "variants": {
            "none": {},
            "priority-support": {
                "text": "Sorry for the wait. Your next question goes to the front of the queue.",
                "link": "/help?priority=1",
            },
        },
        "default": "none",
        "rules": [
            {
                "name": "waited",
                "when": {"kind": "audience", "audience": "slow-support"},
                "variant": "priority-support",
            }
        ],
        "goal": {"event": "Order Completed"},
        "goal_window": "30d",
    },
]


def setup(store: Store, source: str = "demo") -> list[str]:
    """Define the trait, the audience and the two decisions, and publish them on `source`;
    returns the decisions' names."""

    def define(con: Any) -> None:
        now = utcnow()
        define_computed(con, LAST_CATEGORY, now)
        define_audience(con, SLOW_SUPPORT, now)

    store.write_sync(define)
    refresh(store, "audiences")
    for spec in DECISIONS:
        saved = save_decision(store, spec, actor="demo")
        publish(store, saved.name, source, saved.version, actor="demo")
    return [d["name"] for d in DECISIONS]
