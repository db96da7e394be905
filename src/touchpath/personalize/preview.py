"""Previews and profile reads for a chosen person, from a running process's read model or, where
none runs (the CLI on a store file), straight from the profile tables.

>>> from touchpath.store import Store
>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as d, Store(pathlib.Path(d) / "t.duckdb") as s:
...     r = preview_for(s, {"name": "hi", "variants": {"a": {"t": "hello"}}, "default": "a"},
...                     "user_id:nobody")
>>> r.variant, r.profile_id, r.content
('a', None, {'t': 'hello'})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from touchpath.errors import NotFound
from touchpath.personalize.decisions import get_decision
from touchpath.personalize.read import (
    Identifier,
    PreviewResult,
    ProfileEvent,
    ProfileRead,
    parse_identifier,
    preview,
    profile_events,
    read_profile,
    resolve_in_model,
    resolve_in_store,
    unit_for,
)
from touchpath.personalize.readmodel import ProfileView, ReadModel
from touchpath.personalize.service import Personalizer
from touchpath.personalize.spec import Decision, parse_decision
from touchpath.profiles.lookup import PROFILE_EVENTS
from touchpath.store import Store

__all__ = ["preview_for", "profile_for"]


def _ident(identifier: str | Identifier) -> Identifier:
    return identifier if isinstance(identifier, Identifier) else parse_identifier(identifier)


def _from_store(store: Store, ident: Identifier) -> tuple[str | None, ProfileView | None, Any]:
    """(profile id, view, computed trait ops) read from the tables, for one person."""
    model = ReadModel(last_events=0)
    with store.reading() as con:
        pid = resolve_in_store(con, ident)
        ops = model.read_ops(con)
        if pid is not None:
            model.reload(con, {pid})
    return pid, model.view(pid) if pid is not None else None, ops


def preview_for(
    store: Store,
    decision: Decision | Mapping[str, Any] | str,
    identifier: str | Identifier,
    context: Mapping[str, Any] | None = None,
    version: int | None = None,
    personalizer: Personalizer | None = None,
) -> PreviewResult:
    """What `decision` (a spec, a draft as a mapping, or a saved name with an optional
    version) answers for the person with `identifier`; nothing is recorded."""
    saved_version = None
    if isinstance(decision, str):
        saved = get_decision(store, decision, version)
        spec, saved_version = saved.spec, saved.version
    else:
        spec = parse_decision(decision)
    ident = _ident(identifier)
    if personalizer is not None:
        personalizer.ensure_ready()
        model = personalizer.model
        pid = resolve_in_model(model, ident)
        view = model.view(pid) if pid is not None else None
        ops: Mapping[str, str] = model.computed_ops
    else:
        pid, view, ops = _from_store(store, ident)
    return preview(spec, saved_version, view, unit_for(ident, pid), context, ops)


def profile_for(
    store: Store,
    identifier: str | Identifier,
    limit: int = 20,
    personalizer: Personalizer | None = None,
) -> ProfileRead:
    """The person with `identifier`: traits, computed traits, audiences and last events."""
    ident = _ident(identifier)
    if personalizer is not None:
        personalizer.ensure_ready()
        with store.reading() as con:
            return read_profile(personalizer.model, con, ident, limit)
    pid, view, _ = _from_store(store, ident)
    if pid is None or view is None:
        raise NotFound(f"identifier: no profile has {ident.kind} {ident.value!r}")
    with store.reading() as con:
        idents = con.execute(
            "SELECT kind, value FROM identifiers WHERE profile_id = ? ORDER BY kind, value", [pid]
        ).fetchall()
        seqs = [
            int(s)
            for (s,) in con.execute(
                f"SELECT seq FROM ({PROFILE_EVENTS}) ORDER BY seq DESC LIMIT $2", [pid, limit]
            ).fetchall()
        ]
        events: list[ProfileEvent] = profile_events(con, seqs)
    return ProfileRead(
        profile_id=pid,
        identifiers=[{"kind": k, "value": v} for k, v in idents],
        traits=view.traits,
        computed_traits=view.computed,
        audiences=sorted(view.audiences),
        events=events,
    )
