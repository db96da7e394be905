"""Saved experiments: a name, a description and the spec, in the `experiments` table
(migration 500). Saving a name again replaces its spec and keeps its creation time.

>>> parse(SavedExperiment, {"name": "Cart SMS", "spec": ExperimentSpec.global_holdout(goal="Buy")})
Traceback (most recent call last):
...
touchpath.errors.SpecError: name: 'Cart SMS': use lower-case letters, digits and - _ . : (e.g. cart-sms)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import orjson
from pydantic import Field, field_validator

from touchpath.analytics.experiments.spec import ExperimentSpec
from touchpath.analytics.spec import parse
from touchpath.errors import NotFound, SpecError
from touchpath.events.match import Frozen
from touchpath.events.message import Staged
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = [
    "SavedExperiment",
    "arm_audience",
    "delete_experiment",
    "get_experiment",
    "list_experiments",
    "save_arm_audiences",
    "save_experiment",
]

NAME_PATTERN = r"^[a-z0-9][a-z0-9_.:-]*$"


class SavedExperiment(Frozen):
    """A saved experiment definition."""

    name: str = Field(max_length=100)
    description: str = ""
    spec: ExperimentSpec
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(NAME_PATTERN, v):
            raise ValueError(f"{v!r}: use lower-case letters, digits and - _ . : (e.g. cart-sms)")
        return v


def save_experiment(
    store: Store, name: str, spec: ExperimentSpec | Mapping[str, Any], description: str = ""
) -> SavedExperiment:
    """Create or replace experiment `name`."""
    entry = parse(SavedExperiment, {"name": name, "description": description, "spec": spec})
    text = entry.spec.model_dump_json(exclude_defaults=True)

    def save(con: duckdb.DuckDBPyConnection) -> SavedExperiment:
        now = utcnow()
        row = con.execute("SELECT created_at FROM experiments WHERE name = ?", [name]).fetchone()
        created = row[0] if row else now
        con.execute("DELETE FROM experiments WHERE name = ?", [name])
        con.execute(
            "INSERT INTO experiments VALUES (?, ?, ?, ?, ?)",
            [name, description, text, created, now],
        )
        return entry.model_copy(update={"created_at": created, "updated_at": now})

    return store.write_sync(save)


def _entry(row: tuple[Any, ...]) -> SavedExperiment:
    name, description, spec, created, updated = row
    try:
        parsed = ExperimentSpec.model_validate(orjson.loads(spec))
    except ValueError as exc:
        raise SpecError(f"experiment {name!r}: the saved spec no longer validates: {exc}") from None
    return SavedExperiment(
        name=name, description=description, spec=parsed, created_at=created, updated_at=updated
    )


def get_experiment(store: Store, name: str) -> SavedExperiment:
    """The saved experiment `name`; NotFound names the saved ones."""
    rows = store.query("SELECT * FROM experiments WHERE name = ?", [name])
    if not rows:
        names = [r[0] for r in store.query("SELECT name FROM experiments ORDER BY name")]
        known = f"saved: {', '.join(names)}" if names else "none is saved yet"
        raise NotFound(f"experiment {name!r}: not found ({known})")
    return _entry(rows[0])


def list_experiments(store: Store) -> list[SavedExperiment]:
    """Every saved experiment, by name."""
    return [_entry(r) for r in store.query("SELECT * FROM experiments ORDER BY name")]


def delete_experiment(store: Store, name: str) -> None:
    """Delete experiment `name` (NotFound when there is none)."""
    get_experiment(store, name)
    store.write_sync(lambda con: con.execute("DELETE FROM experiments WHERE name = ?", [name]))


def arm_audience(name: str, arm: str) -> str:
    """The static audience of one arm of experiment `name`: `experiment <name> <arm>`."""
    return f"experiment {name.replace(':', '-')} {arm}"


def save_arm_audiences(store: Store, name: str) -> dict[str, int]:
    """Save each arm's people (as the experiment counts them) as static audience
    `experiment <name> <arm>`, with Audience Entered/Exited events, and return the sizes.

    A journey map whose persona is one of these audiences is bound for that arm alone, so two
    arms' maps can be compared touchpoint by touchpoint (`touchpath.maps.compare`)."""
    from touchpath.analytics.experiments.metrics import arm_profiles_sql, arms_sql
    from touchpath.profiles import audiences

    spec = get_experiment(store, name).spec
    arms = [r[0] for r in store.query(arms_sql(spec))]

    def run(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, int], Staged | None]:
        now = utcnow()
        origin = {"experiment": name, "experiment_id": spec.experiment_id}
        changes = []
        sizes = {}
        for arm in arms:
            audience = arm_audience(name, arm)
            changes += audiences.save_static(
                con, audience, arm_profiles_sql(spec, arm), now, {**origin, "arm": arm}
            )
            ((size,),) = con.execute(
                "SELECT count(*) FROM audience_members WHERE audience = ?", [audience]
            ).fetchall()
            sizes[arm] = int(size)
        ((last,),) = con.execute("SELECT coalesce(max(seq), 0) FROM events").fetchall()
        return sizes, audiences.stage_changes(con, changes, int(last), now)

    sizes, staged = store.write_sync(run)
    if staged is not None:
        store.ingest(staged).result()
    return sizes
