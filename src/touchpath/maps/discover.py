"""Discovering a current-state map from the events alone.

Stages come from a taxonomy of event names (the default below, or one a person edits); each
stage's touchpoints are its most frequent (event, channel) pairs by people reached; the real flow
between them appears when the map is bound. The result is an ordinary document: edit it, bind it
again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import yaml

from touchpath.errors import SpecError
from touchpath.events.match import TimeRange, literal
from touchpath.maps.document import EventDef, JourneyMap, Persona, Stage, Touchpoint
from touchpath.store import Store

__all__ = ["DEFAULT_TAXONOMY", "discover_map", "load_taxonomy"]

DEFAULT_TAXONOMY: dict[str, list[str]] = {
    "awareness": ["Home", "Application Opened", "Email Opened", "Push Opened", "SMS Delivered",
                  "Ad Clicked", "Email Link Clicked", "SMS Link Clicked", "Signed Up"],
    "consideration": ["Product Viewed", "Product", "Category", "Products Searched", "Product Added",
                      "Product List Viewed", "Cart Viewed", "Cart"],
    "decision": ["Checkout Started", "Checkout", "Payment Info Entered", "Order Completed"],
    "experience": ["Order Delivered", "Help", "Ticket Created", "Ticket Resolved", "Chat Started",
                   "Chat Ended"],
    "retention": ["Signed In", "Subscription Renewed", "Order Repeated"],
    "advocacy": ["NPS Survey Completed", "CSAT Survey Completed", "Review Submitted",
                 "Referral Sent"],
}  # fmt: skip
"""Stage -> event (or page/screen) names; the first stage that lists an event claims it."""


def load_taxonomy(text: str) -> dict[str, list[str]]:
    """A taxonomy from YAML: `{stage: [event names]}`, stages in journey order."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not data:
        raise SpecError("taxonomy: must map stage names to lists of event names")
    for stage, events in data.items():
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise SpecError(f"taxonomy.{stage}: must be a list of event names")
    return {str(k): list(v) for k, v in data.items()}


def discover_map(
    store: Store,
    *,
    name: str = "discovered",
    taxonomy: Mapping[str, Sequence[str]] | None = None,
    per_stage: int = 5,
    start: datetime | None = None,
    end: datetime | None = None,
    goal: str | None = "Order Completed",
) -> JourneyMap:
    """A current-state map: taxonomy stages with their most frequent event/channel touchpoints."""
    tax = dict(taxonomy or DEFAULT_TAXONOMY)
    if not tax:
        raise SpecError("taxonomy: needs at least one stage")
    claimed: dict[str, tuple[int, str]] = {}
    for i, (stage, events) in enumerate(tax.items()):
        for ev in events:
            claimed.setdefault(ev, (i, stage))
    values = ", ".join(
        f"({literal(ev).sql()}, {i}, {literal(stage).sql()})" for ev, (i, stage) in claimed.items()
    )
    rng = TimeRange(start=start, end=end).condition().sql("duckdb")
    rows = store.query(
        f"""
        WITH tax(event, ord, stage) AS (VALUES {values}),
        pairs AS (
            SELECT t.ord, t.stage, e.event, e.type, e.channel,
                   count(DISTINCT e.profile_id) AS people
            FROM resolved_events e JOIN tax t ON t.event = e.event
            WHERE e.type IN ('track', 'page', 'screen') AND {rng}
            GROUP BY ALL
        )
        SELECT ord, stage, event, type, channel, people FROM pairs
        QUALIFY row_number() OVER (PARTITION BY stage ORDER BY people DESC, event, channel)
                <= {int(per_stage)}
        ORDER BY ord, people DESC, event, channel
        """
    )
    goal_found = bool(goal and store.query("SELECT 1 FROM events WHERE event = ? LIMIT 1", [goal]))
    by_stage: dict[str, list[Touchpoint]] = {s: [] for s in tax}
    for _, stage, event, kind, channel, _people in rows:
        label = f"{event} ({kind})" if kind != "track" else event
        by_stage[stage].append(
            Touchpoint(
                name=f"{label} · {channel}",
                match=EventDef(
                    event=event, type=kind if kind != "track" else None, channel=channel
                ),
            )
        )
    stages = [Stage(name=s, touchpoints=tps) for s, tps in by_stage.items() if tps]
    if not stages:
        raise SpecError("discover: no event matches the taxonomy; edit it to name your events")
    return JourneyMap(
        name=name,
        title=f"{name}: discovered from the events",
        type="current_state",
        persona=Persona(name="Everyone", description="Discovered from the events."),
        goal=EventDef(event=goal) if goal and goal_found else None,
        stages=stages,
    )
