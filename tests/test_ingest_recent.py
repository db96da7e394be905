"""The duplicate window's hashes (`RecentHashes`): never forgets a hash inside the window, never
claims one it was never given, and reloads from the log the same as it was built live."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from unittest.mock import patch

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from touchpath.events.message import stage_messages
from touchpath.store import Store
from touchpath.store import recent as recent_module
from touchpath.store.recent import RecentHashes
from touchpath.store.store import utcnow

T0 = datetime(2026, 1, 1)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(st.integers(0, 40), max_size=12)),
        st.tuples(st.just("expire"), st.integers(0, 3)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(ops=ops, bulk=st.booleans())
def test_no_hash_in_the_window_is_missed_and_none_never_added_is_claimed(
    ops: list[tuple[str, object]], bulk: bool
) -> None:
    with patch.object(recent_module, "_MERGE_AT", 3):  # merge and rebuild often
        recent = RecentHashes()
        chunks: list[tuple[datetime, list[int]]] = []  # the model: every chunk added
        cutoff = T0
        tick = 0
        pending: list[tuple[datetime, np.ndarray]] = []
        for op, arg in ops:
            tick += 1
            at = T0 + timedelta(minutes=tick)
            if op == "add":
                hashes = list(arg)  # type: ignore[call-overload]
                chunks.append((at, hashes))
                if bulk:
                    pending.append((at, np.array(hashes, dtype=np.uint64)))
                else:
                    recent.add(at, np.array(hashes, dtype=np.uint64))
            else:
                if bulk and pending:
                    recent.load(pending)
                    pending = []
                # the window's start only moves forward, as the clock does
                cutoff = max(cutoff, at - timedelta(minutes=int(arg)))  # type: ignore[call-overload]
                recent.expire(cutoff)
            if bulk:
                continue
            live = {h for t, hs in chunks if t >= cutoff for h in hs}
            ever = {h for _, hs in chunks for h in hs}
            probe = np.arange(0, 45, dtype=np.uint64)
            hit = recent.contains(probe)
            for h, claimed in zip(probe.tolist(), hit.tolist(), strict=True):
                assert not (h in live and not claimed), (h, "missed")
                assert not (claimed and h not in ever), (h, "never added")
            assert len(recent) == sum(len(hs) for t, hs in chunks if t >= cutoff)
        if bulk and pending:
            recent.load(pending)
        if bulk:
            live = {h for t, hs in chunks if t >= cutoff for h in hs}
            hit = recent.contains(np.array(sorted(live), dtype=np.uint64))
            assert hit.all()


def test_a_reopened_store_still_drops_a_message_sent_again(tmp_path: Path) -> None:
    def send(store: Store, mid: str) -> tuple[int, int]:
        raw = orjson.dumps({"type": "track", "event": "e", "userId": "u", "messageId": mid})
        r = store.ingest(stage_messages([raw], source="s", received_at=utcnow())).result()
        return r.accepted, r.duplicates

    with Store(tmp_path / "t.duckdb") as store:
        assert [send(store, f"m{i}") for i in range(3)] == [(1, 0)] * 3
        assert send(store, "m1") == (0, 1)
    with Store(tmp_path / "t.duckdb") as store:  # the window is loaded from the log
        assert len(store._recent) == 3
        assert send(store, "m2") == (0, 1) and send(store, "m9") == (1, 0)
