"""What the living demo's panel shows: running or paused, rate, people active, and, on request,
the planted truths (read from `touchpath.demo.facts`, with what the business measured)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from touchpath.clock import utcnow
from touchpath.demo.facts import APP_CHECKOUT_DROPOFF, LIVE_ARRIVALS, LIVE_REACTIONS
from touchpath.demo.live.business import get_meta, set_meta
from touchpath.store import Store

__all__ = ["live_status", "live_truth", "set_paused"]

HEARTBEAT = timedelta(seconds=5)
"""A runner that has not ticked for this long is not running."""


def live_status(store: Store) -> dict[str, Any]:
    """The business now: whether a runner ticks, paused, rate, clock, people and messages."""
    with store.reading() as con:
        meta = get_meta(con)
        (people,) = con.execute("SELECT count(*) FROM demo_live_people").fetchone() or (0,)
        (active,) = con.execute(
            "SELECT count(DISTINCT person) FROM demo_live_actions"
        ).fetchone() or (0,)
        (messages,) = con.execute("SELECT count(*) FROM demo_live_messages").fetchone() or (0,)
        (pending,) = con.execute("SELECT count(*) FROM demo_live_outbox").fetchone() or (0,)
    beat = meta.get("heartbeat")
    alive = beat is not None and utcnow() - _time(beat) < HEARTBEAT
    paused = meta.get("paused") == "true"
    return {
        "state": "paused" if paused else ("running" if alive else "stopped"),
        "paused": paused,
        "running": alive and not paused,
        "rate_per_hour": float(meta.get("rate", "0") or 0),
        "clock_factor": float(meta.get("factor", "0") or 0),
        "now": meta.get("now"),
        "people": int(people),
        "people_active": int(active),
        "messages_answered": int(messages),
        "pending": int(pending),
    }


def set_paused(store: Store, paused: bool) -> dict[str, Any]:
    """Pause or resume the business (the runner follows on its next tick)."""
    store.write_sync(lambda con: set_meta(con, {"paused": "true" if paused else "false"}))
    return live_status(store)


def live_truth(store: Store) -> dict[str, Any]:
    """The planted sizes, and per channel what people did with the messages they got."""
    rows = store.query_dicts(
        "SELECT channel, count(*) AS messages, avg(p_click) AS planted_click, "
        "avg(clicked::INT) AS clicked, avg(buy::INT) AS bought, "
        "avg(unsubscribed::INT) AS unsubscribed, "
        "avg(CASE WHEN local_hour >= ? OR local_hour < ? THEN clicked::INT END) AS clicked_night, "
        "avg(CASE WHEN local_hour < ? AND local_hour >= ? THEN clicked::INT END) AS clicked_day "
        "FROM demo_live_messages GROUP BY channel ORDER BY channel",
        [*LIVE_REACTIONS.night, *LIVE_REACTIONS.night],
    )
    return {
        "planted": {
            "arrivals": dataclasses.asdict(LIVE_ARRIVALS),
            "reactions": dataclasses.asdict(LIVE_REACTIONS),
            "app_checkout": {
                "payment_ok_web": APP_CHECKOUT_DROPOFF.payment_ok[0],
                "payment_ok_app": APP_CHECKOUT_DROPOFF.payment_ok[1],
            },
        },
        "measured": rows,
    }


def _time(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)
