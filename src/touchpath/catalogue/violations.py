"""What tracking plans found: violation counts by event, property or source, with examples.

>>> from touchpath.catalogue.violations import violation_counts
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import duckdb
from pydantic import BaseModel

__all__ = ["By", "ViolationCount", "violation_counts"]

By = Literal["event", "property", "source", "kind"]

_GROUP = {
    "event": ["v.event"],
    "property": ["v.event", "v.property"],
    "source": ["coalesce(s.name, v.source)"],
    "kind": ["v.kind"],
}


class ViolationCount(BaseModel):
    """Violations of one group (an event; an event's property; a source; a kind)."""

    source: str | None = None
    event: str | None = None
    property: str | None = None
    kind: str | None = None
    violations: int
    messages: int
    """Distinct messages with at least one violation of this group."""
    blocked: int
    """Of those, messages sent to `rejected` (block mode)."""
    kinds: list[str]
    last_seen: datetime
    example: str
    """The most recent violation's problem."""
    example_payload: str
    """That message as it was sent."""


def violation_counts(
    cur: duckdb.DuckDBPyConnection,
    by: By = "event",
    source: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[ViolationCount]:
    """Violations grouped `by` event, property (per event), source or kind, most first;
    only of `source` (name or id) or after `since` when given."""
    group = _GROUP[by]
    where: list[str] = ["TRUE"]
    params: list[object] = []
    if source is not None:
        where.append("(v.source = ? OR s.name = ?)")
        params += [source, source]
    if since is not None:
        where.append("v.received_at >= ?")
        params.append(since)
    names = {"event": ["event"], "property": ["event", "property"], "source": ["source"],
             "kind": ["kind"]}[by]  # fmt: skip
    cols = ", ".join(f"{g} AS {n}" for g, n in zip(group, names, strict=True))
    rows = cur.execute(
        f"""SELECT {cols}, count(*) AS violations,
            count(DISTINCT coalesce(v.message_id, v.payload)) AS messages,
            count(DISTINCT coalesce(v.message_id, v.payload)) FILTER (v.action = 'blocked'),
            list(DISTINCT v.kind ORDER BY v.kind), max(v.received_at),
            arg_max(v.problem, v.received_at), arg_max(v.payload, v.received_at)
        FROM plan_violations v LEFT JOIN sources s ON s.id = v.source
        WHERE {" AND ".join(where)}
        GROUP BY ALL ORDER BY violations DESC, {", ".join(names)} LIMIT {int(limit)}""",
        params,
    ).fetchall()
    out = []
    k = len(names)
    for r in rows:
        out.append(
            ViolationCount(
                **dict(zip(names, r[:k], strict=True)),
                violations=r[k],
                messages=r[k + 1],
                blocked=r[k + 2],
                kinds=list(r[k + 3]),
                last_seen=r[k + 4],
                example=r[k + 5],
                example_payload=r[k + 6],
            )
        )
    return out
