"""Read helpers over the event log: the live stream, counts, rejected messages."""

from __future__ import annotations

from typing import Any

from touchpath.store.store import Store

__all__ = ["counts", "recent_events", "rejected"]


def recent_events(store: Store, *, after_seq: int = 0, limit: int = 50) -> list[dict[str, Any]]:
    """The newest events after `after_seq`, newest first."""
    return store.query_dicts(
        "SELECT seq, message_id, source, type, event, anonymous_id, user_id, timestamp, "
        "received_at, channel, properties FROM events WHERE seq > ? ORDER BY seq DESC LIMIT ?",
        [after_seq, limit],
    )


def counts(store: Store) -> dict[str, Any]:
    """Events in all, by channel and by type, and rejected messages."""
    with store.reading() as cur:
        (total,) = cur.execute("SELECT count(*) FROM events").fetchone() or (0,)
        by_channel = cur.execute(
            "SELECT channel, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        by_type = cur.execute(
            "SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        by_event = cur.execute(
            "SELECT coalesce(event, '(' || type || ')'), count(*) FROM events "
            "GROUP BY 1 ORDER BY 2 DESC LIMIT 15"
        ).fetchall()
        (n_rejected,) = cur.execute("SELECT count(*) FROM rejected").fetchone() or (0,)
    return {
        "events": int(total),
        "by_channel": {k: int(v) for k, v in by_channel},
        "by_type": {k: int(v) for k, v in by_type},
        "by_event": {k: int(v) for k, v in by_event},
        "rejected": int(n_rejected),
    }


def rejected(store: Store, *, limit: int = 100) -> list[dict[str, Any]]:
    """Rejected messages, newest first, with the reason and the payload as received."""
    return store.query_dicts(
        "SELECT received_at, source, message_id, type, reason, payload FROM rejected "
        "ORDER BY received_at DESC LIMIT ?",
        [limit],
    )
