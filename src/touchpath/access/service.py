"""`Access`: resolves credentials to a `Principal` for one process, with a short cache (a request
does not wait on a store read per call) and batched last-used times for tokens. The web app keeps
one on `app.state.access`; changes made through it (revoke, disable, sign out) drop the cache at
once, and changes made elsewhere are seen within `cache_seconds`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from touchpath.access.principal import Principal
from touchpath.access.sessions import lookup_session
from touchpath.access.tokens import hash_secret, lookup_token, touch_tokens
from touchpath.clock import utcnow
from touchpath.store import Store

__all__ = ["Access"]

_MISS = object()


class Access:
    def __init__(
        self,
        store: Store,
        *,
        cache_seconds: float = 5.0,
        touch_every: timedelta = timedelta(minutes=1),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self._cache_seconds = cache_seconds
        self._touch_every = touch_every
        self._now = now
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, Principal | None]] = {}
        self._used: dict[str, datetime] = {}
        self._touched: dict[str, datetime] = {}

    def forget(self) -> None:
        """Drop every cached answer (after a revoke, a disable, a role change, a sign-out)."""
        with self._lock:
            self._cache.clear()

    def by_token(self, secret: str) -> Principal | None:
        """The principal of a Bearer token, or None."""
        p = self._cached("token", secret, self._load_token)
        if p is not None and p.token_id is not None:
            self._note_use(p.token_id)
        return p

    def by_session(self, secret: str) -> Principal | None:
        """The principal of a session cookie, or None."""
        return self._cached("session", secret, self._load_session)

    def _cached(
        self, kind: str, secret: str, load: Callable[[str], Principal | None]
    ) -> Principal | None:
        key = (kind, hash_secret(secret))
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._cache_seconds:
            return hit[1]
        p = load(secret)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, p)
        return p

    def _load_token(self, secret: str) -> Principal | None:
        with self.store.reading() as con:
            t = lookup_token(con, secret)
        if t is None:
            return None
        return Principal(
            kind="token",
            role=t.role,
            user_id=t.user_id,
            email=t.email,
            token_id=t.id,
            token_prefix=t.prefix,
        )

    def _load_session(self, secret: str) -> Principal | None:
        with self.store.reading() as con:
            found = lookup_session(con, secret, self._now())
        if found is None:
            return None
        user, csrf = found
        return Principal(
            kind="session", role=user.role, user_id=user.id, email=user.email, csrf=csrf
        )

    def _note_use(self, token_id: str) -> None:
        now = self._now()
        with self._lock:
            last = self._touched.get(token_id)
            self._used[token_id] = now
            if last is not None and now - last < self._touch_every:
                return
            used, self._used = self._used, {}
            self._touched.update(used)
        self.store.write(lambda con: touch_tokens(con, used))  # not awaited: a hint, not a fact

    def flush(self) -> None:
        """Write the last-used times noted since the last write (on shutdown, in tests)."""
        with self._lock:
            used, self._used = self._used, {}
            self._touched.update(used)
        if used:
            self.store.write_sync(lambda con: touch_tokens(con, used))
