"""The catalogue's place in the composition root, and the did-you-mean check over a store.

`CatalogueComponent` folds each committed seq range into the catalogue (a commit listener) and,
when it starts on a store holding events the catalogue has not seen (one written before the
catalogue existed), queues the backfill on the writer without waiting for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
from pydantic import BaseModel

from touchpath.catalogue import catalogue
from touchpath.catalogue.names import unknown_names
from touchpath.errors import SpecError

if TYPE_CHECKING:
    from touchpath.system import Touchpath

__all__ = ["CatalogueComponent", "check_names"]


class CatalogueComponent:
    """The event catalogue, kept as events commit (docs/catalogue.md)."""

    name = "catalogue"

    def __init__(self) -> None:
        self._stop: Any = None

    def start(self, tp: Touchpath) -> None:
        store = tp.store
        store.add_commit_listener(catalogue.fold)
        self._stop = lambda: store.remove_commit_listener(catalogue.fold)
        with store.reading() as cur:
            (behind,) = cur.execute(
                "SELECT coalesce(max(seq), 0) > (SELECT upto FROM catalogue_state) FROM events"
            ).fetchone() or (False,)
        if behind:
            store.write(catalogue.catch_up)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()


def check_names(cur: duckdb.DuckDBPyConnection, spec: BaseModel, prefix: str = "") -> None:
    """Raise a SpecError naming each event or property of `spec` the store has never seen,
    with the closest known names (nothing when `spec.allow_unknown` is set)."""
    if getattr(spec, "allow_unknown", False):
        return
    problems = unknown_names(
        spec,
        lambda: catalogue.event_names(cur),
        lambda event: catalogue.property_keys(cur, event),
        prefix,
    )
    if problems:
        raise SpecError(problems=problems)
