"""Reading one person: by any identifier, for the profile read API (servers, with a token) and
for previews of a decision (the CLI, the REST API, the web app).

An identifier is written `kind:value`: `user_id:u_000042`, `anonymous_id:...`,
`email:ann@shop.example`, `device_id:...` (any device kind: `ios.id`, `android.id`, ...),
any other kind the identity graph knows (`loyalty_id:L1234567`), or `profile_id:p_...`.

>>> parse_identifier("email: Ann@Shop.Example ")
Identifier(kind='email', value='ann@shop.example')
>>> parse_identifier("u_1")
Traceback (most recent call last):
...
touchpath.errors.BadRequest: identifier: 'u_1' is not kind:value (e.g. user_id:u_1, email:ann@shop.example)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import orjson
from pydantic import BaseModel, Field

from touchpath.errors import BadRequest, NotFound
from touchpath.identity.extract import profile_id_for
from touchpath.personalize.evaluate import Facts, RuleTrace, choose
from touchpath.personalize.readmodel import ProfileView, ReadModel
from touchpath.personalize.spec import Decision

__all__ = [
    "MAX_ID_CHARS",
    "Identifier",
    "PreviewResult",
    "ProfileEvent",
    "ProfileRead",
    "parse_identifier",
    "preview",
    "profile_events",
    "read_profile",
    "resolve_in_model",
    "resolve_in_store",
    "unit_for",
]

MAX_ID_CHARS = 512
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str


def parse_identifier(text: str, where: str = "identifier") -> Identifier:
    """`kind:value` -> Identifier; a clear BadRequest when it is not one."""
    kind, sep, value = text.partition(":")
    kind, value = kind.strip(), value.strip()
    example = "(e.g. user_id:u_1, email:ann@shop.example)"
    if not sep or not kind:
        raise BadRequest(f"{where}: {text[:80]!r} is not kind:value {example}")
    if not _KIND.match(kind):
        raise BadRequest(f"{where}: {kind[:80]!r} is not an identifier kind {example}")
    if not value:
        raise BadRequest(f"{where}: the value after {kind}: is empty")
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"{where}: {len(value)} characters; the limit is {MAX_ID_CHARS}")
    if any(ord(c) < 32 for c in value):
        raise BadRequest(f"{where}: the value holds control characters")
    if kind == "email":
        value = value.lower()
    return Identifier(kind, value)


def resolve_in_model(model: ReadModel, ident: Identifier) -> str | None:
    """The profile id of an identifier in the read model (None: nobody has it)."""
    if ident.kind == "profile_id":
        return ident.value if model.view(ident.value) is not None else None
    if ident.kind == "device_id":
        return model.device_profile_id(ident.value)
    return model.profile_id(ident.kind, ident.value)


def resolve_in_store(con: duckdb.DuckDBPyConnection, ident: Identifier) -> str | None:
    """The profile id of an identifier, read from the identifier map."""
    if ident.kind == "profile_id":
        row = con.execute(
            "SELECT profile_id FROM profiles WHERE profile_id = ?", [ident.value]
        ).fetchone()
    elif ident.kind == "device_id":
        row = con.execute(
            "SELECT profile_id FROM identifiers WHERE kind LIKE '%.id' AND value = ? "
            "ORDER BY kind LIMIT 1",
            [ident.value],
        ).fetchone()
    else:
        row = con.execute(
            "SELECT profile_id FROM identifiers WHERE kind = ? AND value = ?",
            [ident.kind, ident.value],
        ).fetchone()
    return str(row[0]) if row else None


class ProfileEvent(BaseModel):
    seq: int
    timestamp: datetime
    type: str
    event: str | None
    channel: str | None
    source: str
    properties: dict[str, Any] | None


class ProfileRead(BaseModel):
    """A person as a server reads them: what the read model holds, and their last events."""

    profile_id: str
    identifiers: list[dict[str, str]] = Field(description="Each as {kind, value}.")
    traits: dict[str, Any]
    computed_traits: dict[str, Any]
    audiences: list[str]
    events: list[ProfileEvent] = Field(description="The last events, newest first.")


def profile_events(con: duckdb.DuckDBPyConnection, seqs: list[int]) -> list[ProfileEvent]:
    """The events with these seqs, newest first (a probe by seq, never a scan by person)."""
    if not seqs:
        return []
    rows = con.execute(
        "SELECT seq, timestamp, type, event, channel, source, properties FROM events "
        "WHERE seq IN (SELECT unnest(?::BIGINT[])) ORDER BY seq DESC",
        [seqs],
    ).fetchall()
    keys = ("seq", "timestamp", "type", "event", "channel", "source", "properties")
    out = []
    for r in rows:
        item = dict(zip(keys, r, strict=True))
        props = item["properties"]
        item["properties"] = orjson.loads(props) if props else None
        out.append(ProfileEvent(**item))
    return out


def read_profile(
    model: ReadModel, con: duckdb.DuckDBPyConnection, ident: Identifier, limit: int = 20
) -> ProfileRead:
    """The person with this identifier, from the read model (404 when nobody has it)."""
    pid = resolve_in_model(model, ident)
    view = model.view(pid) if pid is not None else None
    if pid is None or view is None:
        raise NotFound(f"identifier: no profile has {ident.kind} {ident.value!r}")
    idents = con.execute(
        "SELECT kind, value FROM identifiers WHERE profile_id = ? ORDER BY kind, value", [pid]
    ).fetchall()
    return ProfileRead(
        profile_id=pid,
        identifiers=[{"kind": k, "value": v} for k, v in idents],
        traits=view.traits,
        computed_traits=view.computed,
        audiences=sorted(view.audiences),
        events=profile_events(con, model.last_seqs(pid)[:limit]),
    )


class PreviewResult(BaseModel):
    """What a decision answers for one person, and why."""

    decision: str
    version: int | None = Field(description="The saved version previewed; None for a draft.")
    profile_id: str | None = Field(description="None: nobody has the identifier yet.")
    unit: str = Field(description="What the split hashes: the profile id, or the one to come.")
    variant: str
    arm: str = Field(description="The arm its exposure records: the variant, or holdout.")
    rule: str | None = Field(description="The rule that chose it; None: default or holdout.")
    content: dict[str, Any]
    rules: list[dict[str, Any]] = Field(description="Each rule with whether it matched.")
    audiences: list[str]
    traits: dict[str, Any] = Field(description="The traits the rules and variants name.")
    computed_traits: dict[str, Any] = Field(description="The computed traits they name.")


def preview(
    decision: Decision,
    version: int | None,
    view: ProfileView | None,
    unit: str,
    context: Mapping[str, Any] | None,
    computed_ops: Mapping[str, str],
) -> PreviewResult:
    """The answer of `decision` for one person, with each rule's outcome (nothing recorded)."""
    facts = (
        Facts(view.traits, view.computed, view.audiences, context, computed_ops)
        if view is not None
        else Facts({}, {}, frozenset(), context, computed_ops)
    )
    out = choose(decision, version or 0, facts, unit, trace=True)
    refs = decision.references()
    return PreviewResult(
        decision=decision.name,
        version=version,
        profile_id=view.profile_id if view is not None else None,
        unit=unit,
        variant=out.variant,
        arm=out.arm,
        rule=out.rule,
        content=out.content,
        rules=[_trace(t) for t in out.trace],
        audiences=sorted(facts.audiences),
        traits={k: facts.traits.get(k) for k in sorted(refs["traits"])},
        computed_traits={k: facts.computed.get(k) for k in sorted(refs["computed"])},
    )


def _trace(t: RuleTrace) -> dict[str, Any]:
    return {"rule": t.rule, "matched": t.matched}


def unit_for(ident: Identifier, pid: str | None) -> str:
    """What a person's assignment hashes: their profile id, or the id a new profile will get."""
    return pid if pid is not None else profile_id_for(ident.kind, ident.value)
