"""The kernels made ready off the request path: no analysis waits for numba.

A kernel's first call in a process compiles it (7-23 s for the funnel and DFG passes on this
2-core machine) or, when numba's on-disk cache holds it (`cache=True`), loads it (about 2.4 s,
most of it linking the parallel passes). A user's first funnel must not wait for either: the
planner asks `ready()` and, until the kernels are ready, runs the analysis as SQL over the copy
(the reference the kernels are tested against, so the answer is the same) and starts `start()`
if nobody has. The server starts it as it starts (`touchpath.system`), so by the time the first
page asks, the kernels are usually loaded.

`start()` runs every kernel once on a few rows of a tiny copy in a daemon thread, through the
same entry points the analyses call, so each dispatcher holds exactly the specialisation the
analyses need. Compiled code belongs to the process, not to a store: there is one `WARMUP`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pyarrow as pa

from touchpath.analytics.kernels.columns import JourneyColumns

__all__ = ["WARMUP", "Warmup", "tiny"]

log = logging.getLogger(__name__)


def tiny() -> JourneyColumns:
    """A copy of two profiles and three activities, in (profile, time) order."""
    combos = pa.table({"code": pa.array([1, 2, 3], pa.int32()),
                       "type": ["track"] * 3, "event": ["a", "b", "c"]})  # fmt: skip
    return JourneyColumns(
        built_at=datetime(2024, 1, 1),
        pno=np.array([1, 1, 1, 2, 2], np.int32),
        us=np.array([0, 60, 120, 0, 3_600_000_000], np.int64) + 1_700_000_000_000_000,
        code=np.array([1, 2, 3, 1, 3], np.int32),
        profiles=2,
        names=3,
        combos=combos,
    )


def _run_all() -> None:
    """Every kernel once, through the analyses' own entry points."""
    from touchpath.analytics.kernels import attribution, dfg, funnel, paths, retention

    cols = tiny()
    attribution.warm(cols)
    funnel.warm(cols)
    dfg.warm(cols)
    paths.warm(cols)
    retention.warm(cols)


class Warmup:
    """Loads or compiles the kernels once per process, in the background."""

    def __init__(self, job: Callable[[], None] = _run_all) -> None:
        self._job = job
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.seconds: float | None = None
        """How long the warm-up took (None until it is done)."""
        self.error: BaseException | None = None
        """Why the kernels could not be made ready (then they are never used)."""

    def ready(self) -> bool:
        """Whether every kernel is loaded and may run without waiting."""
        return self._done.is_set() and self.error is None

    def start(self) -> None:
        """Start loading the kernels in a daemon thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="touchpath-kernels", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Start if needed and wait up to `timeout` seconds; whether the kernels are ready."""
        self.start()
        self._done.wait(timeout)
        return self.ready()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            self._job()
        except Exception as exc:  # a broken numba install: the SQL keeps answering
            log.exception("the analysis kernels could not be loaded; SQL runs instead")
            self.error = exc
        self.seconds = time.perf_counter() - t0
        log.info("analysis kernels ready in %.1f s", self.seconds)
        self._done.set()


WARMUP = Warmup()
"""The process's kernels (compiled code is shared by every store in the process)."""
