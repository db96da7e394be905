"""A running server keeps the sorted journey copy fresh by itself once ingest pauses."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from touchpath.analytics import journey
from touchpath.analytics.testing import journeys_for
from touchpath.store import Store

T0 = datetime(2024, 3, 4, 9, 0, 0)


def _journeys(store: Store, people: range) -> None:
    journeys_for(
        store,
        {
            f"p{i}": [
                {"event": "view", "timestamp": (T0 + timedelta(minutes=i)).isoformat()},
                {"event": "buy", "timestamp": (T0 + timedelta(minutes=i + 5)).isoformat()},
            ]
            for i in people
        },
    )


def _fresh(store: Store) -> bool:
    with store.reading() as cur:
        return journey.is_fresh(cur)


def test_a_stale_copy_is_rebuilt_only_after_ingest_pauses(store: Store) -> None:
    refresher = journey.Refresher(store, every=0.05, idle=3600)
    assert refresher.refresh() is None  # an empty log: nothing to build
    _journeys(store, range(5))
    assert refresher.refresh() is None and not _fresh(store)  # ingest has not paused an hour
    refresher.idle = 0
    built = refresher.refresh()
    assert built is not None and built.events == 10 and _fresh(store)
    assert refresher.refresh() is None  # fresh: nothing to do


def test_the_background_thread_catches_up_after_new_events(store: Store) -> None:
    refresher = journey.Refresher(store, every=0.05, idle=0.2)
    refresher.start()
    try:
        _journeys(store, range(5))
        _wait_fresh(store)
        _journeys(store, range(5, 9))  # new events make it stale again
        assert not _fresh(store)
        _wait_fresh(store)
        (events,) = store.query("SELECT count(*) FROM journey_events")[0]
        assert events == 18 and refresher.builds >= 2
    finally:
        refresher.stop()


def _wait_fresh(store: Store) -> None:
    deadline = time.monotonic() + 20
    while not _fresh(store):
        assert time.monotonic() < deadline, "the journey copy was not rebuilt within 20 s"
        time.sleep(0.05)
