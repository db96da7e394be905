"""What each node kind does to the people at it, for all of them at once.

Every function here updates the rows of the work table `_jc` that `where` selects (one journey
version's node): `kind`, and where they go: `st` (`run` on to `nxt`, or `wait` / `listen` until
`wake`, or `done` with `reason`), the edge taken (`via2`), the `outcome` and `detail` recorded
with the step. The loop in `touchpath.orchestrate.engine` records the steps and moves people.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa
from sqlglot import exp

from touchpath.events.match import Condition as PropertyCondition
from touchpath.orchestrate import sends
from touchpath.orchestrate.engine import Tick
from touchpath.orchestrate.node_types import (
    AllOf,
    AnyOf,
    BranchNode,
    Condition,
    EntryProperty,
    ExitNode,
    InAudience,
    Not,
    SendNode,
    SplitNode,
    UpdateTraitNode,
    WaitForEventNode,
    WaitNode,
    WaitUntilNode,
    WebhookNode,
)
from touchpath.orchestrate.plan import Plan
from touchpath.orchestrate.sql import lit
from touchpath.orchestrate.timezones import candidates, valid_zone, weekday_numbers
from touchpath.profiles.specs import ComputedCondition, TraitCondition

__all__ = ["condition_sql", "run_group", "split_bucket", "split_bucket_sql"]

Handler = Callable[[duckdb.DuckDBPyConnection, Tick, Plan, str, Any, str], None]


def _set(con: duckdb.DuckDBPyConnection, where: str, **cols: str) -> None:
    """UPDATE _jc SET col = <SQL expression>, ... for the group's rows."""
    assignments = ", ".join(f"{k} = {v}" for k, v in cols.items())
    con.execute(f"UPDATE _jc SET {assignments} WHERE {where}")


def _go(target: str | None, via: str = "next") -> dict[str, str]:
    return {"st": "'run'", "nxt": lit(target), "via2": lit(via)}


def run_group(con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, where: str) -> None:
    """Run node `nid` of `plan` for the work rows `where` selects."""
    node = plan.doc.nodes[nid]
    _HANDLERS[node.kind](con, tick, plan, nid, node, where)


# ------------------------------------------------------------------------------ waits
def _wait(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, node: WaitNode, where: str
) -> None:
    _set(con, where, kind="'wait'", st="'wait'", wake=f"ts + to_seconds({node.duration})")


def _wait_until(
    con: duckdb.DuckDBPyConnection,
    tick: Tick,
    plan: Plan,
    nid: str,
    node: WaitUntilNode,
    where: str,
) -> None:
    """Each person's next allowed local time, from candidates computed per time zone."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _jz AS
        SELECT c.id, c.ts, t.value ->> '$' AS zone
        FROM (SELECT id, ts, profile_id FROM _jc WHERE {where}) c LEFT JOIN profile_traits t
            ON t.profile_id = c.profile_id AND t.name = {lit(node.timezone_trait)}
        """
    )
    zones = con.execute("SELECT DISTINCT zone, min(ts), max(ts) FROM _jz GROUP BY zone").fetchall()
    fallback = node.fallback_timezone
    days = weekday_numbers(node.weekdays)
    rows: dict[str, list[Any]] = {"zone": [], "at": [], "use": []}
    spans: dict[str, list[Any]] = {}
    for zone, lo, hi in zones:
        use = zone if zone is not None and valid_zone(str(zone)) else fallback
        rows["zone"].append(zone)
        rows["use"].append(use)
        span = spans.setdefault(use, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)
    cand: dict[str, list[Any]] = {"use": [], "ts": []}
    for use, (lo, hi) in spans.items():
        for ts in candidates(use, node.local_time(), days, lo, hi):
            cand["use"].append(use)
            cand["ts"].append(ts)
    con.register(
        "_jz_map",
        pa.table(
            {"zone": pa.array(rows["zone"], pa.string()), "use": pa.array(rows["use"], pa.string())}
        ),
    )
    con.register(
        "_jz_cand",
        pa.table(
            {
                "use": pa.array(cand["use"], pa.string()),
                "ts": pa.array(cand["ts"], pa.timestamp("us")),
            }
        ),
    )
    try:
        con.execute(
            """
            UPDATE _jc SET kind = 'wait_until', st = 'wait', wake = x.ts,
                detail = json_object('timezone', x.use)
            FROM (
                SELECT z.id, c.ts, c.use
                FROM (SELECT _jz.id, _jz.ts, m.use FROM _jz
                      JOIN _jz_map m ON m.zone IS NOT DISTINCT FROM _jz.zone) z
                ASOF JOIN _jz_cand c ON c.use = z.use AND c.ts >= z.ts
            ) x
            WHERE _jc.id = x.id
            """
        )
    finally:
        con.unregister("_jz_map")
        con.unregister("_jz_cand")
        con.execute("DROP TABLE _jz")


def _wait_for_event(
    con: duckdb.DuckDBPyConnection,
    tick: Tick,
    plan: Plan,
    nid: str,
    node: WaitForEventNode,
    where: str,
) -> None:
    _set(
        con,
        where,
        kind="'wait_for_event'",
        st="'listen'",
        wake=f"ts + to_seconds({node.timeout})",
        listen_from=f"coalesce(listen_from, {tick.seq})",
    )


# ------------------------------------------------------------------------------ decisions
def _prop_leaf(column: str, prop: str, op: str, value: Any) -> exp.Expr:
    """`op value` on the JSON object in `column` at path `prop`, with the event matching's
    semantics (numbers compare as numbers, in / contains / regex / is_set)."""
    if isinstance(value, bool):
        value = "true" if value else "false"
    cond = PropertyCondition(property="properties." + prop, op=op, value=value).sql()
    return cond.transform(
        lambda n: exp.column(column) if isinstance(n, exp.Column) and n.name == "properties" else n
    )


def condition_sql(cond: Condition, needs: set[str]) -> exp.Expr:
    """The SQL of a branch condition over columns `ep` (entry properties), `tr` (traits) and
    `ct` (computed traits) and `profile_id`; `needs` collects `tr:<name>` / `ct:<name>`."""
    if isinstance(cond, AllOf):
        return exp.and_(*[exp.Paren(this=condition_sql(c, needs)) for c in cond.all])
    if isinstance(cond, AnyOf):
        return exp.or_(*[exp.Paren(this=condition_sql(c, needs)) for c in cond.any])
    if isinstance(cond, Not):
        inner = exp.func("coalesce", condition_sql(cond.cond, needs), exp.false())
        return exp.Not(this=exp.Paren(this=inner))
    if isinstance(cond, InAudience):
        members = (
            exp.select("profile_id")
            .from_("audience_members")
            .where(
                exp.EQ(this=exp.column("audience"), expression=exp.Literal.string(cond.audience))
            )
        )
        test: exp.Expr = exp.column("profile_id").isin(query=members)
        return test if cond.member else exp.Not(this=test)
    if isinstance(cond, EntryProperty):
        return _prop_leaf("ep", cond.property, cond.op, cond.value)
    if isinstance(cond, TraitCondition):
        needs.add("tr:" + cond.trait.split(".")[0])
        return _prop_leaf("tr", cond.trait, cond.op, cond.value)
    assert isinstance(cond, ComputedCondition)
    needs.add("ct:" + cond.trait.split(".")[0])
    return _prop_leaf("ct", cond.trait, cond.op, cond.value)


def _objects(needs: set[str], where: str) -> str:
    """LEFT JOINs giving each person's needed traits (`tr`) and computed traits (`ct`) as one
    JSON object each, read only for the people of the group."""
    out = ""
    for col, table in (("tr", "profile_traits"), ("ct", "computed_trait_values")):
        names = sorted(n[3:] for n in needs if n.startswith(col + ":"))
        if not names:
            continue
        out += (
            f" LEFT JOIN (SELECT profile_id, json_group_object(name, value) AS {col} "
            f"FROM {table} WHERE name IN ({', '.join(lit(n) for n in names)}) "
            f"AND profile_id IN (SELECT profile_id FROM _jc WHERE {where}) GROUP BY profile_id) "
            f"{col}_ USING (profile_id)"
        )
    return out


def _choose(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    label_sql: str,
    targets: dict[str, str | None],
    source: str,
) -> None:
    """Send each row to the target of the label `label_sql` gives it."""
    whens = " ".join(f"WHEN label = {lit(label)} THEN {lit(t)}" for label, t in targets.items())
    con.execute(
        f"""
        UPDATE _jc SET kind = {lit(kind)}, st = 'run', outcome = x.label, via2 = x.label,
            nxt = x.target, reason = CASE WHEN x.target IS NULL THEN x.label END
        FROM (SELECT id, label, CASE {whens} END AS target
              FROM (SELECT id, {label_sql} AS label FROM {source})) x
        WHERE _jc.id = x.id
        """
    )


def _branch(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, node: BranchNode, where: str
) -> None:
    needs: set[str] = set()
    ifs = [
        exp.If(
            this=exp.func("coalesce", condition_sql(b.when, needs), exp.false()),
            true=exp.Literal.string(b.name),
        )
        for b in node.branches
    ]
    label = exp.Case(ifs=ifs, default=exp.Literal.string("otherwise")).sql("duckdb")
    tr = "tr" if any(n.startswith("tr:") for n in needs) else "NULL::JSON AS tr"
    ct = "ct" if any(n.startswith("ct:") for n in needs) else "NULL::JSON AS ct"
    source = (
        f"(SELECT id, profile_id, entry_props AS ep, {tr}, {ct} FROM _jc "
        f"{_objects(needs, where)} WHERE {where})"
    )
    _choose(con, "branch", label, node.targets(), source)


def split_bucket_sql(journey: str, nid: str) -> str:
    """A number in [0, 1) from the journey, the node and the person: the same every time."""
    salt = lit(f"{journey}:{nid}:")
    return f"(('0x' || left(md5({salt} || profile_id), 8))::UBIGINT / 4294967296.0)"


def split_bucket(journey: str, nid: str, profile_id: str) -> float:
    """`split_bucket_sql` for one person, in Python (the demo's history assigns as the engine
    does). A split sends the person to the first arm whose running share exceeds it.

    >>> import duckdb
    >>> sql = split_bucket_sql("abandoned-cart", "holdout").replace("profile_id", "'p_1'")
    >>> duckdb.sql(f"SELECT {sql}").fetchall()[0][0] == split_bucket("abandoned-cart", "holdout", "p_1")
    True
    """
    digest = hashlib.md5(f"{journey}:{nid}:{profile_id}".encode()).hexdigest()
    return int(digest[:8], 16) / 4294967296.0


def _split(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, node: SplitNode, where: str
) -> None:
    u = split_bucket_sql(plan.journey, nid)
    arms = node.arms()
    edge, ifs = 0.0, []
    for name, share, _next in arms[:-1]:
        edge += share
        ifs.append(exp.If(this=exp.condition(f"u < {edge!r}"), true=exp.Literal.string(name)))
    last = exp.Literal.string(arms[-1][0])
    label = (exp.Case(ifs=ifs, default=last) if ifs else last).sql("duckdb")
    source = f"(SELECT id, {u} AS u FROM _jc WHERE {where})"
    _choose(con, "split", label, {n: t for n, _s, t in arms}, source)


# ------------------------------------------------------------------------------ actions
def _send(
    con: duckdb.DuckDBPyConnection,
    tick: Tick,
    plan: Plan,
    nid: str,
    node: SendNode | WebhookNode,
    where: str,
) -> None:
    tick.sends += sends.enqueue_group(con, tick, plan, nid, node, where)
    _set(
        con,
        where,
        kind=lit(node.kind),
        outcome="'queued'",
        detail=sends.detail_sql(plan, nid),
        **_go(node.next),
    )


def _update_trait(
    con: duckdb.DuckDBPyConnection,
    tick: Tick,
    plan: Plan,
    nid: str,
    node: UpdateTraitNode,
    where: str,
) -> None:
    """Set the trait now (the next node sees it) and record it, so it is also written to the log
    as an identify (and survives a rebuild of the profiles)."""
    if node.from_property is not None:
        path = "$." + ".".join('"' + k + '"' for k in node.from_property.split("."))
        value = f"json_extract(entry_props, {lit(path)})"
    else:
        value = f"CAST({lit(_json(node.value))} AS JSON)"
    _set(
        con,
        where,
        kind="'update_trait'",
        outcome="'set'",
        detail=f"json_object('trait', {lit(node.trait)}, 'value', {value})",
        **_go(node.next),
    )
    con.execute(
        f"""
        INSERT INTO profile_traits
        SELECT profile_id, {lit(node.trait)}, arg_max(detail -> '$.value', ts), max(ts),
            {tick.seq}
        FROM _jc WHERE {where} GROUP BY profile_id
        ON CONFLICT (profile_id, name) DO UPDATE SET value = excluded.value,
            updated_at = excluded.updated_at, seq = excluded.seq
        WHERE excluded.updated_at >= profile_traits.updated_at
        """
    )


def _json(value: Any) -> str:
    return json.dumps(value)


def _exit(
    con: duckdb.DuckDBPyConnection, tick: Tick, plan: Plan, nid: str, node: ExitNode, where: str
) -> None:
    _set(con, where, kind="'exit'", st="'done'", reason=lit(node.reason), outcome=lit(node.reason))


_HANDLERS: dict[str, Handler] = {
    "wait": _wait,
    "wait_until": _wait_until,
    "wait_for_event": _wait_for_event,
    "branch": _branch,
    "split": _split,
    "send": _send,
    "webhook": _send,
    "update_trait": _update_trait,
    "exit": _exit,
}
