"""Many funnels at once over the sorted journey copy: what the map binder asks (one funnel per
touchpoint, stage and time to the next stage, about 40 on the demo map).

One by one, each funnel plans, checks the copy's ties, builds and renders its SQL, and passes
over the copy (as SQL when a step tests `channel`, which the compiled pass cannot look up by
activity code). Here, for the funnels the compiled pass computes exactly over the copy (ordered,
no exclusions, trend or drop-offs, steps on `event`, `type` and `channel`, no breakdown or one
by a single audience):

- the copy is read once: one statement gives each row's bit mask of every distinct step
  condition of all the funnels (`condition_bits`), and the distinct masks become the activity
  codes of that read, so each funnel's steps are a lookup by code (`kernels.funnel.made`, the
  pass the planner runs for a single funnel);
- funnels that differ only in their steps' names run once;
- the ties check of `funnels._fits_copy` is done on the same arrays, per funnel;
- one aggregate (`query.steps`, grouped by funnel too) gives every funnel's counts, medians and
  histograms, the same SQL the single funnel's rows go through, so every number is the same.

Any other funnel, and every funnel when the copy cannot be read or the kernels are not loaded
(`Analysis.kernel_check`), runs one by one through `registry.run`, as before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from sqlglot import exp

from touchpath.analytics import registry
from touchpath.analytics.breakdown import NONE_VALUE
from touchpath.analytics.dialects import render
from touchpath.analytics.discovery.journeys import looked_up
from touchpath.analytics.funnels import _groups, query
from touchpath.analytics.funnels.spec import FunnelResult, FunnelSpec, can_use_sorted
from touchpath.analytics.planner import CopyState
from touchpath.analytics.sql import table
from touchpath.store import Store
from touchpath.store.memo import Memo

__all__ = [
    "BITS",
    "LogCondition",
    "batchable",
    "codes",
    "condition_bits",
    "copy_condition",
    "first_claim",
    "row_condition",
    "run_many",
]

BITS = 62
"""Distinct step conditions per read of the copy (one int64 mask a row)."""

_ROWS = "(SELECT pno, ts AS timestamp, seq, type, event, channel, code FROM journey_events)"
_COPY_COLUMNS = frozenset({"event", "type", "channel", "timestamp"})


@dataclasses.dataclass(frozen=True)
class LogCondition:
    """A step condition on more than the copy holds (a property, say): met by the copy's rows
    of the events `names` whose columns `columns`, taken from the event log by `seq` (as
    `journeys.looked_up` gives them to the DFG), meet `sql`. The condition names its event,
    so no other row can meet it."""

    sql: str
    columns: tuple[str, ...]
    names: tuple[str, ...]


def row_condition(match: exp.Expr, event: str | None) -> str | LogCondition | None:
    """A step's or a stage's condition over the copy's rows (`condition_bits`): DuckDB SQL
    when it tests only the copy's columns, a `LogCondition` when it tests more of one named
    `event`, None when the copy cannot answer it (no event named, or the resolved profile)."""
    extra = {c.name for c in match.find_all(exp.Column)} - _COPY_COLUMNS
    if not extra:
        return copy_condition(match)
    if event is None or "profile_id" in extra:
        return None
    return LogCondition(copy_condition(match), tuple(sorted(extra)), (event,))


def batchable(spec: FunnelSpec) -> bool:
    """Whether `spec` is one the batched pass computes exactly (see the module's doc)."""
    bd = spec.breakdown
    rest = spec.model_copy(update={"steps": ()})  # the steps may look properties up
    return (
        spec.order == "ordered"
        and not spec.exclusions
        and spec.trend is None
        and spec.dropped_at is None
        and can_use_sorted(rest)
        and all(row_condition(s.condition(), s.event) is not None for s in spec.steps)
        and (bd is None or (bd.by == "audience" and len(bd.audiences) == 1 and bd.top >= 2))
    )


def condition_bits(
    cur: duckdb.DuckDBPyConnection, conditions: Sequence[str | LogCondition]
) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the copy in stored order, the bit mask of `conditions` (DuckDB SQL over the
    copy's columns `timestamp`, `type`, `event`, `channel`, or a `LogCondition`) it meets
    (bit i: condition i), and the row's profile number: (pno, mask).

    A `LogCondition` is met by the rows whose `seq` one more statement finds (the copy's rows
    of its events joined to the log by `seq`): a join in the main read would give the rows
    out of stored order."""
    assert len(conditions) <= BITS
    terms = " | ".join(f"(CASE WHEN {c} THEN {1 << i} ELSE 0 END)::BIGINT"
                       for i, c in enumerate(conditions) if isinstance(c, str))  # fmt: skip
    logged = {i: c for i, c in enumerate(conditions) if isinstance(c, LogCondition)}
    seq = ", seq" if logged else ""
    rows = cur.execute(f"SELECT pno{seq}, {terms or '0::BIGINT'} AS m FROM {_ROWS}").fetchnumpy()
    mask = np.asarray(rows["m"], dtype=np.int64)
    for i, c in logged.items():
        src = looked_up(_ROWS, list(c.columns), list(c.names))
        found = cur.execute(f"SELECT seq FROM {src} AS r WHERE {c.sql}").fetchnumpy()["seq"]
        met = np.isin(np.asarray(rows["seq"]), np.asarray(found))
        mask |= met.astype(np.int64) << np.int64(i)
    return np.asarray(rows["pno"], dtype=np.int32), mask


def _codes(
    cur: duckdb.DuckDBPyConnection, cols: Any, conditions: Sequence[str | LogCondition]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct masks of `condition_bits` and each row's index into them (its code in this
    read), or None when the rows did not come in the order of the copy's columns `cols`."""
    pno, bits = condition_bits(cur, conditions)
    if not np.array_equal(pno, cols.pno):
        return None
    masks, codes = np.unique(bits, return_inverse=True)
    return masks, codes.astype(np.int32)


def first_claim(masks: np.ndarray, bits: list[int], dtype: Any) -> np.ndarray:
    """Per condition code, the number (1-based) of the first of `bits` whose conditions its
    mask meets; 0 when none does (a map's touchpoints and a DFG's stages: the first wins)."""
    out = np.zeros(len(masks), dtype)
    for k in range(len(bits) - 1, -1, -1):
        out[(masks & bits[k]) != 0] = k + 1
    return out


def codes(
    cur: duckdb.DuckDBPyConnection,
    memo: Memo | None,
    cols: Any,
    conditions: Sequence[str | LogCondition],
) -> tuple[np.ndarray, np.ndarray] | None:
    """`_codes` of the copy's columns `cols`, kept in the store's memo for the copy's build:
    the funnels of a map, its DFG and its tagged pass share one read of the copy."""
    chunk = tuple(conditions)
    if memo is None:
        return _codes(cur, cols, chunk)
    return memo.get(
        ("funnel condition codes", cols.built_at, chunk), lambda: _codes(cur, cols, chunk)
    )


def _no_join(node: exp.Expr) -> exp.Expr:
    """`x IN (a, b, ...)` as `x = a OR x = b ...`, which is what it means: DuckDB plans a long
    IN list as a join, which gives the rows out of the copy's stored order."""
    if isinstance(node, exp.In) and node.expressions and not node.args.get("query"):
        equal = [exp.EQ(this=node.this.copy(), expression=e.copy()) for e in node.expressions]
        return exp.Paren(this=exp.or_(*equal, copy=False))
    return node


def copy_condition(step: exp.Expr) -> str:
    """A step's condition as DuckDB SQL for `condition_bits` (the rows in stored order)."""
    return render(step.transform(_no_join))


@dataclasses.dataclass
class _Job:
    """One distinct funnel of the batch: its spec (the first one asked) and its conditions."""

    spec: FunnelSpec
    conds: tuple[int, ...]
    rows: pa.Table | None = None


def _key(spec: FunnelSpec, conds: tuple[int, ...]) -> str:
    """What makes two batched funnels the same: all but their steps' names."""
    rest = spec.model_dump_json(include={"window", "max_step_gap", "time_range", "breakdown"})
    return f"{conds}|{rest}"


def _tie_groups(pno: np.ndarray, us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of the copy that share their profile and time with a neighbour, and the number
    of the run of such rows each belongs to (the rows of a run are next to each other)."""
    same = (pno[1:] == pno[:-1]) & (us[1:] == us[:-1])
    before = np.concatenate(([False], same))
    rows = np.flatnonzero(before | np.concatenate((same, [False])))
    return rows, np.cumsum(~before[rows])


def _tied(
    ties: tuple[np.ndarray, np.ndarray], us: np.ndarray, m: np.ndarray, lo: int, hi: int
) -> bool:
    """Whether two step rows of one profile share a time with different step masks (the
    streaming pass cannot chain them exactly: `funnels.copy.ties`); `m` is the step mask of
    each row of `ties`."""
    rows, run = ties
    t = us[rows]
    keep = (m != 0) & (t >= lo) & (t < hi)
    g, k = run[keep], m[keep]
    return bool(np.any((g[1:] == g[:-1]) & (k[1:] != k[:-1])))


def _member(cur: duckdb.DuckDBPyConnection, profiles: int, audience: str) -> np.ndarray:
    """Per profile number, whether the profile is a member of `audience` now."""
    found = cur.execute(
        "SELECT p.pno FROM journey_profiles AS p JOIN audience_members AS a "
        "ON a.profile_id = p.profile_id WHERE a.audience = ?",
        [audience],
    ).fetchnumpy()["pno"]
    member = np.zeros(profiles + 1, dtype=np.int8)
    member[np.asarray(found, dtype=np.int64)] = 1
    return member


def _with_group(rows: pa.Table, fid: int, member: np.ndarray | None, audience: str) -> pa.Table:
    """The kernel's rows with the funnel's number and each profile's breakdown group."""
    rows = rows.append_column("fid", pa.array(np.full(rows.num_rows, fid, np.int32)))
    if member is None:
        return rows
    pid = rows.column("pid").to_numpy()
    groups = pa.DictionaryArray.from_arrays(
        pa.array(member[pid]), pa.array([NONE_VALUE, audience])
    ).cast(pa.string())
    return rows.set_column(rows.schema.get_field_index("grp"), "grp", groups)


def _pass(
    cur: duckdb.DuckDBPyConnection,
    store: Store,
    jobs: list[_Job],
    conds: list[str | LogCondition],
) -> None:
    """Each job's rows from the compiled pass over one read of the copy (None for a job whose
    steps tie in the copy: it runs one by one)."""
    from touchpath.analytics.kernels import columns
    from touchpath.analytics.kernels import funnel as kernel

    cols = columns.load(cur, store.memo)
    ((tied,),) = cur.execute("SELECT coalesce(max(ties), 0) > 0 FROM journey_build").fetchall()
    ties = None
    if tied:
        ties = store.memo.get(("copy tie groups", cols.built_at),
                              lambda: _tie_groups(cols.pno, cols.us))  # fmt: skip
    for start in range(0, len(conds), BITS):
        found = codes(cur, store.memo, cols, conds[start : start + BITS])
        if found is None:
            return
        masks, row_codes = found
        read = dataclasses.replace(cols, code=row_codes, names=len(masks) - 1)
        for job in jobs:
            if not job.conds or min(job.conds) < start or max(job.conds) >= start + BITS:
                continue
            lut = np.zeros(len(masks), dtype=np.int32)
            for k, c in enumerate(job.conds):
                lut |= (((masks >> (c - start)) & 1) << k).astype(np.int32)
            lo, hi = columns.bounds(job.spec.time_range.start, job.spec.time_range.end)
            if ties is not None and _tied(ties, cols.us, lut[row_codes[ties[0]]], lo, hi):
                continue
            with _one_thread():  # one parallel region per funnel costs more than it gains
                job.rows = kernel.made(read, job.spec, lut)


@contextmanager
def _one_thread() -> Iterator[None]:
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _aggregate(
    cur: duckdb.DuckDBPyConnection, store: Store, jobs: list[_Job]
) -> dict[int, list[Any]]:
    """Per job (by index), the rows of `query.steps` over its kernel rows: one aggregate for
    the jobs of each breakdown."""
    out: dict[int, list[Any]] = {}
    by_breakdown: dict[str | None, list[int]] = {}
    for i, job in enumerate(jobs):
        if job.rows is not None:
            bd = job.spec.breakdown
            by_breakdown.setdefault(None if bd is None else bd.audiences[0], []).append(i)
    for audience, ids in by_breakdown.items():
        member = None
        if audience is not None:
            ((profiles,),) = cur.execute("SELECT count(*) FROM journey_profiles").fetchall()
            member = _member(cur, int(profiles), audience)
        parts = [_with_group(jobs[i].rows, i, member, audience or "") for i in ids]
        grouped = audience is not None
        cur.register(_MADE, pa.concat_tables(parts))
        try:
            sql = store.memo.get(
                ("batched funnel steps sql", grouped),
                lambda g=grouped: render(query.steps(table(_MADE), g, keys=("fid",))),  # type: ignore[misc]
            )
            for row in cur.execute(sql).fetchall():
                out.setdefault(int(row[0]), []).append(row[1:])
        finally:
            cur.unregister(_MADE)
    return out


_MADE = "tp_funnels_made"
"""The name the batched funnels' rows are read by in the aggregate."""


def _step_conditions(spec: FunnelSpec) -> tuple[str | LogCondition, ...] | None:
    """The steps' conditions over the copy's rows (`row_condition`), None when the batched
    pass cannot compute `spec`."""
    if not batchable(spec):
        return None
    found = tuple(row_condition(s.condition(), s.event) for s in spec.steps)
    return tuple(c for c in found if c is not None) if None not in found else None


def _kernels_ready(store: Store) -> bool:
    return registry.get("funnel").kernel_check(store) is not None


def run_many(
    store: Store,
    specs: Sequence[FunnelSpec],
    state: CopyState,
    pool: Executor | None = None,
) -> list[FunnelResult]:
    """Each funnel's result, equal to `registry.run(store, spec, copy=state, names=False)`'s
    (the names the steps test are not checked against the catalogue, as the map binder asks).
    The funnels the batched pass cannot compute run one by one, on `pool` when given."""
    results: list[FunnelResult | None] = [None] * len(specs)
    todo = list(range(len(specs)))
    if state.usable and _kernels_ready(store):
        todo = _batched(store, specs, state, results)

    def one(spec: FunnelSpec) -> FunnelResult:
        got: FunnelResult = registry.run(store, spec, copy=state, names=False)  # type: ignore[assignment]
        return got

    submit: Callable[[FunnelSpec], Future[FunnelResult]] | None = (
        (lambda s: pool.submit(one, s)) if pool is not None else None
    )
    if submit is not None:
        futures = {i: submit(specs[i]) for i in todo}
        for i, f in futures.items():
            results[i] = f.result()
    else:
        for i in todo:
            results[i] = one(specs[i])
    return [r for r in results if r is not None]


def _batched(
    store: Store, specs: Sequence[FunnelSpec], state: CopyState, results: list[FunnelResult | None]
) -> list[int]:
    """Fill `results` for the funnels the batched pass computes; the indices left to run one
    by one."""
    conds: dict[str | LogCondition, int] = {}
    jobs: dict[str, _Job] = {}
    job_of: dict[int, str] = {}
    for i, spec in enumerate(specs):
        steps = store.memo.get(("batched funnel steps", spec.model_dump_json()),
                               lambda s=spec: _step_conditions(s))  # type: ignore[misc]  # fmt: skip
        if steps is None:
            continue
        ids = tuple(conds.setdefault(c, len(conds)) for c in steps)
        key = _key(spec, ids)
        jobs.setdefault(key, _Job(spec, ids))
        job_of[i] = key
    if not jobs:
        return list(range(len(specs)))
    listed = list(jobs.values())
    with store.reading() as cur:
        for job in listed:
            if job.spec.breakdown is not None:
                job.spec.breakdown.check(cur)
        _pass(cur, store, listed, list(conds))
        rows = _aggregate(cur, store, listed)
    index = {key: n for n, key in enumerate(jobs)}
    left = []
    for i, spec in enumerate(specs):
        mine = job_of.get(i)
        if mine is None or jobs[mine].rows is None:
            left.append(i)
            continue
        names = [s.title() for s in spec.steps]
        found = FunnelResult(steps=names, groups=_groups(spec, rows.get(index[mine], [])))
        results[i] = found.model_copy(update={"as_of": state.as_of, "source": "copy"})
    return left
