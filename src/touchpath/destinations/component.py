"""The destinations' parts of a process (`touchpath.system.components`): the outbox dispatcher,
a background worker of long-running processes (`serve`, `demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchpath.destinations.dispatcher import Dispatcher
from touchpath.destinations.vault import Vault

if TYPE_CHECKING:
    from touchpath.system import Touchpath

__all__ = ["DispatcherComponent", "ForwardingComponent"]


class DispatcherComponent:
    """Delivers the outbox (`tp.services["dispatcher"]`)."""

    name = "dispatcher"

    def __init__(self) -> None:
        self._dispatcher: Dispatcher | None = None
        self._store: Any = None

    def start(self, tp: Touchpath) -> None:
        vault = Vault.open(tp.settings)
        given: Any = tp.services.get("destination_overrides")
        self._dispatcher = Dispatcher(tp.store, tp.settings, tp.clock, vault, given)
        self._dispatcher.start()
        tp.services["dispatcher"] = self._dispatcher
        # Journeys and forwarding enqueue in the transactions of commits: each commit's
        # listeners wake the dispatcher, so it need not poll often to send promptly.
        tp.store.add_commit_listener(self._wake)
        self._store = tp.store

    def _wake(self, con: Any, first: int, last: int) -> None:
        if self._dispatcher is not None:
            self._dispatcher.wake()

    def stop(self) -> None:
        if self._store is not None:
            self._store.remove_commit_listener(self._wake)
            self._store = None
        if self._dispatcher is not None:
            self._dispatcher.stop()


class ForwardingComponent:
    """Forwards committed events by the forwarding rules (a commit listener), after catching up
    on what was committed while no process forwarded; registers the outbox's person deleter."""

    name = "forwarding"

    def __init__(self) -> None:
        self._stop: Any = None

    def start(self, tp: Touchpath) -> None:
        import duckdb

        from touchpath.destinations.forwarding import forward
        from touchpath.destinations.privacy import delete_outbox_person
        from touchpath.destinations.templates import Renderer

        # Every process that writes events starts this component: deleting a person there
        # also removes their messages.
        tp.services.setdefault("person_deleters", []).append(delete_outbox_person)
        renderer = Renderer()
        store = tp.store

        def catch_up(con: duckdb.DuckDBPyConnection) -> int:
            (last,) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone() or (0,)
            return forward(con, int(last), renderer, tp.clock.now(), transaction=False)

        def listener(con: duckdb.DuckDBPyConnection, first: int, last: int) -> None:
            if forward(con, last, renderer, tp.clock.now()):
                dispatcher = tp.services.get("dispatcher")
                if dispatcher is not None:
                    dispatcher.wake()

        store.write_sync(catch_up)
        store.add_commit_listener(listener)
        self._stop = lambda: store.remove_commit_listener(listener)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None
