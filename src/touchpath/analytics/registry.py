"""The analyses by `kind`: the Python API, the CLI, the REST API, the map binder and the web app
all run an analysis here, and only here.

An analysis is an `Analysis`: its frozen spec (a `touchpath.analytics.spec.Spec` whose `kind`
is a literal), its result (a `Result`, which carries `as_of` and `source`), its runner, and
what the planner needs to know (whether the sorted journey copy holds what a spec reads). The
runner gets a `Read`: the cursor, the plan (source and dialect) and the settings. It builds its
query as one SQLGlot tree and hands it to `read.rows`, which renders it once for the plan's
dialect; it never tests the copy's freshness itself. `run` plans, runs, and stamps the result's
`as_of` and `source` from the plan.

Adding an analysis is one module and one line here:

    # touchpath/analytics/cohorts.py
    class CohortsSpec(Spec):
        kind: Literal["cohorts"] = "cohorts"
        event: EventMatch

    class CohortsResult(Result):
        kind: Literal["cohorts"] = "cohorts"
        sizes: list[int]

    def _run(read: Read, spec: CohortsSpec) -> CohortsResult:
        return CohortsResult(sizes=[n for (n,) in read.rows(query_of(spec))])

    ANALYSIS = Analysis("cohorts", CohortsSpec, CohortsResult, _run, "Cohort sizes.")

    # KINDS below
    "cohorts": "touchpath.analytics.cohorts:ANALYSIS",

The REST route (`POST /api/analyses/cohorts`), the OpenAPI schemas of its spec and result,
and `touchpath.analytics.api.run` follow from the registration. Modules are imported when their
kind is first used, so a command that runs a funnel never imports attribution.

>>> kinds()[:3]
('funnel', 'paths', 'retention')
>>> parse({"kind": "dfg"}).kind
'dfg'
>>> parse({"kind": "funel"})
Traceback (most recent call last):
...
touchpath.errors.SpecError: kind: unknown analysis 'funel'; did you mean 'funnel'? (one of funnel, paths, retention, dfg, variants, conformance, attribution, feedback, experiment)
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import duckdb
from sqlglot import exp

from touchpath.analytics import planner
from touchpath.analytics.dialects import render
from touchpath.analytics.planner import CopyState, Plan
from touchpath.analytics.spec import Result, Spec
from touchpath.analytics.spec import parse as parse_model
from touchpath.catalogue import check_names
from touchpath.errors import Problem, SpecError

if TYPE_CHECKING:
    import pyarrow as pa

    from touchpath.analytics.engines import Engine
    from touchpath.settings import Settings
    from touchpath.store import Store
    from touchpath.store.memo import Memo

__all__ = ["KINDS", "Analysis", "Read", "get", "kinds", "parse", "results", "run", "specs"]

KINDS: dict[str, str] = {
    "funnel": "touchpath.analytics.funnels:ANALYSIS",
    "paths": "touchpath.analytics.paths:ANALYSIS",
    "retention": "touchpath.analytics.retention:ANALYSIS",
    "dfg": "touchpath.analytics.discovery:DFG",
    "variants": "touchpath.analytics.discovery:VARIANTS",
    "conformance": "touchpath.analytics.discovery:CONFORMANCE",
    "attribution": "touchpath.analytics.attribution:ANALYSIS",
    "feedback": "touchpath.analytics.feedback:ANALYSIS",
    "experiment": "touchpath.analytics.experiments:ANALYSIS",
}
"""Every analysis: its kind and where it is defined (`module:attribute`), one line each."""

S = TypeVar("S", bound=Spec)
R = TypeVar("R", bound=Result)


@dataclass(frozen=True)
class Read:
    """What a runner reads with: a cursor, the plan (source, as of, dialect), the settings, and
    the store's memo of rendered queries (none: every query is built and rendered)."""

    cur: duckdb.DuckDBPyConnection
    plan: Plan
    settings: Settings
    memo: Memo | None = None

    @property
    def sorted_copy(self) -> bool:
        """Whether the plan reads the sorted journey copy."""
        return self.plan.sorted_copy

    def render(self, query: exp.Expr | str) -> str:
        """The query as SQL text of the plan's dialect: a tree is rendered once, here."""
        if isinstance(query, str):
            return query
        return render(query, self.plan.dialect)

    def sql(self, key: Hashable, build: Callable[[], exp.Expr]) -> str:
        """The query `build` makes, rendered for the plan's dialect once per distinct `key` and
        plan in this store (`key` must name everything else the query depends on: the spec,
        the copy's layout)."""
        if self.memo is None:
            return render(build(), self.plan.dialect)
        return self.memo.get(("sql", key, self.plan), lambda: render(build(), self.plan.dialect))

    def rows(self, query: exp.Expr | str, params: list[Any] | None = None) -> list[Any]:
        """Every row of `query`."""
        return self.cur.execute(self.render(query), params or []).fetchall()

    def one(self, query: exp.Expr | str, params: list[Any] | None = None) -> Any:
        """The first row of `query` (None when it has none)."""
        return self.cur.execute(self.render(query), params or []).fetchone()

    @contextmanager
    def frame(self, name: str, rows: pa.Table) -> Iterator[str]:
        """Arrow `rows` readable as `name` in this read's queries (a kernel's output), without
        copying them."""
        self.cur.register(name, rows)
        try:
            yield name
        finally:
            self.cur.unregister(name)

    @contextmanager
    def table(self, name: str, query: exp.Expr | str) -> Iterator[str]:
        """`query`'s rows kept in a temporary table `name` of this read, dropped afterwards."""
        self.cur.execute(f"CREATE TEMPORARY TABLE {name} AS {self.render(query)}")
        try:
            yield name
        finally:
            self.cur.execute(f"DROP TABLE IF EXISTS {name}")


def _never(spec: Any) -> bool:
    return False


@dataclass(frozen=True)
class Analysis(Generic[S, R]):
    """One kind of analysis: spec, result, runner, and what the planner needs to know."""

    kind: str
    spec: type[S]
    result: type[R]
    run: Callable[[Read, S], R]
    summary: str
    copy: Callable[[S], bool] = _never
    """Whether the sorted journey copy holds everything `spec` reads (default: never)."""
    fits: Callable[[duckdb.DuckDBPyConnection, S, Memo | None], bool] | None = None
    """A check of the copy's data before reading it (a funnel's steps must not tie), with the
    store's memo to keep answers that only change with the copy's build."""
    check: Callable[[duckdb.DuckDBPyConnection, S], None] | None = None
    """Checks against the store before planning (e.g. a named audience exists: NotFound)."""
    kernel: Callable[[duckdb.DuckDBPyConnection, S, Memo | None], bool] | None = None
    """Whether a compiled pass over the copy computes `spec` exactly (`analytics.kernels`);
    the runner then runs it when the plan says `kernel`."""

    def fits_check(self, store: Store) -> Callable[[duckdb.DuckDBPyConnection, S], bool] | None:
        """The planner's check of the copy's data for this analysis in `store` (its memo)."""
        test = self.fits
        return None if test is None else lambda cur, spec: test(cur, spec, store.memo)

    def kernel_check(self, store: Store) -> Callable[[duckdb.DuckDBPyConnection, S], bool] | None:
        """The planner's kernel test for this analysis in `store` (None: no kernel now; the
        SQL over the copy runs while the kernels load in the background)."""
        test = self.kernel
        if test is None or not store.settings.analytics_kernels:
            return None
        from touchpath.analytics import kernels

        if not kernels.available():
            return None
        from touchpath.analytics.kernels.warm import WARMUP

        if not WARMUP.ready():  # SQL answers while the kernels load (kernels.warm)
            WARMUP.start()
            return None
        return lambda cur, spec: test(cur, spec, store.memo)


def kinds() -> tuple[str, ...]:
    """Every registered kind, in registration order."""
    return tuple(KINDS)


def get(kind: str) -> Analysis[Any, Any]:
    """The analysis of `kind` (its module is imported on first use)."""
    where = KINDS.get(kind)
    if where is None:
        raise _unknown(kind)
    module, _, attribute = where.partition(":")
    found: Analysis[Any, Any] = getattr(importlib.import_module(module), attribute)
    return found


def _unknown(kind: object) -> SpecError:
    near = difflib.get_close_matches(str(kind), KINDS, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    problem = f"unknown analysis {kind!r}; {hint}(one of {', '.join(KINDS)})"
    return SpecError(problems=[Problem("unknown_kind", "kind", problem)])


def parse(data: Spec | Mapping[str, Any], kind: str | None = None) -> Spec:
    """A spec from a mapping (JSON, YAML, CLI options): its `kind` (or the `kind` given) picks
    the model; every wrong field is one problem of the SpecError."""
    if isinstance(data, Spec):
        if kind is not None and data.kind != kind:
            raise SpecError(problems=[Problem("kind_mismatch", "kind", f"not {kind!r}")])
        return data
    if not isinstance(data, Mapping):
        raise SpecError(f"spec: expected a mapping, got {type(data).__name__}")
    name = kind if kind is not None else data.get("kind")
    if name is None:
        raise SpecError(problems=[Problem("missing", "kind", f"required: {', '.join(KINDS)}")])
    if kind is not None and data.get("kind", kind) != kind:
        problem = f"{data.get('kind')!r} in a spec of {kind!r}"
        raise SpecError(problems=[Problem("kind_mismatch", "kind", problem)])
    analysis = get(str(name))
    spec: Spec = parse_model(analysis.spec, {**data, "kind": analysis.kind})
    return spec


def run(
    store: Store,
    spec: Spec | Mapping[str, Any],
    *,
    kind: str | None = None,
    copy: CopyState | None = None,
    engine: Engine | None = None,
    names: bool = True,
) -> Result:
    """Run any analysis: validate the spec, check it against the store, plan its source (with
    the copy state `copy` when the caller planned a group of analyses at once; the external
    `engine` when one is given), run it, and stamp the result with the plan's `as_of` and
    `source`. `names`: check the events and properties it names against the event catalogue
    (a misspelt name is an error with the closest known ones; `allow_unknown` in the spec
    turns that off); the map binder, whose maps may name events still to come, passes False."""
    parsed = parse(spec, kind)
    analysis = get(parsed.kind)
    with store.reading() as cur:
        if names:
            check_names(cur, parsed)
        if analysis.check is not None:
            analysis.check(cur, parsed)
        if engine is not None:
            from touchpath.analytics.engines import EngineCursor

            plan = planner.plan(cur, parsed, CopyState(False), analysis.copy, None, engine.dialect)
            read = Read(EngineCursor(engine), plan, store.settings, store.memo)  # type: ignore[arg-type]
        else:
            # The copy's freshness is read only for a spec the copy can hold (it costs a few
            # queries; a spec that reads events the copy lacks never reads it).
            if copy is not None:
                state = copy
            elif analysis.copy(parsed):
                state = planner.copy_state(cur, store.settings.journey_max_lag_seconds)
            else:
                state = CopyState(False)
            kernel = analysis.kernel_check(store)
            fits = analysis.fits_check(store)
            plan = planner.plan(cur, parsed, state, analysis.copy, fits, kernel=kernel)
            read = Read(cur, plan, store.settings, store.memo)
        result: Result = analysis.run(read, parsed)
    return result.model_copy(update={"as_of": plan.as_of, "source": plan.source})


def specs() -> list[type[Spec]]:
    """The spec model of every kind (imports every analysis: for OpenAPI and docs)."""
    return [get(k).spec for k in KINDS]


def results() -> list[type[Result]]:
    """The result model of every kind."""
    return [get(k).result for k in KINDS]
