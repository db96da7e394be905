"""REST API of identity and profiles: /api/profiles, /api/traits, /api/audiences, /api/privacy."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from touchpath.catalogue import check_names
from touchpath.errors import BadRequest, SpecError, problems_of
from touchpath.profiles import audiences as aud
from touchpath.profiles import lookup, privacy, rebuild, refresh
from touchpath.profiles import traits as tr
from touchpath.profiles.export import write_csv
from touchpath.profiles.specs import NAME, Audience, ComputedTrait
from touchpath.store.store import utcnow
from touchpath.web.auth import PrincipalDep, require
from touchpath.web.deps import StoreDep, TouchpathDep
from touchpath.web.errors import SpecRoute

__all__ = ["AudienceIn", "TraitIn", "router"]

T = TypeVar("T", ComputedTrait, Audience)

router = APIRouter(prefix="/api")
profiles = APIRouter(prefix="/profiles", tags=["profiles"])
traits = APIRouter(prefix="/traits", tags=["traits"], route_class=SpecRoute)
audiences = APIRouter(prefix="/audiences", tags=["audiences"], route_class=SpecRoute)

_ALLOW = Field(
    default=False,
    description="Allow event and property names the store has never seen (events still to come).",
)
_NAMED = Field(default=None, pattern=NAME, description="The path's name (may be left out).")


class TraitIn(ComputedTrait):
    """A computed trait to define: its name is the path's."""

    name: str | None = _NAMED  # type: ignore[assignment]
    allow_unknown: bool = _ALLOW


class AudienceIn(Audience):
    """An audience to define: its name is the path's."""

    name: str | None = _NAMED  # type: ignore[assignment]
    allow_unknown: bool = _ALLOW


def _named(body: TraitIn | AudienceIn, name: str) -> dict[str, Any]:
    """The spec of `body` under the path's `name` (a different name in the body is a 400)."""
    if body.name is not None and body.name != name:
        raise SpecError(f"name: {body.name!r} differs from the path's {name!r}")
    return {**dict(body), "name": name}


privacy_router = APIRouter(
    prefix="/privacy", tags=["privacy"], dependencies=[Depends(require("admin"))]
)


@profiles.post("/rebuild", dependencies=[Depends(require("admin"))])
async def rebuild_graph(tp: TouchpathDep) -> dict[str, Any]:
    """Recompute the identity graph and profiles from the event log."""
    rules = tp.services["unify"].config.identity
    return (await run_in_threadpool(rebuild, tp.store, rules)).__dict__


@profiles.get("/lookup")
def find(store: StoreDep, value: str, kind: str | None = None) -> dict[str, Any]:
    """The profile of an identifier (any kind, or the given one)."""
    return lookup.show(store, value, kind)


@profiles.get("/{ref}")
def show(
    store: StoreDep,
    ref: str,
    kind: str | None = None,
    consent: Annotated[
        bool, Query(description="Include `consent` and `consent_history` (read from the events).")
    ] = True,
) -> dict[str, Any]:
    """A profile by id or identifier: identifiers, traits, computed traits, audiences, consent."""
    return lookup.show(store, ref, kind, consent=consent)


@profiles.get("/{ref}/explain")
def explain(store: StoreDep, ref: str, kind: str | None = None) -> dict[str, Any]:
    """Why the identifiers of the profile belong together."""
    return lookup.explain(store, ref, kind)


@profiles.get("/{ref}/timeline")
def timeline(
    store: StoreDep, ref: str, kind: str | None = None, limit: int = 200, offset: int = 0
) -> dict[str, Any]:
    """The profile's events across devices and channels, oldest first."""
    return lookup.timeline(store, ref, kind, limit=min(max(limit, 1), 10_000), offset=offset)


@traits.get("")
def list_traits(store: StoreDep) -> list[dict[str, Any]]:
    """Computed trait definitions."""
    with store.reading() as con:
        return [t.model_dump(mode="json") for t in tr.list_computed(con)]


@traits.put("/{name}", dependencies=[Depends(require("editor"))])
def put_trait(store: StoreDep, name: str, body: TraitIn) -> dict[str, Any]:
    """Define or replace a computed trait; it is computed for everyone at once. An event or
    property the store has never seen is a 400 naming the closest (`"allow_unknown": true`
    in the body allows it)."""
    fields = _named(body, name)
    fields.pop("allow_unknown")
    trait = _valid(ComputedTrait, fields)
    if not body.allow_unknown:
        with store.reading() as cur:
            check_names(cur, trait)
    store.write_sync(lambda con: tr.define_computed(con, trait, utcnow()))
    return trait.model_dump(mode="json")


def _valid(cls: type[T], fields: dict[str, Any]) -> T:
    """`cls` of already validated fields; the path's name is the one still to check (400)."""
    try:
        return cls.model_validate(fields)
    except ValidationError as exc:
        raise SpecError(problems=problems_of(exc.errors())) from None


@traits.post("/refresh", dependencies=[Depends(require("editor"))])
def refresh_traits(store: StoreDep) -> dict[str, Any]:
    """Recompute computed traits for every profile (windows move with time)."""
    return refresh(store, "traits").__dict__


@traits.delete("/{name}", dependencies=[Depends(require("editor"))])
def delete_trait(store: StoreDep, name: str) -> dict[str, bool]:
    store.write_sync(lambda con: tr.remove_computed(con, name))
    return {"success": True}


@audiences.get("")
def list_audiences(store: StoreDep) -> list[dict[str, Any]]:
    """Audiences with their kind (rule or static) and size; a static one shows its origin."""
    with store.reading() as con:
        return aud.listed(con)


@audiences.put("/{name}", dependencies=[Depends(require("editor"))])
def put_audience(store: StoreDep, name: str, body: AudienceIn) -> dict[str, Any]:
    """Define or replace an audience (body: {"condition": ...}); members are computed at once.
    An event or property the store has never seen is a 400 naming the closest
    (`"allow_unknown": true` in the body allows it)."""
    fields = _named(body, name)
    fields.pop("allow_unknown")
    audience = _valid(Audience, fields)
    if not body.allow_unknown:
        with store.reading() as cur:
            check_names(cur, audience)
    store.write_sync(lambda con: aud.define_audience(con, audience, utcnow()))
    refresh(store, "audiences")
    return {**audience.model_dump(mode="json"), "size": len(lookup.members(store, name))}


@audiences.delete("/{name}", dependencies=[Depends(require("editor"))])
def delete_audience(store: StoreDep, name: str) -> dict[str, bool]:
    store.write_sync(lambda con: aud.remove_audience(con, name))
    return {"success": True}


@audiences.post("/refresh", dependencies=[Depends(require("editor"))])
def refresh_audiences(
    store: StoreDep,
    traits: bool = Query(
        True, description="Recompute computed traits first (false: only audiences)."
    ),
) -> dict[str, Any]:
    """Recompute computed traits and audiences for every profile."""
    return refresh(store, "all" if traits else "audiences").__dict__


@audiences.get("/{name}/members", response_model=None)
def members(store: StoreDep, name: str, format: Literal["json", "csv"] = "json") -> Any:
    """Members of an audience; `?format=csv` exports them."""
    rows = lookup.members(store, name)
    if format == "csv":
        out = io.StringIO()
        write_csv(out, ["profile_id", "user_id", "email", "entered_at"], rows)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return {"audience": name, "size": len(rows), "members": rows}


class PrivacyDelete(BaseModel):
    """Whom to delete: one of `userId`, `anonymousId`, `email`, or any `identifier` (optionally
    of a `kind`; a profile id too)."""

    model_config = ConfigDict(extra="forbid")

    userId: str | None = Field(default=None, min_length=1)
    anonymousId: str | None = Field(default=None, min_length=1)
    email: str | None = Field(default=None, min_length=1)
    identifier: str | None = Field(default=None, min_length=1)
    kind: str | None = Field(default=None, min_length=1, description="With `identifier`.")
    suppress: bool = Field(default=False, description="Also drop their future messages.")

    def target(self) -> tuple[str, str | None]:
        given = [
            (v, k)
            for v, k in (
                (self.userId, "user_id"),
                (self.anonymousId, "anonymous_id"),
                (self.email, "email"),
                (self.identifier, self.kind),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise BadRequest("body: give exactly one of userId, anonymousId, email, identifier")
        return given[0]


class PrivacyDeleted(BaseModel):
    deleted: dict[str, int]
    """Rows removed per table."""
    compact: str = "the bytes stay in the store file until `touchpath privacy compact`"


@privacy_router.post("/delete", response_model=PrivacyDeleted, responses={404: {}})
def delete_person(body: PrivacyDelete, tp: TouchpathDep, p: PrincipalDep) -> PrivacyDeleted:
    """Delete everything about a person in one transaction; reports rows removed per table."""
    value, kind = body.target()
    counts = privacy.delete_person(
        tp.store, value, kind, and_suppress=body.suppress,
        deleters=privacy.person_deleters(tp.services), actor=p.label,
    )  # fmt: skip
    return PrivacyDeleted(deleted=counts)


@privacy_router.get("/suppressions")
def list_suppressions(store: StoreDep) -> list[dict[str, Any]]:
    return privacy.suppressions(store)


@privacy_router.put("/suppressions/{kind}/{value}")
def add_suppression(
    store: StoreDep, kind: Literal["user_id", "anonymous_id"], value: str, reason: str | None = None
) -> dict[str, bool]:
    """Suppress: future messages of this identifier get 200 and are dropped."""
    privacy.suppress(store, value, kind, reason)
    return {"success": True}


@privacy_router.delete("/suppressions/{kind}/{value}")
def lift_suppression(
    store: StoreDep, kind: Literal["user_id", "anonymous_id"], value: str
) -> dict[str, bool]:
    """Lift a suppression."""
    privacy.unsuppress(store, value, kind)
    return {"success": True}


for _sub in (profiles, traits, audiences, privacy_router):
    router.include_router(_sub)
