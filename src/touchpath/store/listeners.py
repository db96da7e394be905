"""The writer's commit listeners: what they have not yet seen, and when they run.

Listeners (identity, the catalogue's fold, sentiment, the journeys, forwarding, the read models)
run in the writer thread over the seq range committed since they last ran. While ingest keeps
the writer busy, ranges are coalesced for up to `listener_delay_seconds` (a listener costs less
per event over a larger range). A few listeners are *prompt* (identity, then the journeys):
when a commit holds an event named in `prompt_events` (what a journey waits for or enters on),
they alone run within `listener_prompt_seconds`, so the person moves on within a fraction of a
second while the rest keep their coalesced rounds; in a round of every listener the prompt ones
also go first (measured: from a Pong's commit to the
person's next node, p99 1.4-5.7 s with every listener on the one-second round).

>>> import pyarrow as pa
>>> seen = []
>>> ls = Listeners()
>>> ls.add(lambda con, a, b: seen.append(("identity", a, b)), prompt=True)
>>> ls.add(lambda con, a, b: seen.append(("catalogue", a, b)))
>>> ls.add(lambda con, a, b: seen.append(("journeys", a, b)), prompt=True)
>>> ls.prompt_events = frozenset({"Pong"})
>>> ls.committed(0, 9, pa.table({"event": ["Ping"] * 10}))
>>> ls.committed(10, 10, pa.table({"event": ["Pong"]}))
>>> ls.prompt_due(0.0), ls.overdue(1.0)
(True, False)
>>> ls.flush_prompt(None)
>>> ls.committed(11, 12, pa.table({"event": ["Ping"] * 2}))
>>> ls.flush(None, between=lambda: seen.append("between"))
>>> for call in seen:
...     print(call)
('identity', 0, 10)
('journeys', 0, 10)
('identity', 11, 12)
between
('journeys', 11, 12)
between
('catalogue', 0, 12)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Arrow is the writer's (a read-only process, e.g. a CLI query, never loads it)
    import pyarrow as pa

__all__ = ["CommitListener", "Listeners"]

log = logging.getLogger(__name__)

CommitListener = Callable[[Any, int, int], None]
"""Called in the writer thread with a seq range [first, last] of committed events. Ranges from
several commits are coalesced while ingest is queued (at most `listener_delay_seconds`)."""


class Listeners:
    """The commit listeners of one store and the ranges they have not seen (writer thread)."""

    def __init__(self) -> None:
        self._all: list[CommitListener] = []
        self._prompt: list[CommitListener] = []
        self.unlistened: tuple[int, int] | None = None
        """The seq range some listener has not seen."""
        self._since = 0.0
        self._prompt_seen = -1  # the last seq the prompt listeners have seen
        self._prompt_since: float | None = None  # when a prompt event first waited for them
        self.prompt_events: frozenset[str] = frozenset()
        """Event names whose commit runs the prompt listeners within `listener_prompt_seconds`
        (set by the journey engine: the events its journeys enter on or wait for)."""

    def add(self, listener: CommitListener, *, prompt: bool = False) -> None:
        if listener not in self._all:
            self._all.append(listener)
        if prompt and listener not in self._prompt:
            self._prompt.append(listener)

    def remove(self, listener: CommitListener) -> None:
        if listener in self._all:
            self._all.remove(listener)
        if listener in self._prompt:
            self._prompt.remove(listener)

    def clear(self) -> None:
        self._all.clear()
        self._prompt.clear()

    def committed(self, first: int, last: int, rows: pa.Table | None = None) -> None:
        """Events [first, last] committed (`rows`: their log rows, to look for prompt events)."""
        if self.unlistened is None:
            self.unlistened = (first, last)
            self._since = time.monotonic()
        else:
            self.unlistened = (self.unlistened[0], last)
        if self._prompt_since is None and _holds(rows, self.prompt_events) and self._prompt:
            self._prompt_since = time.monotonic()

    def overdue(self, delay: float) -> bool:
        """Whether every listener should run: the oldest unseen commit is `delay` s old."""
        return self.unlistened is not None and time.monotonic() - self._since >= delay

    def prompt_due(self, delay: float) -> bool:
        """Whether the prompt listeners should run: a prompt event waited `delay` s."""
        return self._prompt_since is not None and time.monotonic() - self._prompt_since >= delay

    def flush(self, con: Any, between: Callable[[], Any] | None = None) -> None:
        """Run every listener once over what it has not seen: the prompt ones first (a person
        waiting for an event in the range moves on before the catalogue's fold, sentiment,
        forwarding and the read models have had their turn; none of those is read by identity
        or the journeys), then the others, each group in the order added.

        `between` runs between two listeners (the writer commits the requests that came
        meanwhile, so a request waits for one listener, not the round); what it commits is a
        new range, for the next round."""
        if self.unlistened is None:
            return
        first, last = self.unlistened
        self.unlistened = self._prompt_since = None
        prompt = list(self._prompt)
        start = max(first, self._prompt_seen + 1)
        self._prompt_seen = max(self._prompt_seen, last)
        calls = [(listener, start) for listener in prompt] if start <= last else []
        calls += [(listener, first) for listener in list(self._all) if listener not in prompt]
        for i, (listener, since) in enumerate(calls):
            if i and between is not None:
                between()
            _call(listener, con, since, last)

    def flush_prompt(self, con: Any) -> None:
        """Run only the prompt listeners, in the order added, over what they have not seen."""
        self._prompt_since = None
        if self.unlistened is None:
            return
        first, last = max(self.unlistened[0], self._prompt_seen + 1), self.unlistened[1]
        self._prompt_seen = max(self._prompt_seen, last)
        if first <= last:
            for listener in list(self._prompt):
                _call(listener, con, first, last)


def _holds(rows: pa.Table | None, names: frozenset[str]) -> bool:
    """Whether committed rows hold an event named in `names`."""
    if rows is None or not names:
        return False
    import pyarrow as pa
    import pyarrow.compute as pc

    return bool(pc.any(pc.is_in(rows.column("event"), pa.array(sorted(names)))).as_py())


def _call(listener: CommitListener, con: Any, first: int, last: int) -> None:
    try:
        listener(con, first, last)
    except Exception:
        log.exception("commit listener %r failed", listener)
