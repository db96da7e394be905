"""Paths: the sequences of events people take from a start event, or up to an end event.

Each profile's events are split into sessions after `session_gap` of inactivity (30 minutes by
default). In each session the path starts at the first start event (or ends at the first end
event, or starts at the session's first event when neither is given) and runs `steps` events.
Names can be cleaned with wildcard or regex rules (e.g. `Product */*` -> `Product page`),
excluded, and repeated names collapsed. The result is a Sankey: nodes `(step, name)` and
weighted edges between consecutive steps, with a minimum weight and the top K edges kept.

`after_dropoff` gives the paths of the profiles that dropped off a funnel: those who made step
k-1 but not step k, from their step k-1 event on.

>>> wildcard_regex("Product/*")
'^Product/.*$'
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, model_validator

from touchpath.analytics.breakdown import Duration
from touchpath.analytics.common import EventMatch, Frozen, TimeRange, literal
from touchpath.analytics.funnels import JOURNEY_TYPES, FunnelSpec, reached_sql
from touchpath.store import Store

__all__ = [
    "CleaningRule",
    "FunnelDropoff",
    "PathEdge",
    "PathNode",
    "PathsResult",
    "PathsSpec",
    "TopPath",
    "paths",
    "paths_sql",
    "wildcard_regex",
]

ARROW = " → "


def wildcard_regex(pattern: str) -> str:
    """A whole-name regex for a wildcard pattern (`*` any text, `?` one character)."""
    out = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return f"^{out}$"


class CleaningRule(Frozen):
    """Rename event names that match `pattern` (a wildcard, or a regex with `regex: true`)."""

    pattern: str = Field(min_length=1)
    replacement: str
    regex: bool = False

    @model_validator(mode="after")
    def _valid_regex(self) -> CleaningRule:
        if self.regex:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern: not a valid regex: {exc}") from None
        return self

    def apply(self, name: str) -> str:
        """SQL applying the rule to the expression `name`."""
        pattern = self.pattern if self.regex else wildcard_regex(self.pattern)
        return (
            f"regexp_replace({name}, {literal(pattern).sql('duckdb')}, "
            f"{literal(self.replacement).sql('duckdb')}, 'g')"
        )


class FunnelDropoff(Frozen):
    """The profiles that made step `step - 1` of `funnel` but not step `step`."""

    funnel: FunnelSpec
    step: int = Field(ge=2)

    @model_validator(mode="after")
    def _in_funnel(self) -> FunnelDropoff:
        if self.step > len(self.funnel.steps):
            raise ValueError(f"step: {self.step} is past the funnel's last step")
        return self


class PathsSpec(Frozen):
    """Which paths: anchor, length, sessions, cleaning, exclusions and edge filters."""

    kind: Literal["paths"] = "paths"
    start: EventMatch | None = None
    end: EventMatch | None = None
    after_dropoff: FunnelDropoff | None = None
    steps: int = Field(default=5, ge=2, le=20)
    session_gap: Duration = 1800
    cleaning: tuple[CleaningRule, ...] = ()
    exclude: tuple[str, ...] = ()
    collapse_repeats: bool = False
    min_edge_weight: int = Field(default=1, ge=1)
    top_edges: int = Field(default=50, ge=1, le=10_000)
    top_paths: int = Field(default=10, ge=0, le=1000)
    time_range: TimeRange = TimeRange()

    @model_validator(mode="after")
    def _one_anchor(self) -> PathsSpec:
        given = [n for n in ("start", "end", "after_dropoff") if getattr(self, n) is not None]
        if len(given) > 1:
            raise ValueError(f"{' and '.join(given)}: give only one anchor")
        return self


class PathNode(Frozen):
    id: str
    step: int
    name: str
    count: int


class PathEdge(Frozen):
    source: str
    target: str
    step: int
    weight: int


class TopPath(Frozen):
    path: list[str]
    count: int


class PathsResult(Frozen):
    """A Sankey: nodes per step and the weighted edges between them."""

    kind: Literal["paths"] = "paths"
    total: int
    nodes: list[PathNode]
    edges: list[PathEdge]
    top_paths: list[TopPath]


def _name_sql(spec: PathsSpec) -> str:
    name = "coalesce(event, type)"
    for rule in spec.cleaning:
        name = rule.apply(name)
    return name


def paths_sql(spec: PathsSpec) -> str:
    """SELECT pid, sid, step, name: the events of each path, numbered 1..steps."""
    where = (
        f"type IN ({', '.join(repr(t) for t in JOURNEY_TYPES)}) AND "
        + spec.time_range.condition().sql("duckdb")
    )
    anchor_cond = "false"
    anchors = ""
    join = ""
    if spec.start is not None:
        anchor_cond = spec.start.condition().sql("duckdb")
    elif spec.end is not None:
        anchor_cond = spec.end.condition().sql("duckdb")
    elif spec.after_dropoff is not None:
        fun, k = spec.after_dropoff.funnel, spec.after_dropoff.step - 1
        anchors = (
            f"drop AS (SELECT pid, reached_at FROM ({reached_sql(fun)}) r WHERE step = {k - 1} "
            f"AND pid NOT IN (SELECT pid FROM ({reached_sql(fun)}) WHERE step = {k})), "
        )
        join = "LEFT JOIN drop d ON d.pid = e.profile_id AND d.reached_at = e.timestamp"
        anchor_cond = f"d.pid IS NOT NULL AND {fun.steps[k - 1].condition().sql('duckdb')}"
    excluded = " OR ".join(
        f"regexp_full_match(name, {literal(wildcard_regex(x)).sql('duckdb')})" for x in spec.exclude
    )
    keep = f"WHERE NOT ({excluded}) OR anchor" if excluded else ""
    collapse = (
        "QUALIFY anchor OR name IS DISTINCT FROM lag(name) OVER (PARTITION BY pid, sid ORDER BY ts, seq)"
        if spec.collapse_repeats
        else ""
    )
    gap = int(spec.session_gap)
    n = int(spec.steps)
    if spec.end is not None:
        pick = f"n.rn <= a.arn AND n.rn > a.arn - {n}", f"{n} - (a.arn - n.rn)"
    else:
        pick = f"n.rn >= a.arn AND n.rn < a.arn + {n}", "n.rn - a.arn + 1"
    has_anchor = spec.start is not None or spec.end is not None or spec.after_dropoff is not None
    anchor_sql = (
        "SELECT pid, sid, min(rn) AS arn FROM num WHERE anchor GROUP BY pid, sid"
        if has_anchor
        else "SELECT DISTINCT pid, sid, 1 AS arn FROM num"
    )
    return f"""
WITH {anchors}ev AS (
    SELECT e.profile_id AS pid, e.timestamp AS ts, e.seq, {_name_sql(spec)} AS name,
        coalesce({anchor_cond}, false) AS anchor
    FROM resolved_events e {join} WHERE {where}
), kept AS (SELECT * FROM ev {keep}),
lagged AS (SELECT *, lag(ts) OVER (PARTITION BY pid ORDER BY ts, seq) AS prev FROM kept),
sess AS (
    SELECT *, sum(CASE WHEN prev IS NULL OR ts > prev + to_seconds({gap}) THEN 1 ELSE 0 END)
        OVER (PARTITION BY pid ORDER BY ts, seq) AS sid
    FROM lagged
), sess2 AS (SELECT * FROM sess {collapse}),
num AS (SELECT *, row_number() OVER (PARTITION BY pid, sid ORDER BY ts, seq) AS rn FROM sess2),
anchor AS ({anchor_sql})
SELECT n.pid, n.sid, {pick[1]} AS step, n.name
FROM num n JOIN anchor a USING (pid, sid) WHERE {pick[0]}
"""


def paths(store: Store, spec: PathsSpec) -> PathsResult:
    """Run a paths analysis on the store."""
    with store.reading() as cur:
        cur.execute(f"CREATE TEMP TABLE path_steps AS {paths_sql(spec)}")
        try:
            (total,) = cur.execute(
                "SELECT count(*) FROM (SELECT DISTINCT pid, sid FROM path_steps)"
            ).fetchone() or (0,)
            edges = cur.execute(
                """
                SELECT step, name, target, count(*) AS weight FROM (
                    SELECT step, name, lead(name) OVER (PARTITION BY pid, sid ORDER BY step) AS target,
                        lead(step) OVER (PARTITION BY pid, sid ORDER BY step) AS next_step
                    FROM path_steps
                ) WHERE target IS NOT NULL AND next_step = step + 1
                GROUP BY ALL HAVING count(*) >= ? ORDER BY weight DESC, step, name, target LIMIT ?
                """,
                [spec.min_edge_weight, spec.top_edges],
            ).fetchall()
            counts = {
                (s, name): c
                for s, name, c in cur.execute(
                    "SELECT step, name, count(*) FROM path_steps GROUP BY ALL"
                ).fetchall()
            }
            top: list[tuple[list[str], int]] = []
            if spec.top_paths:
                top = cur.execute(
                    "SELECT path, count(*) AS n FROM (SELECT list(name ORDER BY step) AS path "
                    "FROM path_steps GROUP BY pid, sid) GROUP BY path ORDER BY n DESC, path LIMIT ?",
                    [spec.top_paths],
                ).fetchall()
        finally:
            cur.execute("DROP TABLE IF EXISTS path_steps")

    def node_id(step: int, name: str) -> str:
        return f"{step}:{name}"

    used = sorted({(s, a) for s, a, _, _ in edges} | {(s + 1, b) for s, _, b, _ in edges})
    return PathsResult(
        total=int(total),
        nodes=[
            PathNode(id=node_id(s, name), step=s, name=name, count=int(counts[(s, name)]))
            for s, name in used
        ],
        edges=[
            PathEdge(source=node_id(s, a), target=node_id(s + 1, b), step=s, weight=int(w))
            for s, a, b, w in edges
        ],
        top_paths=[TopPath(path=list(p), count=int(c)) for p, c in top],
    )
