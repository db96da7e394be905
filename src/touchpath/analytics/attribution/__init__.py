"""Attribution: which channels and touchpoints get the credit for conversions and their revenue.

For every conversion (an event matching `conversion`), its *path* is the profile's touches in
the lookback window before it and after the profile's previous conversion. A touch is, by
default, the first event of each session (a visit, keyed by its channel, as web analytics
counts them) or, with `touch="event"`, every matching event. The rule-based models split one
conversion over its path:

- `first_touch`, `last_touch`: all credit to the first or last touch;
- `linear`: equal credit to every touch;
- `time_decay`: credit halving every `half_life` before the conversion;
- `position_based`: 40 % first, 40 % last, 20 % shared by the middle (one touch: 100 %,
  two: 50/50);
- `markov`: the data-driven removal effect of a first-order Markov chain over all paths,
  converting and not (a profile's touches after its last conversion form a path to "null"):
  the transition counts come from SQL, the small chain (one state per channel) is solved in
  numpy, and each channel gets conversions in proportion to how much the conversion
  probability falls when it is removed.

Conversions with no touch in the window are reported as unattributed, never spread.

The spec and result are in `attribution.spec`, the queries (on the log in any dialect, or on
the sorted journey copy) in `attribution.query`, the Markov chain in `attribution.markov`. On
the copy the planner may run the compiled pass instead (`attribution.compiled`), which gives
the same rows and transitions as the SQL.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlglot import exp

from touchpath.analytics.attribution import compiled, query
from touchpath.analytics.attribution.markov import markov_removal_effects
from touchpath.analytics.attribution.spec import (
    MODELS,
    RULE_MODELS,
    AttributionResult,
    AttributionRow,
    AttributionSpec,
    Credit,
    can_use_sorted,
    decay_weight,
)
from touchpath.analytics.dialects import render
from touchpath.analytics.registry import Analysis, Read
from touchpath.analytics.sql import q, table, with_

__all__ = [
    "ANALYSIS",
    "MODELS",
    "AttributionResult",
    "AttributionRow",
    "AttributionSpec",
    "Credit",
    "attribution_sql",
    "can_use_sorted",
    "decay_weight",
    "markov_removal_effects",
    "transitions_sql",
]


def attribution_sql(spec: AttributionSpec, sorted_copy: bool = False) -> str:
    """The rule-based credit per key (`query.credit`) as DuckDB SQL text."""
    return render(query.credit(spec, query.base(spec, sorted_copy)))


def transitions_sql(spec: AttributionSpec, sorted_copy: bool = False) -> str:
    """The Markov chain's transition counts (`query.transitions`) as DuckDB SQL text."""
    return render(query.transitions(spec, query.base(spec, sorted_copy), sorted_copy))


_TAG = "__tp_tag__"
"""Stands for a call's own tag in the memoised statements' temporary table names."""


@contextmanager
def _shared(read: Read, spec: AttributionSpec) -> Iterator[tuple[str, str]]:
    """`conv`, `touch` and `path` computed once into temporary tables of the read, and the
    rule-based and Markov statements over them (SQL text): they then share one scan and
    session pass. On the sorted copy `touch` stays a CTE (only the Markov chain's open paths
    read it again): its session pass streams, and keeping its rows (a third of the events) cost
    more CPU than the second pass (0.44 vs 0.48 CPU-s on the 1M demo); on the log the pass
    sorts every profile, so it is kept (0.9 vs 1.35 CPU-s).

    Every statement is built and rendered once per spec and plan in the store's memo (as
    funnels and the DFG are: about 25 CPU-ms a call on the 1M demo, the statements' own CPU
    being 0.3 s), with `_TAG` for the call's tag in the temporary tables' names."""
    tag = secrets.token_hex(4)
    key = ("attribution", spec.model_dump_json())
    names = {n: f"attribution_{n}_{_TAG}" for n in ("touch", "conv", "path")}

    def sql(part: str, build: Callable[[], exp.Expr]) -> str:
        return read.sql((*key, part), build).replace(_TAG, tag)

    def kept(upto: tuple[str, ...]) -> query.Ctes:
        """The base CTEs with those in `upto` read from their tables."""
        ctes = query.base(spec, read.sorted_copy)
        out = [(name, cte) for name, cte in ctes if name in ("e", "touch")]
        if not read.sorted_copy:
            out = [("touch", q("SELECT * FROM :t AS t", t=table(names["touch"])))]
        return out + [(n, q("SELECT * FROM :t AS t", t=table(names[n]))) for n in upto]

    def first(name: str) -> exp.Expr:
        return with_(query.base(spec, read.sorted_copy), q(f"SELECT * FROM {name}"))

    with ExitStack() as stack:
        if not read.sorted_copy:
            stack.enter_context(
                read.table(names["touch"].replace(_TAG, tag), sql("touch", lambda: first("touch")))
            )
        stack.enter_context(
            read.table(names["conv"].replace(_TAG, tag), sql("conv", lambda: first("conv")))
        )
        paths = sql(
            "path",
            lambda: with_(
                [*kept(("conv",)), ("path", query.path(spec, read.sorted_copy))],
                q("SELECT * FROM path"),
            ),
        )
        with read.table(names["path"].replace(_TAG, tag), paths):
            yield (
                sql("credit", lambda: query.credit(spec, kept(("conv", "path")))),
                sql(
                    "transitions",
                    lambda: query.transitions(spec, kept(("conv", "path")), read.sorted_copy),
                ),
            )


def _queried(
    read: Read, spec: AttributionSpec
) -> tuple[list[tuple[Any, ...]], list[tuple[str, str, int]]]:
    """The rule-based credit's rows (`query.credit`) and the Markov chain's transitions (when
    the spec has the model) from their SQL, on the log or the copy."""
    transitions: list[tuple[str, str, int]] = []
    if "markov" in spec.models:
        with _shared(read, spec) as (credit_sql, transitions_sql):
            rows = read.rows(credit_sql)
            transitions = [(str(a), str(b), int(n)) for a, b, n in read.rows(transitions_sql)]
    else:
        alone = ("attribution", spec.model_dump_json(), "credit alone")
        rows = read.rows(
            read.sql(alone, lambda: query.credit(spec, query.base(spec, read.sorted_copy)))
        )
    return rows, transitions


def _run(read: Read, spec: AttributionSpec) -> AttributionResult:
    """Credit for the conversions by channel or touchpoint under each model: from the compiled
    pass when the plan says so (`compiled`), else from the SQL."""
    got = compiled.credit(read, spec) if read.plan.kernel else None
    rows, transitions = got if got is not None else _queried(read, spec)
    rule = [m for m in spec.models if m in RULE_MODELS]
    n_rule = len(RULE_MODELS)
    conversions, revenue, attributed, attributed_revenue = rows[0][1 + 2 * n_rule :]
    attributed = int(attributed)
    credit: dict[str, dict[str, Credit]] = {}
    for row in rows:
        if row[0] is None:
            continue
        credit[row[0]] = {}
        for i, m in enumerate(RULE_MODELS):
            if m in rule:
                conv_credit = float(row[1 + 2 * i] or 0.0)
                credit[row[0]][m] = Credit(
                    conversions=round(conv_credit, 6),
                    revenue=round(float(row[2 + 2 * i] or 0.0), 2),
                    share=round(conv_credit / attributed, 6) if attributed else 0.0,
                )
    effects: dict[str, float] = {}
    if "markov" in spec.models and transitions:
        effects = markov_removal_effects(transitions)
        total_effect = sum(effects.values())
        for key, effect in effects.items():
            share = effect / total_effect if total_effect else 0.0
            credit.setdefault(key, {})["markov"] = Credit(
                conversions=round(share * attributed, 6),
                revenue=round(share * float(attributed_revenue), 2),
                share=round(share, 6),
            )
    return AttributionResult(
        by=spec.by,
        models=list(spec.models),
        conversions=int(conversions),
        revenue=round(float(revenue), 2),
        attributed_conversions=attributed,
        attributed_revenue=round(float(attributed_revenue), 2),
        rows=[AttributionRow(key=k, credit=v) for k, v in credit.items()],
        removal_effects={k: round(v, 6) for k, v in effects.items()},
    )


ANALYSIS = Analysis(
    "attribution",
    AttributionSpec,
    AttributionResult,
    _run,
    "Conversion credit per channel or touchpoint under each attribution model.",
    copy=can_use_sorted,
    kernel=compiled.usable,
)
