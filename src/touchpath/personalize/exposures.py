"""Exposures: each answer is recorded as an `Experiment Viewed` event, so the experiments engine
measures a decision like a journey split (experiment `decision:<name>`, variation the arm).

Answers do not wait for the write: exposures are buffered and queued to the writer a few times
a second (`store.ingest(internal=True)` under the source `touchpath.personalize`). One person,
decision version and arm make one exposure a UTC day: the messageId is a hash of those, so a
repeat within the day is left out here and, from another process, dropped by the store's dedupe;
a change of arm (the person entered an audience) is a new exposure.

>>> m = exposure_message("home", 2, "returning", "returning", "rule-1", unit="p_1",
...     user_id="u1", anonymous_id=None, source_id="src_1", at=datetime(2026, 5, 1, 12))
>>> m["event"], m["properties"]["experiment_id"], m["properties"]["variation_id"]
('Experiment Viewed', 'decision:home', 'returning')
"""

from __future__ import annotations

import hashlib
import threading
from datetime import date, datetime
from typing import Any

from touchpath.events.message import stage_internal
from touchpath.events.names import EXPERIMENT_VIEWED, PERSONALIZE_SOURCE
from touchpath.store import Store

__all__ = ["SOURCE", "Exposures", "exposure_message"]

SOURCE = PERSONALIZE_SOURCE


def exposure_message(
    decision: str,
    version: int,
    variant: str,
    arm: str,
    rule: str | None,
    *,
    unit: str,
    user_id: str | None,
    anonymous_id: str | None,
    source_id: str,
    at: datetime,
) -> dict[str, Any]:
    """The `Experiment Viewed` track of one answer (`at`: naive UTC)."""
    key = f"{decision}\x1f{version}\x1f{unit}\x1f{arm}\x1f{at.date().isoformat()}"
    msg: dict[str, Any] = {
        "type": "track",
        "event": EXPERIMENT_VIEWED,
        "messageId": "dec-" + hashlib.sha256(key.encode()).hexdigest()[:32],
        "timestamp": at.isoformat() + "Z",
        "properties": {
            "experiment_id": f"decision:{decision}",
            "experiment_name": decision,
            "variation_id": arm,
            "variation_name": variant,
            "decision": decision,
            "version": version,
            "rule": rule,
            "source_id": source_id,
        },
        "context": {"library": {"name": "touchpath-personalize"}},
    }
    if user_id is not None:
        msg["userId"] = user_id
    if anonymous_id is not None:
        msg["anonymousId"] = anonymous_id
    return msg


class Exposures:
    """Exposures waiting for the writer; at most one per messageId a day in this process."""

    def __init__(self, max_seen: int = 2_000_000) -> None:
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._day: date | None = None
        self._max_seen = max_seen
        self.recorded = 0
        """Exposures queued to the writer since start."""

    def add(self, message: dict[str, Any], day: date) -> bool:
        """Keep `message` for the next flush unless its messageId was kept today."""
        mid = message["messageId"]
        with self._lock:
            if day != self._day or len(self._seen) >= self._max_seen:
                self._seen.clear()
                self._day = day
            if mid in self._seen:
                return False
            self._seen.add(mid)
            self._pending.append(message)
            return True

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self, store: Store, now: datetime) -> int:
        """Queue what is pending to the writer (without waiting for the commit)."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        store.ingest(stage_internal(batch, source=SOURCE, received_at=now), internal=True)
        self.recorded += len(batch)
        return len(batch)
