"""A small bounded memo of a pure function's results by key, safe across threads.

A store keeps one (`Store.memo`) for the things its readers ask again and again and that cost
more to make than to look up: the rendered SQL of an analysis (building and rendering a
funnel's SQLGlot tree costs 20-50 ms of Python, more than a 1M funnel's pass over the sorted
copy, and a dashboard or a map asks the same specs every time). It belongs to the store, not
to a module, so two stores (and two tests) never share entries.

>>> memo = Memo(size=2)
>>> memo.get("a", lambda: 1), memo.get("a", lambda: 2), memo.get("b", lambda: 3)
(1, 1, 3)
>>> memo.get("c", lambda: 4), memo.get("a", lambda: 5)  # "a" was the least recently used
(4, 5)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["Memo"]

T = TypeVar("T")


class Memo:
    """The last `size` results of `make` by key (least recently used out first)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        """The result for `key`, made by `make()` the first time (outside the lock: two threads
        may both make it once; the results are equal)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                hit: T = self._items[key]
                return hit
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
