"""The map cache: a bound map is answered from memory, refreshed in the background when events
commit, keyed by the document's content and time range, and never keeps a failed binding."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest

from touchpath.analytics.testing import journeys_for
from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap
from touchpath.maps.cache import MapCache
from touchpath.maps.document import JourneyMap, load_map
from touchpath.store import Store

DOC = load_map(
    """
name: mini
goal: {event: Order Completed}
stages:
  - name: decision
    touchpoints:
      - {name: Viewed, match: {event: Product Viewed}}
      - {name: Ordered, match: {event: Order Completed}}
"""
)


def _people(store: Store, n: int, first: int = 0, ordered: bool = True) -> None:
    journeys_for(
        store,
        {
            f"p{i}": [
                {"event": "Product Viewed", "timestamp": "2026-10-01T10:00:00"},
                *([{"event": "Order Completed", "timestamp": "2026-10-01T11:00:00"}] * ordered),
            ]
            for i in range(first, first + n)
        },
    )


class Counting:
    """The real binder, counting its calls (and able to fail once)."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.gate: threading.Event | None = None

    def __call__(self, store: Store, doc: JourneyMap, start: Any, end: Any) -> BoundMap:
        self.calls += 1
        if self.gate is not None:
            self.gate.wait(5)
        if self.fail:
            self.fail = False
            raise RuntimeError("binding failed")
        return bind_map(store, doc, start, end)


def _wait(cond: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_answers_from_memory_until_events_arrive_then_refreshes(store: Store) -> None:
    _people(store, 4)
    binder = Counting()
    cache = MapCache(store, binder=binder, min_interval=0)
    cache.start()
    try:
        first = cache.get(DOC)
        again = cache.get(DOC)
        assert first.fresh and again.fresh and binder.calls == 1
        assert again.bound is first.bound
        assert first.bound.touchpoint("Viewed").persona.reach == 4

        _people(store, 3, first=10, ordered=False)  # commits: the listener notes the new seq
        store.wait_idle()
        stale = cache.get(DOC)
        assert not stale.fresh and stale.bound is first.bound  # answered at once, old numbers
        _wait(lambda: cache.get(DOC).fresh)
        now = cache.get(DOC).bound
        assert now.touchpoint("Viewed").persona.reach == 7
        assert now.touchpoint("Viewed").persona.to_goal == pytest.approx(4 / 7)
        assert binder.calls == 2
    finally:
        cache.stop()


def test_keys_are_the_document_content_and_the_time_range(store: Store) -> None:
    _people(store, 2)
    binder = Counting()
    cache = MapCache(store, binder=binder, capacity=2)
    cache.get(DOC)
    edited = DOC.model_copy(update={"title": "Mini, edited"})
    cache.get(edited)
    assert binder.calls == 2
    cache.get(DOC, start=datetime(2026, 10, 2, tzinfo=UTC))  # evicts the oldest (DOC, all time)
    assert binder.calls == 3
    cache.get(edited)
    assert binder.calls == 3
    cache.get(DOC)
    assert binder.calls == 4


def test_concurrent_misses_bind_once_and_failures_are_not_kept(store: Store) -> None:
    _people(store, 2)
    binder = Counting()
    binder.gate = threading.Event()
    cache = MapCache(store, binder=binder)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(DOC).bound.persona_size))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    _wait(lambda: binder.calls == 1)
    binder.gate.set()
    for t in threads:
        t.join()
    assert results == [2, 2, 2] and binder.calls == 1

    binder.gate = None
    binder.fail = True
    other = DOC.model_copy(update={"title": "other"})
    with pytest.raises(RuntimeError, match="binding failed"):
        cache.get(other)
    assert cache.get(other).bound.persona_size == 2 and binder.calls == 3


def _exposures(store: Store, people: list[str]) -> None:
    """Personalisation answers' exposures, as `/v1/decide` queues them (the internal source)."""
    from touchpath.personalize.exposures import Exposures, exposure_message

    now = datetime.now(UTC).replace(tzinfo=None)
    queued = Exposures()
    for p in people:
        msg = exposure_message(
            "home-hero", 1, "hero", "hero", None,
            unit=p, user_id=p, anonymous_id=None, source_id="src", at=now,
        )  # fmt: skip
        queued.add(msg, now.date())
    queued.flush(store, now)
    store.wait_idle()


def test_events_no_map_names_leave_it_fresh_named_ones_and_new_people_refresh(
    store: Store,
) -> None:
    """An `Experiment Viewed` of people the map already counts changes none of its numbers:
    the entry stays fresh and is not bound again; nor does an exposure of a visitor never seen
    (exposures are left out of the population). A new person (the population, even after an
    exposure), an error-like name and a touchpoint's event do make it stale, and the refresh
    shows them."""
    _people(store, 4)
    binder = Counting()
    cache = MapCache(store, binder=binder, min_interval=0)
    cache.start()
    try:
        first = cache.get(DOC)
        _exposures(store, ["p0", "p1", "p2"])
        time.sleep(0.5)  # the refresher had its chance
        again = cache.get(DOC)
        assert again.fresh and again.bound is first.bound and binder.calls == 1
        assert cache.get(DOC).seq < store.query("SELECT max(seq) FROM events")[0][0]

        # A visitor never seen: an exposure is what the site asked for, nobody's journey event,
        # so the population does not grow and the entry stays fresh (a new bind agrees).
        _exposures(store, ["p9"])
        time.sleep(0.5)
        assert cache.get(DOC).fresh and binder.calls == 1
        assert bind_map(store, DOC).persona_size == cache.get(DOC).bound.persona_size == 4

        # p9's first own event after that exposure: a new person (of a name the map does not
        # watch), so the population grows.
        journeys_for(store, {"p9": [{"event": "Home Viewed", "timestamp": "2026-10-02T09:00:00"}]})
        store.wait_idle()
        assert not cache.get(DOC).fresh
        _wait(lambda: cache.get(DOC).fresh)
        assert binder.calls == 2 and cache.get(DOC).bound.persona_size == 5

        journeys_for(store, {"p1": [{"event": "Page Error", "timestamp": "2026-10-02T10:00:00"}]})
        store.wait_idle()  # the listeners have run
        _wait(lambda: cache.get(DOC).fresh)
        assert binder.calls == 3

        journeys_for(store, {"p0": [{"event": "Experiment Viewed",
                                      "timestamp": "2026-10-02T10:00:00"}]})  # fmt: skip
        store.wait_idle()
        time.sleep(0.5)
        assert cache.get(DOC).fresh and binder.calls == 3

        _people(store, 1, first=2, ordered=True)  # p2 again: a named event, no new person
        store.wait_idle()
        assert not cache.get(DOC).fresh
        _wait(lambda: cache.get(DOC).fresh)
        assert binder.calls == 4
        assert cache.get(DOC).bound.touchpoint("Viewed").persona.reach == 4
    finally:
        cache.stop()


def test_a_persona_audience_watches_every_event(store: Store) -> None:
    """A persona's audience may change with any event: such a map is refreshed by all."""
    from touchpath.maps.cache import watched

    _people(store, 2)
    plain = bind_map(store, DOC)
    assert watched(plain) is not None and "Product Viewed" in (watched(plain) or ())
    assert "Experiment Viewed" not in (watched(plain) or ())
    persona = DOC.model_copy(update={"persona": DOC.persona.model_copy(update={"audience": "x"})})
    assert watched(plain.model_copy(update={"map": persona})) is None


def test_the_population_leaves_exposures_out_unless_the_map_names_them(store: Store) -> None:
    """A decision's exposure is what the site asked for: a person whose only event is one is not
    in a map's population, unless a touchpoint is `Experiment Viewed` (then they reached it)."""
    _people(store, 2)
    _exposures(store, ["p0", "v1", "v2"])
    assert bind_map(store, DOC).persona_size == 2
    viewed = load_map(
        """
name: viewed
stages:
  - name: decision
    touchpoints:
      - {name: Saw, match: {event: Experiment Viewed}}
      - {name: Viewed, match: {event: Product Viewed}}
"""
    )
    bound = bind_map(store, viewed)
    assert bound.persona_size == 4 and bound.touchpoint("Saw").persona.reach == 3
    # The customer's own `Experiment Viewed` (another tool's) is theirs: counted.
    journeys_for(
        store, {"v3": [{"event": "Experiment Viewed", "timestamp": "2026-10-02T10:00:00"}]}
    )
    assert bind_map(store, DOC).persona_size == 3


class Costly(Counting):
    """The real binder on a pretend CPU clock: each bind costs `cost` CPU seconds."""

    def __init__(self, cost: float) -> None:
        super().__init__()
        self.cpu = 0.0
        self.cost = cost
        self.starts: list[tuple[str, float]] = []

    def __call__(self, store: Store, doc: JourneyMap, start: Any, end: Any) -> BoundMap:
        self.starts.append((doc.title or doc.name, time.monotonic()))
        self.cpu += self.cost
        return super().__call__(store, doc, start, end)


def test_re_binds_keep_to_the_cpu_budget_and_say_when_the_numbers_are_from(store: Store) -> None:
    """Re-binding uses at most `cpu_share` of a core: after a bind that cost c CPU-s no other
    starts before c / cpu_share seconds, whichever map it is, and one map is re-bound at most
    every max(min_interval, c / cpu_share). A stale answer says what its numbers are as of and
    when the next bind may start."""
    _people(store, 4)
    binder = Costly(cost=0.2)  # at a tenth of a core: 2 s between binds
    cache = MapCache(
        store, binder=binder, min_interval=0, cpu_share=0.1, cpu_clock=lambda: binder.cpu
    )
    other = DOC.model_copy(update={"title": "Mini, edited"})
    cache.start()
    try:
        first = cache.get(DOC)
        cache.get(other)
        assert first.fresh and first.next_refresh is None
        assert first.cpu_seconds == pytest.approx(0.2) and first.interval == pytest.approx(2.0)
        served = first.served()
        assert served.freshness is not None and served.freshness.numbers_as_of == first.as_of
        assert first.as_of <= first.bound.bound_at

        _people(store, 2, first=10)  # a change to both maps
        store.wait_idle()
        stale = cache.get(DOC)
        assert not stale.fresh and stale.bound is first.bound and stale.next_refresh is not None
        assert (stale.next_refresh - stale.as_of).total_seconds() >= 2.0 - 0.05
        assert stale.served().freshness.fresh is False  # type: ignore[union-attr]
        _wait(lambda: cache.get(DOC).fresh and cache.get(other).fresh, timeout=15)
        assert binder.calls == 4 and cache.get(DOC).bound.persona_size == 6
        (_, a), (_, b) = binder.starts[2:]
        assert b - a >= 2.0 - 0.05  # the second map waited for the first's budget
        assert a - binder.starts[0][1] >= 2.0 - 0.05  # its own interval since its last bind

        _people(store, 1, first=20)
        store.wait_idle()
        _wait(lambda: cache.get(DOC).fresh and cache.get(other).fresh, timeout=15)
        starts = [t for _, t in binder.starts[2:]]
        assert all(y - x >= 2.0 - 0.05 for x, y in pairwise(starts))
    finally:
        cache.stop()


def test_the_budget_comes_from_the_settings_and_must_be_above_zero(store: Store) -> None:
    assert MapCache(store).cpu_share == store.settings.map_refresh_cpu_share == 0.1
    with pytest.raises(ValueError, match="cpu_share"):
        MapCache(store, cpu_share=0)
