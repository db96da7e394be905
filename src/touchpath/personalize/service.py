"""The personalisation service of a running process: the read model kept current by a commit
listener, the published decisions of every source, and the exposures waiting to be written.

`touchpath.system` starts it (component `personalize`, `tp.services["personalize"]`). The
commit listener only notes the committed seq range; one worker thread reads the touched
profiles on its own cursor and applies them, flushes exposures and drops deleted profiles, so
neither the writer nor a request waits on the other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from touchpath.clock import Clock, SystemClock
from touchpath.errors import NotFound, StoreUnavailable
from touchpath.identity.extract import profile_id_for
from touchpath.personalize.decisions import published
from touchpath.personalize.evaluate import Facts, Outcome, choose, has_placeholders
from touchpath.personalize.exposures import Exposures, exposure_message
from touchpath.personalize.readmodel import ProfileView, ReadModel
from touchpath.personalize.spec import Decision
from touchpath.store import Store

__all__ = ["Personalizer", "Published"]

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05
"""How often the worker looks for committed ranges and queues exposures."""
FORGET_SECONDS = 5.0
"""How often the worker drops profiles a privacy deletion removed."""
PUBLISHED_SECONDS = 1.0
"""How often the worker looks for publications made by another path (the Python API, a
command on the same file): the REST API reloads at once."""
READY_SECONDS = 120.0
"""How long a first request waits for the read model to be built."""


@dataclass(frozen=True)
class Published:
    """A decision as a source answers it."""

    version: int
    decision: Decision
    templated: frozenset[str]


class Personalizer:
    """Answers decisions and profile reads from the read model of one store."""

    def __init__(self, store: Store, clock: Clock | None = None, last_events: int = 20) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.model = ReadModel(last_events)
        self.exposures = Exposures()
        self._decisions: dict[str, dict[str, Published]] = {}
        self._ranges: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._build = threading.Event()
        self._building = False
        self._thread: threading.Thread | None = None
        self._published_mark: tuple[Any, ...] = ()
        self.failed: BaseException | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def start(self, warm: bool = False) -> None:
        """Listen to commits and start the worker; `warm` builds the read model at once (a
        server), otherwise on the first request that needs it."""
        self.reload_decisions()
        self.store.add_commit_listener(self.on_commit)
        self._thread = threading.Thread(target=self._run, name="touchpath-personalize", daemon=True)
        self._thread.start()
        if warm:
            self.request_build()

    def stop(self) -> None:
        """Stop listening, write what is pending, join the worker."""
        self.store.remove_commit_listener(self.on_commit)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.exposures.flush(self.store, self.clock.now())
        except StoreUnavailable:
            log.warning("%d exposures were not written: the store closed", len(self.exposures))

    def on_commit(self, con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
        """Commit listener (writer thread): note the range for the worker, nothing more."""
        with self._lock:
            if not self._building and not self.model.ready.is_set():
                return  # not built yet: the build reads what these events changed
            self._ranges.append((first, last))
        self._wake.set()

    def request_build(self) -> None:
        with self._lock:
            self._building = True
        self._build.set()
        self._wake.set()

    def ensure_ready(self, timeout: float = READY_SECONDS) -> None:
        """Build the read model if nobody asked yet and wait for it."""
        if self.model.ready.is_set():
            return
        self.request_build()
        if not self.model.ready.wait(timeout):
            if self.failed is not None:
                raise StoreUnavailable(f"personalisation: the read model failed: {self.failed}")
            raise StoreUnavailable("personalisation: the read model is still being built")

    def sync(self, timeout: float = 10.0) -> None:
        """Write the pending exposures and wait until every range committed so far is applied
        (tests, examples)."""
        self.ensure_ready()
        self.exposures.flush(self.store, self.clock.now())
        self.store.wait_idle(timeout)
        deadline = time.monotonic() + timeout
        (last,) = self.store.query("SELECT coalesce(max(seq), 0) FROM events")[0]
        while self.model.applied_through < int(last) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)

    # ----------------------------------------------------------------------------- worker
    def _run(self) -> None:
        cur = self.store.cursor()
        next_forget = time.monotonic() + FORGET_SECONDS
        next_published = time.monotonic() + PUBLISHED_SECONDS
        try:
            while not self._stop.is_set():
                self._wake.wait(FLUSH_SECONDS)
                self._wake.clear()
                if self.store.closed:  # closed under us (not through Touchpath.close)
                    return
                try:
                    self._step(cur)
                    now = time.monotonic()
                    if now >= next_forget and self.model.ready.is_set():
                        next_forget = now + FORGET_SECONDS
                        self.model.forget_deleted(cur)
                    if now >= next_published:
                        next_published = now + PUBLISHED_SECONDS
                        if _publications_mark(cur) != self._published_mark:
                            self.reload_decisions()
                except StoreUnavailable:
                    return
                except Exception as exc:
                    log.exception("personalisation worker step failed")
                    self.failed = exc
                    time.sleep(0.5)
        finally:
            cur.close()

    def _step(self, cur: duckdb.DuckDBPyConnection) -> None:
        if self._build.is_set():
            self._build.clear()
            self.model.build(cur)
            with self._lock:
                self._building = False
            self.failed = None
        with self._lock:
            ranges, self._ranges = self._ranges, []
        if ranges and self.model.ready.is_set():
            first = min(f for f, _ in ranges)
            last = max(last for _, last in ranges)
            self.model.apply(cur, first, last)
        elif self.model.ready.is_set():
            self.model.settled_since(cur)
        self.exposures.flush(self.store, self.clock.now())

    # ----------------------------------------------------------------------------- decisions
    def reload_decisions(self) -> None:
        """Read the published decisions again (after any change of decisions)."""
        with self.store.reading() as con:
            current = published(con)
            self._published_mark = _publications_mark(con)
        self._decisions = {
            source: {
                name: Published(
                    version,
                    d,
                    frozenset(v for v in d.variants if has_placeholders(d, v)),
                )
                for name, (version, d) in names.items()
            }
            for source, names in current.items()
        }

    def published(self, source_id: str) -> Mapping[str, Published]:
        """The decisions `source_id` answers, by name."""
        return self._decisions.get(source_id, {})

    def resolve(
        self, user_id: str | None, anonymous_id: str | None
    ) -> tuple[str, ProfileView | None]:
        """The person's unit (profile id, or the one a new person will get) and their profile."""
        self.ensure_ready()
        pid = None
        if user_id is not None:
            pid = self.model.profile_id("user_id", user_id)
        if pid is None and anonymous_id is not None:
            pid = self.model.profile_id("anonymous_id", anonymous_id)
        if pid is None:
            unit = (
                profile_id_for("user_id", user_id)
                if user_id is not None
                else profile_id_for("anonymous_id", anonymous_id or "")
            )
            return unit, None
        return pid, self.model.view(pid)

    def decide(
        self,
        source_id: str,
        names: Sequence[str] | None,
        *,
        user_id: str | None,
        anonymous_id: str | None,
        context: Mapping[str, Any] | None = None,
        record: bool = True,
    ) -> list[Outcome]:
        """Answer the decisions `names` (all published ones when None) of a source for one
        person, and record an exposure of each (unless `record` is False)."""
        answers = self.published(source_id)
        if names is None:
            chosen = sorted(answers)
        else:
            missing = [n for n in names if n not in answers]
            if missing:
                where = next(i for i, n in enumerate(names) if n == missing[0])
                known = ", ".join(sorted(answers)) or "none"
                raise NotFound(
                    f"decisions[{where}]: no decision {missing[0]!r} is published on this "
                    f"source (published: {known})"
                )
            chosen = list(dict.fromkeys(names))
        unit, view = self.resolve(user_id, anonymous_id)
        facts = _facts(view, context, self.model.computed_ops)
        out = []
        now = self.clock.now() if record else None
        for name in chosen:
            pub = answers[name]
            outcome = choose(pub.decision, pub.version, facts, unit, templated=pub.templated)
            out.append(outcome)
            if now is not None:
                self.exposures.add(
                    exposure_message(
                        name,
                        pub.version,
                        outcome.variant,
                        outcome.arm,
                        outcome.rule,
                        unit=unit,
                        user_id=user_id,
                        anonymous_id=anonymous_id,
                        source_id=source_id,
                        at=now,
                    ),
                    now.date(),
                )
        return out


def _publications_mark(con: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """What changes whenever a publication is made, replaced or removed."""
    rows = con.execute(
        "SELECT count(*), max(published_at), sum(version) FROM decision_publications"
    ).fetchall()  # the worker's cursor: no result left unfinished (see ReadModel._settled)
    return tuple(rows[0])


def _facts(
    view: ProfileView | None, context: Mapping[str, Any] | None, ops: Mapping[str, str]
) -> Facts:
    if view is None:
        return Facts({}, {}, frozenset(), context, ops)
    return Facts(view.traits, view.computed, view.audiences, context, ops)
