"""Tracking plans at the door: each request's messages checked against the plan assigned to
their source, before they are queued for the writer (docs/tracking-plans.md).

The plan's schemas are compiled once (fastjsonschema: Python code per schema) when the plan is
loaded; a message is decoded only as far as its type, event, properties and traits (msgspec),
and checked with one call of its event's validator. Only a message that fails is looked at
again, property by property, to name everything wrong with it. What a plan finds is written in
the same transaction as the messages (`Staged.side_writes`): violations to `plan_violations`,
blocked messages to `rejected` with the violations as the reason.

`PlanGate` is the `plans` component of the composition root: it loads the assignments when it
starts and again when a plan or an assignment changes through this process (`reload`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import fastjsonschema
import msgspec
import orjson
import pyarrow as pa

from touchpath.catalogue.plans import TrackingPlan, compile_schema
from touchpath.events.message import Staged
from touchpath.store.outcomes import RowsChecked

if TYPE_CHECKING:
    from touchpath.system import Touchpath

__all__ = ["Checker", "PlanGate", "Violation"]


class _Msg(msgspec.Struct):
    type: Any = None
    event: Any = None
    messageId: Any = None
    properties: Any = None
    traits: Any = None


_decode = msgspec.json.Decoder(_Msg).decode
_KINDS = {"type": "wrong_type", "enum": "not_allowed_value", "const": "not_allowed_value",
          "required": "missing_required", "additionalProperties": "unplanned_property"}  # fmt: skip


@dataclass(frozen=True)
class Violation:
    """One thing wrong with a message: `property` is empty for the message as a whole."""

    kind: str
    property: str
    problem: str
    dropped: bool = False
    """The property was taken out (drop mode)."""


@dataclass
class _Schema:
    """One compiled schema and what is needed to name every problem when it fails."""

    where: str  # "properties" or "traits"
    validate: Any
    schema: dict[str, Any]
    allowed: frozenset[str]
    _parts: dict[str, Any] = field(default_factory=dict)

    def part(self, key: str) -> Any:
        if key not in self._parts:
            sub = self.schema.get("properties", {}).get(key, {})
            self._parts[key] = fastjsonschema.compile(sub if isinstance(sub, dict) else {})
        return self._parts[key]

    def problems(self, obj: dict[str, Any]) -> list[Violation]:
        """Everything wrong with `obj` (it failed the whole schema)."""
        out: list[Violation] = []
        for key in self.schema.get("required", []):
            if key not in obj:
                out.append(Violation("missing_required", key, f"{self.where}.{key}: required"))
        for key, value in obj.items():
            if key in self.allowed:
                try:
                    self.part(key)(value)
                except fastjsonschema.JsonSchemaValueException as exc:
                    said = exc.message.removeprefix("data").strip(". ")
                    kind = _KINDS.get(str(exc.rule), "invalid")
                    out.append(Violation(kind, key, f"{self.where}.{key}: {said}"))
            elif self.schema.get("additionalProperties") is False:
                out.append(
                    Violation("unplanned_property", key, f"{self.where}.{key}: not in the plan")
                )
        if not out:  # a rule over the whole object (minProperties, ...): the first one
            try:
                self.validate(obj)
            except fastjsonschema.JsonSchemaValueException as exc:
                where = ".".join([self.where, *[str(p) for p in (exc.path or [])[1:]]])
                said = exc.message.split(" ", 1)[-1]
                out.append(Violation(_KINDS.get(str(exc.rule), "invalid"), "", f"{where}: {said}"))
        return out


def _schema(where: str, schema: dict[str, Any], name: str) -> _Schema:
    return _Schema(
        where=where,
        validate=compile_schema(schema, name),
        schema=schema,
        allowed=frozenset(schema.get("properties", {})),
    )


class Checker:
    """A plan compiled for checking, with the mode it is assigned in."""

    def __init__(self, plan: TrackingPlan, mode: str) -> None:
        self.plan = plan
        self.mode = mode
        self.events = {e: _schema("properties", s, f"events.{e}") for e, s in plan.events.items()}
        self.identify = (
            _schema("traits", plan.identify, "identify") if plan.identify is not None else None
        )

    def check(
        self, raw: bytes, route_type: str | None
    ) -> tuple[bytes | None, list[Violation], Any]:
        """(the message to keep, or None when it is blocked; its violations; its head)."""
        try:
            msg = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return raw, [], None  # the store rejects it with its reason
        kind = route_type or msg.type
        if kind == "track":
            schema = self.events.get(msg.event) if isinstance(msg.event, str) else None
            if schema is None:
                if self.plan.unplanned_events == "allow" or not isinstance(msg.event, str):
                    return raw, [], msg
                found = [
                    Violation("unplanned_event", "", f"event: {msg.event!r} is not in the plan")
                ]
                return (None if self.mode == "block" else raw), found, msg
            obj = msg.properties
        elif kind == "identify" and self.identify is not None:
            schema, obj = self.identify, msg.traits
        else:
            return raw, [], msg
        if obj is None:
            obj = {}
        if not isinstance(obj, dict):
            return raw, [], msg
        extra = obj.keys() - schema.allowed if self.mode == "drop" else ()
        try:
            schema.validate(obj)
            if not extra:
                return raw, [], msg
            found = []
        except fastjsonschema.JsonSchemaValueException:
            found = schema.problems(obj)
        if self.mode == "block" and found:
            return None, found, msg
        if extra:
            found = [v for v in found if v.property not in extra] + [
                Violation("unplanned_property", k, f"{schema.where}.{k}: not in the plan", True)
                for k in sorted(extra)
            ]
            whole = orjson.loads(raw)
            whole[schema.where] = {k: v for k, v in obj.items() if k not in extra}
            raw = orjson.dumps(whole)
        return raw, found, msg


_VIOLATION_COLUMNS = ("received_at", "source", "plan", "mode", "message_id", "type", "event",
                      "property", "kind", "problem", "action", "payload")  # fmt: skip


class PlanGate:
    """The `plans` component: checks every request of a source that has a plan."""

    name = "plans"

    def __init__(self) -> None:
        self._checkers: dict[str, Checker] = {}
        self._lock = threading.Lock()
        self._tp: Touchpath | None = None

    def start(self, tp: Touchpath) -> None:
        self._tp = tp
        self.reload()
        tp.store.add_ingest_gate(self)
        tp.store.add_rows_gate(self.check_rows)
        tp.services["plans"] = self

    def stop(self) -> None:
        if self._tp is not None:
            self._tp.store.remove_ingest_gate(self)
            self._tp.store.remove_rows_gate(self.check_rows)

    def reload(self) -> None:
        """Load the assignments and compile their plans again (after a change)."""
        assert self._tp is not None
        with self._tp.store.reading() as cur:
            rows = cur.execute(
                "SELECT a.source, a.mode, p.document FROM plan_assignments a "
                "JOIN tracking_plans p ON p.name = a.plan"
            ).fetchall()
        checkers = {
            src: Checker(TrackingPlan.model_validate_json(doc), mode) for src, mode, doc in rows
        }
        with self._lock:
            self._checkers = checkers

    def __call__(self, staged: Staged) -> Staged:
        checker = self._checkers.get(staged.source)
        if checker is None:
            return staged
        kept: list[bytes] = []
        rows: list[tuple[Any, ...]] = []
        refused: list[tuple[Any, ...]] = []
        for raw in staged.raws:
            out, found, msg = checker.check(raw, staged.route_type)
            if out is not None:
                kept.append(out)
            if not found:
                continue
            action = "blocked" if out is None else "kept"
            head = (
                str(msg.messageId) if msg.messageId is not None else None,
                staged.route_type or msg.type,
                msg.event if isinstance(msg.event, str) else None,
            )
            text = raw.decode("utf-8", "replace")
            for v in found:
                act = "dropped" if v.dropped else action
                rows.append((*head, v.property, v.kind, v.problem, act, text))
            if out is None:
                reason = f"plan {checker.plan.name}: " + "; ".join(v.problem for v in found)
                refused.append((head[0], head[1], reason, text))
        if not rows:
            return replace(staged, raws=kept)
        return replace(
            staged,
            raws=kept,
            refused=staged.refused + len(refused),
            side_writes=[
                *staged.side_writes,
                _recorder(staged.received_at, staged.source, checker, rows, refused),
            ],
        )

    def check_rows(self, rows: pa.Table) -> RowsChecked:
        """The file importers' path (`Store.append_rows`): rows in the event log's shape, all
        of one source, each checked as the message it was (type, event, messageId, ids,
        timestamp, properties and traits), in the mode of the source's plan."""
        checker = self._checkers.get(rows.column("source")[0].as_py()) if rows.num_rows else None
        if checker is None:
            return RowsChecked(rows)
        cols = {c: rows.column(c).to_pylist() for c in _ROW_MESSAGE}
        keep: list[int] = []
        found_rows: list[tuple[Any, ...]] = []
        refused: list[tuple[Any, ...]] = []
        changed: dict[str, dict[int, str]] = {"properties": {}, "traits": {}}
        flagged = 0
        for i in range(rows.num_rows):
            raw = _row_message(cols, i)
            out, found, _ = checker.check(raw, None)
            if out is not None:
                keep.append(i)
                if out is not raw:  # drop mode took properties (or traits) out
                    whole = orjson.loads(out)
                    for where, values in changed.items():
                        values[i] = orjson.dumps(whole.get(where)).decode()
            if not found:
                continue
            flagged += out is not None
            head = (cols["message_id"][i], cols["type"][i], cols["event"][i])
            text = raw.decode()
            action = "blocked" if out is None else "kept"
            for v in found:
                found_rows.append((*head, v.property, v.kind, v.problem,
                                   "dropped" if v.dropped else action, text))  # fmt: skip
            if out is None:
                reason = f"plan {checker.plan.name}: " + "; ".join(v.problem for v in found)
                refused.append((head[0], head[1], reason, text))
        if not found_rows:
            return RowsChecked(rows)
        kept = _rewritten(rows, changed).take(pa.array(keep, pa.int64()))
        kept = kept.set_column(
            kept.schema.get_field_index("k"), "k", pa.array(range(kept.num_rows), pa.int64())
        )
        received_at, source = rows.column("received_at")[0].as_py(), cols["source"][0]
        write = _recorder(received_at, source, checker, found_rows, refused, once=True)
        return RowsChecked(kept, [write], blocked=len(refused), flagged=flagged)


_ROW_MESSAGE = ("source", "message_id", "type", "event", "user_id", "anonymous_id", "timestamp",
                "properties", "traits")  # fmt: skip


def _row_message(cols: dict[str, list[Any]], i: int) -> bytes:
    """Row `i` of an import as the Segment message it stands for."""
    msg: dict[str, Any] = {"type": cols["type"][i], "messageId": cols["message_id"][i]}
    if cols["event"][i] is not None:
        msg["event"] = cols["event"][i]
    for key, col in (("userId", "user_id"), ("anonymousId", "anonymous_id")):
        if cols[col][i] is not None:
            msg[key] = cols[col][i]
    if cols["timestamp"][i] is not None:
        msg["timestamp"] = cols["timestamp"][i].isoformat() + "Z"
    for where in ("properties", "traits"):
        if cols[where][i] is not None:
            msg[where] = orjson.loads(cols[where][i])
    return orjson.dumps(msg)


def _rewritten(rows: pa.Table, changed: dict[str, dict[int, str]]) -> pa.Table:
    """`rows` with the properties and traits drop mode rewrote."""
    for where, values in changed.items():
        if values:
            idx = rows.schema.get_field_index(where)
            col = rows.column(where).to_pylist()
            for i, text in values.items():
                col[i] = text
            rows = rows.set_column(idx, rows.field(where), pa.array(col, rows.field(where).type))
    return rows


def _recorder(
    received_at: datetime,
    source: str,
    checker: Checker,
    rows: list[tuple[Any, ...]],
    refused: list[tuple[Any, ...]],
    once: bool = False,
) -> Any:
    """The write that records what a plan found: violations, and messages blocked (`once`: a
    message already in `rejected`, an import's row blocked again, is not added again)."""
    n = len(rows)
    table = pa.table(
        {
            "received_at": pa.array([received_at] * n, pa.timestamp("us")),
            "source": [source] * n,
            "plan": [checker.plan.name] * n,
            "mode": [checker.mode] * n,
            **{
                name: pa.array([r[i] for r in rows], pa.string())
                for i, name in enumerate(_VIOLATION_COLUMNS[4:])
            },
        }
    )

    blocked = pa.table(
        {
            name: pa.array([r[i] for r in refused], pa.string())
            for i, name in enumerate(("message_id", "type", "reason", "payload"))
        }
    )

    def write(con: duckdb.DuckDBPyConnection) -> None:
        con.register("plan_found", table)
        try:
            con.execute(
                f"INSERT INTO plan_violations SELECT {', '.join(_VIOLATION_COLUMNS)} FROM plan_found"
            )
        finally:
            con.unregister("plan_found")
        if not refused:
            return
        con.register("plan_refused", blocked)
        try:
            con.execute(
                "INSERT INTO rejected SELECT ?::TIMESTAMP, ?, b.message_id, b.type, b.reason, "
                "b.payload FROM plan_refused b"
                + (
                    " WHERE NOT EXISTS (SELECT 1 FROM rejected r WHERE r.source = ? "
                    "AND r.message_id = b.message_id)"
                    if once
                    else ""
                ),
                [received_at, source, *([source] if once else [])],
            )
        finally:
            con.unregister("plan_refused")

    return write
