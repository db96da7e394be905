"""Tracking plans, as Segment Protocols has them (docs/tracking-plans.md).

A plan is a JSON Schema per track event (the schema of its `properties`: types, `required`,
`enum`, ...) and one for identify traits, kept under a name and assigned to sources with a mode:
`flag` keeps a message and records what is wrong with it, `block` sends it to `rejected` with
the violation as the reason, `drop` takes out the properties the plan does not name. Plans are
written as YAML or JSON, inferred from the event catalogue (`infer`), and checked at the door
by `touchpath.catalogue.gate`.

>>> plan = TrackingPlan(name="web", events={"Order Completed": {"type": "object",
...     "properties": {"revenue": {"type": "number"}}, "required": ["revenue"]}})
>>> [line for line in export(plan, "yaml").splitlines() if not line.startswith("description")][:2]
['name: web', 'unplanned_events: allow']
>>> read_plan(export(plan, "json")) == plan
True
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import duckdb
import fastjsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field

from touchpath.catalogue import catalogue
from touchpath.errors import NotFound, Problem, SpecError
from touchpath.store import Store, utcnow

__all__ = [
    "MODES",
    "Assignment",
    "Mode",
    "PlanInfo",
    "TrackingPlan",
    "assign",
    "assignments",
    "compile_schema",
    "delete_plan",
    "export",
    "get_plan",
    "infer",
    "list_plans",
    "read_plan",
    "save_plan",
    "unassign",
]

Mode = Literal["flag", "block", "drop"]
MODES: tuple[str, ...] = ("flag", "block", "drop")


class TrackingPlan(BaseModel):
    """A tracking plan: what each event's properties and the identify traits must look like."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[^/\s][^/]*$")
    description: str = ""
    unplanned_events: Literal["allow", "violation"] = "allow"
    """`violation`: a track event the plan does not list is a violation (blocked in block
    mode); `allow`: it passes unchecked."""
    events: dict[str, dict[str, Any]] = {}
    """Per event name, the JSON Schema of its properties (an object schema)."""
    identify: dict[str, Any] | None = None
    """The JSON Schema of identify calls' traits (None: not checked)."""


class PlanInfo(BaseModel):
    name: str
    description: str
    events: int
    sources: list[str]
    """The sources (names) it is assigned to."""
    updated_at: datetime


class Assignment(BaseModel):
    source: str
    """The source's name."""
    source_id: str
    plan: str
    mode: Mode
    assigned_at: datetime


def compile_schema(schema: dict[str, Any], where: str) -> Any:
    """`schema` compiled to a Python validator (once per plan); a bad schema is a SpecError at
    `where`."""
    try:
        return fastjsonschema.compile(schema)
    except (fastjsonschema.JsonSchemaDefinitionException, TypeError, ValueError) as exc:
        raise SpecError(f"{where}: not a valid JSON Schema: {exc}") from None


def _check(plan: TrackingPlan) -> None:
    problems: list[Problem] = []
    for event, schema in plan.events.items():
        try:
            compile_schema(schema, f"events.{event}")
        except SpecError as exc:
            problems.extend(exc.problems)
    if plan.identify is not None:
        try:
            compile_schema(plan.identify, "identify")
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems=[Problem("invalid_schema", p.path, p.problem) for p in problems])


def read_plan(text: str | bytes | dict[str, Any], name: str | None = None) -> TrackingPlan:
    """A plan from YAML or JSON text (or a mapping); `name` overrides the document's."""
    data: Any = text
    if isinstance(text, str | bytes):
        try:
            data = yaml.safe_load(text)  # JSON is YAML
        except yaml.YAMLError as exc:
            raise SpecError(f"plan: not valid YAML or JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError("plan: expected a mapping with name and events")
    if name is not None:
        data = {**data, "name": name}
    from touchpath.analytics.spec import parse

    plan: TrackingPlan = parse(TrackingPlan, data)
    _check(plan)
    return plan


def export(plan: TrackingPlan, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The plan as YAML or JSON text (what `read_plan` reads back)."""
    data = plan.model_dump(mode="json")
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    out: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return out


def save_plan(store: Store, plan: TrackingPlan) -> TrackingPlan:
    """Create or replace a plan (its schemas checked first)."""
    _check(plan)
    doc = plan.model_dump_json()

    def write(con: duckdb.DuckDBPyConnection) -> None:
        now = utcnow()
        con.execute(
            "INSERT INTO tracking_plans VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE "
            "SET document = excluded.document, updated_at = excluded.updated_at",
            [plan.name, doc, now, now],
        )

    store.write_sync(write)
    return plan


def get_plan(cur: duckdb.DuckDBPyConnection, name: str) -> TrackingPlan:
    row = cur.execute("SELECT document FROM tracking_plans WHERE name = ?", [name]).fetchone()
    if row is None:
        raise NotFound(f"plan {name!r}: no such tracking plan")
    return TrackingPlan.model_validate_json(row[0])


def list_plans(cur: duckdb.DuckDBPyConnection) -> list[PlanInfo]:
    rows = cur.execute(
        """SELECT p.name, p.document, p.updated_at,
            list(coalesce(s.name, a.source) ORDER BY s.name) FILTER (a.source IS NOT NULL)
        FROM tracking_plans p LEFT JOIN plan_assignments a ON a.plan = p.name
        LEFT JOIN sources s ON s.id = a.source GROUP BY ALL ORDER BY p.name"""
    ).fetchall()
    out = []
    for name, doc, updated, sources in rows:
        plan = TrackingPlan.model_validate_json(doc)
        out.append(
            PlanInfo(
                name=name,
                description=plan.description,
                events=len(plan.events),
                sources=list(sources or []),
                updated_at=updated,
            )
        )
    return out


def delete_plan(store: Store, name: str) -> None:
    def write(con: duckdb.DuckDBPyConnection) -> None:
        if not con.execute("SELECT 1 FROM tracking_plans WHERE name = ?", [name]).fetchone():
            raise NotFound(f"plan {name!r}: no such tracking plan")
        con.execute("DELETE FROM plan_assignments WHERE plan = ?", [name])
        con.execute("DELETE FROM tracking_plans WHERE name = ?", [name])

    store.write_sync(write)


def assign(store: Store, source: str, plan: str, mode: str = "flag") -> Assignment:
    """Check the messages of `source` (name or id) against `plan` in `mode`."""
    if mode not in MODES:
        raise SpecError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
    src = store.source(source)

    def write(con: duckdb.DuckDBPyConnection) -> datetime:
        if not con.execute("SELECT 1 FROM tracking_plans WHERE name = ?", [plan]).fetchone():
            raise NotFound(f"plan {plan!r}: no such tracking plan")
        now = utcnow()
        con.execute(
            "INSERT INTO plan_assignments VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE "
            "SET plan = excluded.plan, mode = excluded.mode, assigned_at = excluded.assigned_at",
            [src.id, plan, mode, now],
        )
        return now

    at = store.write_sync(write)
    return Assignment(source=src.name, source_id=src.id, plan=plan, mode=mode, assigned_at=at)


def unassign(store: Store, source: str) -> None:
    src = store.source(source)
    store.write_sync(
        lambda con: con.execute("DELETE FROM plan_assignments WHERE source = ?", [src.id])
    )


def assignments(cur: duckdb.DuckDBPyConnection) -> list[Assignment]:
    rows = cur.execute(
        """SELECT coalesce(s.name, a.source), a.source, a.plan, a.mode, a.assigned_at
        FROM plan_assignments a LEFT JOIN sources s ON s.id = a.source ORDER BY 1"""
    ).fetchall()
    return [
        Assignment(source=n, source_id=i, plan=p, mode=m, assigned_at=at) for n, i, p, m, at in rows
    ]


def _schema_of(props: list[catalogue.CatalogueProperty], total: int) -> dict[str, Any]:
    """An object schema from the keys seen: each key's types (integer folded into number when
    both were seen), required when every message had it."""
    types: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for p in props:
        types.setdefault(p.key, set()).add(str(p.value_type))
        counts[p.key] = counts.get(p.key, 0) + p.count
    properties: dict[str, Any] = {}
    for key in sorted(types):
        seen = types[key]
        if {"integer", "number"} <= seen:
            seen = seen - {"integer"}
        ordered = sorted(seen)
        properties[key] = {"type": ordered[0] if len(ordered) == 1 else ordered}
    required = [k for k in sorted(types) if counts[k] >= total and "null" not in types[k]]
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def infer(
    cur: duckdb.DuckDBPyConnection,
    name: str,
    events: list[str] | None = None,
    description: str = "",
) -> TrackingPlan:
    """A plan from the data: every track event the catalogue holds (or only `events`) with the
    types its properties were seen with, and the identify traits. Edit it, then save it."""
    seen = {e.event: e for e in catalogue.events(cur, "track")}
    wanted = sorted(seen) if events is None else events
    missing = [e for e in wanted if e not in seen]
    if missing:
        raise NotFound(
            "events: "
            + "; ".join(
                f"unknown event {e!r}"
                + (f"; did you mean {_closest(e, set(seen))}?" if seen else "")
                for e in missing
            )
        )
    schemas = {e: _schema_of(catalogue.properties(cur, e, "track"), seen[e].count) for e in wanted}
    identify = {e.type: e for e in catalogue.events(cur, "identify")}.get("identify")
    traits = (
        _schema_of(catalogue.properties(cur, "", "identify"), identify.count) if identify else None
    )
    if traits is not None:
        traits.pop("required", None)  # identify calls send some traits at a time
    return TrackingPlan(
        name=name,
        description=description or f"inferred from the data on {utcnow():%Y-%m-%d}",
        events=schemas,
        identify=traits,
    )


def _closest(name: str, known: set[str]) -> str:
    from touchpath.catalogue.names import closest

    near = closest(name, known)
    return " or ".join(map(repr, near)) if near else "(nothing close)"
