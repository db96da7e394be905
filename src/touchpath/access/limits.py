"""Sign-in rate limit: failed attempts counted per account and per address over a sliding window;
past the limit every attempt (even a right password) is refused until the window has moved on.

>>> lim = LoginLimiter(per_account=2, per_address=10, window=60.0, now=lambda: 0.0)
>>> lim.fail("a@x.io", "1.2.3.4"); lim.fail("a@x.io", "1.2.3.4")
>>> lim.retry_after("a@x.io", "5.6.7.8") > 0, lim.retry_after("b@x.io", "1.2.3.4")
(True, 0)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["LoginLimiter"]


class LoginLimiter:
    def __init__(
        self,
        per_account: int = 5,
        per_address: int = 20,
        window: float = 900.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_account, self.per_address, self.window = per_account, per_address, window
        self._now = now
        self._lock = threading.Lock()
        self._fails: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, account: str, address: str) -> int:
        """Seconds until an attempt may be made; 0 when it may be made now."""
        now = self._now()
        wait = 0.0
        with self._lock:
            for key, limit in (
                (f"a:{account}", self.per_account),
                (f"i:{address}", self.per_address),
            ):
                q = self._recent(key, now)
                if len(q) >= limit:
                    wait = max(wait, q[len(q) - limit] + self.window - now)
        return int(wait) + 1 if wait > 0 else 0

    def fail(self, account: str, address: str) -> None:
        """Count a failed attempt against both the account and the address."""
        now = self._now()
        with self._lock:
            if len(self._fails) > 100_000:
                self._fails.clear()
            for key in (f"a:{account}", f"i:{address}"):
                self._recent(key, now).append(now)

    def succeed(self, account: str) -> None:
        """A right password clears the account's count (not the address's)."""
        with self._lock:
            self._fails.pop(f"a:{account}", None)
