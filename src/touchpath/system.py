"""The composition root: one place builds a store with everything that runs beside it.

`Touchpath.open(settings)` opens the store, attaches the commit listeners (identity and
profiles, sentiment) and, for a long-running process (`background=True`: `serve`, `demo`), starts
the background workers (the journey-copy refresher; next, the outbox dispatcher and the journey
engine). The server, the CLI and the tests all build it this way, so nothing is attached in a
module of its own and no module keeps state.

Each area contributes a `Component`; adding one is one line in `components()`.

>>> [c.name for c in components(background=False)]
['identity', 'catalogue', 'plans', 'sentiment', 'journeys', 'forwarding', 'personalize']
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from touchpath.clock import Clock, SystemClock
from touchpath.settings import Settings
from touchpath.store import Store

__all__ = ["Component", "Touchpath", "components", "opened"]

log = logging.getLogger(__name__)


class Component(Protocol):
    """A part that runs beside the store: started once the store is open, stopped before it
    closes. `start` may add commit listeners and start threads; `stop` joins them."""

    name: str

    def start(self, tp: Touchpath) -> None: ...

    def stop(self) -> None: ...


class _Identity:
    """Identity resolution, traits, computed traits and audiences as events commit."""

    name = "identity"

    def __init__(self) -> None:
        self._stop: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.profiles import start
        from touchpath.profiles.specs import load_config

        unify = start(tp.store, load_config(tp.settings.unify))
        tp.services["unify"] = unify
        self._stop = lambda: tp.store.remove_commit_listener(unify.on_commit)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


class _Sentiment:
    """Sentiment of free text, scored as events commit."""

    name = "sentiment"

    def __init__(self) -> None:
        self._stop: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.analytics import sentiment

        sentiment.listen(tp.store)
        self._stop = lambda: sentiment.unlisten(tp.store)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


class _Personalize:
    """Decisions answered from a read model of profiles, kept current as events commit
    (docs/personalize.md); a server builds the model at start, other processes on first use."""

    name = "personalize"

    def __init__(self, warm: bool) -> None:
        self._warm = warm
        self._service: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.personalize import Personalizer

        self._service = Personalizer(tp.store, clock=tp.clock)
        self._service.start(warm=self._warm)
        tp.services["personalize"] = self._service

    def stop(self) -> None:
        if self._service is not None:
            self._service.stop()


class _JourneyCopy:
    """Keeps the sorted journey copy fresh (docs/funnels.md)."""

    name = "journey-copy"

    def __init__(self) -> None:
        self._refresher: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.analytics import journey

        s = tp.settings
        self._refresher = journey.Refresher(
            tp.store,
            every=s.journey_refresh_seconds,
            idle=s.journey_refresh_idle_seconds,
            max_lag=s.journey_max_lag_seconds,
        )
        self._refresher.start()
        tp.services["journey_copy"] = self._refresher

    def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.stop()


class _Kernels:
    """Loads the analysis kernels as the server starts, so its first funnel need not wait
    (`touchpath.analytics.kernels.warm`); until they are loaded, the SQL answers. With
    `analytics_kernels_warmup` off, the first analysis that could use them starts the load."""

    name = "kernels"

    def start(self, tp: Touchpath) -> None:
        from touchpath.analytics import kernels

        s = tp.settings
        if s.analytics_kernels and s.analytics_kernels_warmup and kernels.available():
            from touchpath.analytics.kernels.warm import WARMUP

            WARMUP.start()

    def stop(self) -> None:
        """Nothing to stop: the compiled code stays with the process."""


class _Journeys:
    """The journey engine (docs/journeys.md): moves people as events commit, and, in a
    long-running process, as their timers fall due."""

    name = "journeys"

    def __init__(self, background: bool) -> None:
        self._background = background
        self._engine: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.orchestrate import JourneyEngine
        from touchpath.orchestrate.privacy import delete_journey_state

        tp.services.setdefault("person_deleters", []).append(delete_journey_state)
        self._engine = JourneyEngine(tp.store, tp.clock)
        self._engine.attach()
        tp.services["journeys"] = self._engine
        if self._background:
            self._engine.start_timers()

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stop()


class _MapCache:
    """Bound journey maps kept ready and refreshed as events commit (maps/cache.py)."""

    name = "map-cache"

    def __init__(self) -> None:
        self._cache: Any = None

    def start(self, tp: Touchpath) -> None:
        from touchpath.maps.cache import MapCache
        from touchpath.maps.library import get_map, list_maps

        self._cache = MapCache(tp.store)
        self._cache.start(warm=lambda: [get_map(tp.store, e.name)[0] for e in list_maps(tp.store)])
        tp.services["map_cache"] = self._cache

    def stop(self) -> None:
        if self._cache is not None:
            self._cache.stop()


def components(background: bool, listen: bool = True) -> list[Component]:
    """The components of a process, in start order (stopped in reverse). Listeners run in every
    process that writes events (`listen`); background workers only in long-running processes.
    A process that only reads (a CLI query) starts none: it must not write beside a server
    that holds the same file."""
    if not listen:
        return []
    from touchpath.catalogue import CatalogueComponent, PlanGate
    from touchpath.destinations.component import DispatcherComponent, ForwardingComponent

    out: list[Component] = [
        _Identity(),
        CatalogueComponent(),
        PlanGate(),
        _Sentiment(),
        _Journeys(background),
        ForwardingComponent(),
        _Personalize(warm=background),
    ]
    if background:
        out += [_Kernels(), _JourneyCopy(), _MapCache(), DispatcherComponent()]
    return out


@dataclass
class Touchpath:
    """A store and what runs beside it. Build with `Touchpath.open`; close with `close()`."""

    settings: Settings
    store: Store
    clock: Clock
    parts: list[Component] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)
    """What components expose to the routes and commands (e.g. `unify`, `journey_copy`)."""
    owns_store: bool = True

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        clock: Clock | None = None,
        background: bool = False,
        listen: bool = True,
        db: str | Path | None = None,
    ) -> Touchpath:
        """Open the store (or use `store`), then start every component (none with
        `listen=False`: a process that only reads)."""
        settings = settings or (store.settings if store is not None else Settings())
        if db is not None:
            settings = settings.model_copy(update={"db": Path(db)})
        owns = store is None
        tp = cls(
            settings=settings,
            store=store if store is not None else Store(settings.db, settings),
            clock=clock or SystemClock(),
            owns_store=owns,
        )
        try:
            for part in components(background, listen):
                part.start(tp)
                tp.parts.append(part)
        except BaseException:
            tp.close()
            raise
        return tp

    def close(self) -> None:
        """Stop the components in reverse order, then close the store if this opened it."""
        while self.parts:
            part = self.parts.pop()
            try:
                part.stop()
            except Exception:
                log.exception("stopping %s failed", part.name)
        if self.owns_store:
            self.store.close()

    def __enter__(self) -> Touchpath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def opened(settings: Settings | None = None, **kwargs: Any) -> Iterator[Touchpath]:
    """`Touchpath.open` as a context manager."""
    tp = Touchpath.open(settings, **kwargs)
    try:
        yield tp
    finally:
        tp.close()
