"""Previews for the audience and computed-trait builders (/api/explore): what a definition would
give if it were saved now, computed by the profiles engine's own SQL (`audience_sql`,
`computed_sql`) without writing anything, so the web app can show a live size as the user edits.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from touchpath.events.match import Frozen
from touchpath.profiles.audiences import audience_sql
from touchpath.profiles.specs import Audience, ComputedTrait, Condition
from touchpath.profiles.traits import computed_sql
from touchpath.store.store import utcnow
from touchpath.web.deps import StoreDep
from touchpath.web.explore_api import Count, Identifier, PersonHit

__all__ = ["router"]

router = APIRouter(prefix="/api/explore", tags=["explore"])

SAMPLE = 10


class AudienceDraft(Frozen):
    """An audience condition, not saved."""

    condition: Condition


class AudiencePreview(BaseModel):
    size: int = Field(description="Profiles that meet the condition now.")
    profiles: int = Field(description="Profiles in all.")
    sample: list[PersonHit]


class TraitValue(BaseModel):
    profile_id: str
    value: Any


class TraitPreview(BaseModel):
    profiles: int = Field(description="Profiles that would have a value.")
    top_values: list[Count]
    sample: list[TraitValue]


def _people(store: StoreDep, ids: list[str]) -> list[PersonHit]:
    if not ids:
        return []
    rows = store.query(
        "SELECT profile_id, max(last_seen), list(struct_pack(kind := kind, value := value) "
        "ORDER BY kind = 'user_id' DESC, kind = 'email' DESC, kind, value) "
        "FROM identifiers WHERE profile_id IN (SELECT unnest(?)) GROUP BY 1",
        [ids],
    )
    found = {p: PersonHit(profile_id=p, last_seen=s, identifiers=[Identifier(**i) for i in x])
             for p, s, x in rows}  # fmt: skip
    return [found.get(p) or PersonHit(profile_id=p, identifiers=[], last_seen=None) for p in ids]


@router.post("/audience-preview", response_model=AudiencePreview)
def audience_preview(store: StoreDep, draft: AudienceDraft) -> AudiencePreview:
    """How many profiles an audience condition selects now, with a few of them: the size and
    the sample from one run of the condition (two runs cost twice its CPU)."""
    with store.reading() as cur:
        sql = audience_sql(cur, Audience(name="preview", condition=draft.condition), utcnow(), None)
        rows = cur.execute(
            f"SELECT profile_id, count(*) OVER () FROM ({sql}) ORDER BY profile_id LIMIT {SAMPLE}"
        ).fetchall()
        (total,) = cur.execute("SELECT count(*) FROM profiles").fetchone() or (0,)
    size = int(rows[0][1]) if rows else 0
    return AudiencePreview(size=size, profiles=total, sample=_people(store, [r[0] for r in rows]))


@router.post("/trait-preview", response_model=TraitPreview)
def trait_preview(store: StoreDep, trait: ComputedTrait) -> TraitPreview:
    """What a computed trait would hold now: how many profiles get a value, the commonest."""
    sql = computed_sql(trait, utcnow(), None)
    with store.reading() as cur:
        (n,) = cur.execute(f"SELECT count(*) FROM ({sql})").fetchone() or (0,)
        top = cur.execute(
            f"SELECT value::VARCHAR, count(*) FROM ({sql}) GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
        ).fetchall()
        sample = cur.execute(
            f"SELECT profile_id, value::VARCHAR FROM ({sql}) ORDER BY profile_id LIMIT {SAMPLE}"
        ).fetchall()
    return TraitPreview(
        profiles=n,
        top_values=[Count(name=str(v), count=c) for v, c in top],
        sample=[
            TraitValue(profile_id=p, value=None if v is None else orjson.loads(v))
            for p, v in sample
        ],
    )


@router.get("/trait-names", response_model=list[Count])
def trait_names(
    store: StoreDep, q: Annotated[str, Query(description="Only names containing this.")] = ""
) -> list[Count]:
    """Profile trait names (from identify calls) with how many profiles have each."""
    rows = store.query(
        "SELECT name, count(*) FROM profile_traits WHERE contains(lower(name), lower(?)) "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 200",
        [q],
    )
    return [Count(name=k, count=v) for k, v in rows]
