"""The SQL dialects analyses are rendered to: DuckDB (the store) and ClickHouse (an external
analytic engine; chdb runs it in-process in the tests).

Runners build their queries as SQLGlot trees (`touchpath.analytics.sql`) from templates written
in DuckDB's syntax plus a few Touchpath functions for what the engines spell differently. The
dialect is a parameter of rendering only: `render(tree, "clickhouse")`.

| function | DuckDB | ClickHouse |
|---|---|---|
| `TP_SECONDS(ts)` | `epoch(ts)` | `toUnixTimestamp64Micro(ts) / 1e6` |
| `TP_MICROS(ts)` | `epoch_us(ts)` | `toUnixTimestamp64Micro(ts)` |
| `TP_PROFILE_KEY(id)` | `hash(id)` | `cityHash64(id)` |
| `TP_QUANTILE(x, q)` | `quantile_cont(x, q)` | `quantileExactInclusive(q)(x)` |
| `TP_ORDERED_LIST(x, key)` | `list(x ORDER BY key)` | `groupArray` of `(key, x)` sorted |
| `TP_NUMBERS(n)` | `range(n)`: 0 .. n-1 | `range(n)` |
| `TP_ANY_TRUE(b)` | `bool_or(b)` | `max(b) = 1` |
| `TP_QUANTILES(x, q1, q2)` | `quantile_cont(x, [q1, q2])` | `quantilesExactInclusive(q1, q2)(x)` |
| `TP_DIFF_SECONDS(a, b)` | `epoch(a - b)` | microseconds apart / 1e6 |
| `TP_SLICE(list, start, end)` (1-based, inclusive) | `list_slice` | `arraySlice` |
| `TP_LEN(list)` | `len` | `length` |
| `TP_REPLACE_ALL(x, regex, by)`, `TP_FULL_MATCH(x, regex)` | `regexp_replace(.., 'g')`, `regexp_full_match` | `replaceRegexpAll`, `match` anchored |
| `TP_BITS(x)` | `bit_count(x)` | `bitCount(x)` |
| `lag(x)`, `lead(x)` | as written | NULL (not the type's default) past the edge |
| `TP_SPAN(n)`: n seconds, added to a time | `to_seconds(n)` | `toIntervalSecond(n)` |
| `TP_TIME_KEY(ts)`, `TP_KEY_SPAN(n)`: a time as a window's order key, n seconds of it | `ts`, `to_seconds(n)` | seconds (a RANGE frame needs a number) |
| `a \\| b`, `a & b` | as written | `bitOr`, `bitAnd` |

>>> tree = parse("SELECT TP_SECONDS(ts), a | b FROM t")
>>> render(tree, "duckdb")
'SELECT EPOCH(ts), a | b FROM t'
>>> render(tree, "clickhouse")
'SELECT toUnixTimestamp64Micro(ts) / 1e6, bitOr(a, b) FROM t'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, ClassVar

from sqlglot import exp, parse_one
from sqlglot.dialects.dialect import Dialect
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.generator import Generator
from sqlglot.generators.duckdb import DuckDBGenerator
from sqlglot.parsers.duckdb import DuckDBParser

__all__ = ["DIALECTS", "parse", "render"]


class _Func(exp.Expression, exp.Func):
    """A Touchpath function: rendered per dialect by the generators below."""


class TpSeconds(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_SECONDS"]


class TpMicros(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_MICROS"]


class TpProfileKey(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"expressions": True}
    is_var_len_args = True
    _sql_names: ClassVar[list[str]] = ["TP_PROFILE_KEY"]


class TpQuantile(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}
    _sql_names: ClassVar[list[str]] = ["TP_QUANTILE"]


class TpOrderedList(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}
    _sql_names: ClassVar[list[str]] = ["TP_ORDERED_LIST"]


class TpNumbers(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_NUMBERS"]


class TpAnyTrue(_Func, exp.AggFunc):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_ANY_TRUE"]


class TpBits(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_BITS"]


class TpSpan(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_SPAN"]


class TpTimeKey(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_TIME_KEY"]


class TpKeySpan(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_KEY_SPAN"]


class TpDiffSeconds(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expression": True}
    _sql_names: ClassVar[list[str]] = ["TP_DIFF_SECONDS"]


class TpSlice(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "start": True, "end": True}
    _sql_names: ClassVar[list[str]] = ["TP_SLICE"]


class TpLen(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True}
    _sql_names: ClassVar[list[str]] = ["TP_LEN"]


class TpReplaceAll(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "pattern": True, "replacement": True}
    _sql_names: ClassVar[list[str]] = ["TP_REPLACE_ALL"]


class TpFullMatch(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "pattern": True}
    _sql_names: ClassVar[list[str]] = ["TP_FULL_MATCH"]


class TpQuantiles(_Func):
    arg_types: ClassVar[dict[str, bool]] = {"this": True, "expressions": True}
    is_var_len_args = True
    _sql_names: ClassVar[list[str]] = ["TP_QUANTILES"]


_FUNCS: tuple[type[_Func], ...] = (
    TpSeconds,
    TpMicros,
    TpProfileKey,
    TpQuantile,
    TpOrderedList,
    TpNumbers,
    TpAnyTrue,
    TpBits,
    TpSpan,
    TpTimeKey,
    TpKeySpan,
    TpQuantiles,
    TpDiffSeconds,
    TpSlice,
    TpLen,
    TpReplaceAll,
    TpFullMatch,
)


def _sql(gen: Generator, e: exp.Expr, key: str = "this") -> str:
    return gen.sql(e, key)


class TouchpathDuckDB(DuckDB):
    """DuckDB with Touchpath's functions."""

    class Parser(DuckDBParser):
        FUNCTIONS: ClassVar[dict[str, Any]] = {
            **DuckDBParser.FUNCTIONS,
            **{f._sql_names[0]: f.from_arg_list for f in _FUNCS},
        }

    class Generator(DuckDBGenerator):
        TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
            **DuckDBGenerator.TRANSFORMS,
            TpSeconds: lambda g, e: f"EPOCH({_sql(g, e)})",
            TpMicros: lambda g, e: f"EPOCH_US({_sql(g, e)})",
            TpProfileKey: lambda g, e: f"HASH({g.expressions(e, flat=True)})",
            TpQuantile: lambda g, e: f"QUANTILE_CONT({_sql(g, e)}, {_sql(g, e, 'expression')})",
            TpOrderedList: lambda g, e: f"LIST({_sql(g, e)} ORDER BY {_sql(g, e, 'expression')})",
            TpNumbers: lambda g, e: f"RANGE({_sql(g, e)})",
            TpAnyTrue: lambda g, e: f"BOOL_OR({_sql(g, e)})",
            TpBits: lambda g, e: f"BIT_COUNT({_sql(g, e)})",
            TpSpan: lambda g, e: f"TO_SECONDS({_sql(g, e)})",
            TpTimeKey: lambda g, e: _sql(g, e),
            TpKeySpan: lambda g, e: f"TO_SECONDS({_sql(g, e)})",
            TpQuantiles: lambda g, e: (
                f"QUANTILE_CONT({_sql(g, e)}, [{g.expressions(e, flat=True)}])"
            ),
            TpDiffSeconds: lambda g, e: f"EPOCH({_sql(g, e)} - {_sql(g, e, 'expression')})",
            TpSlice: lambda g, e: (
                f"LIST_SLICE({_sql(g, e)}, {_sql(g, e, 'start')}, {_sql(g, e, 'end')})"
            ),
            TpLen: lambda g, e: f"LEN({_sql(g, e)})",
            TpReplaceAll: lambda g, e: (
                f"REGEXP_REPLACE({_sql(g, e)}, {_sql(g, e, 'pattern')}, "
                f"{_sql(g, e, 'replacement')}, 'g')"
            ),
            TpFullMatch: lambda g, e: f"REGEXP_FULL_MATCH({_sql(g, e)}, {_sql(g, e, 'pattern')})",
        }


def _ordered_list(g: Generator, e: exp.Expr) -> str:
    pairs = f"groupArray(({_sql(g, e, 'expression')}, {_sql(g, e)}))"
    return f"arrayMap(p -> p.2, arraySort(p -> p.1, {pairs}))"


def _slice(g: Generator, e: exp.Expr) -> str:
    start, end = _sql(g, e, "start"), _sql(g, e, "end")
    return f"arraySlice({_sql(g, e)}, {start}, greatest(0, ({end}) - ({start}) + 1))"


def _shift(g: Generator, e: exp.Expr, name: str) -> str:
    """lag/lead whose missing neighbour is NULL, as in SQL (ClickHouse gives the type's
    default otherwise)."""
    args = [f"toNullable({_sql(g, e)})"]
    if e.args.get("offset") is not None:
        args.append(_sql(g, e, "offset"))
    return f"{name}({', '.join(args)})"


@cache
def _clickhouse() -> type[Dialect]:
    """ClickHouse with Touchpath's functions, and DuckDB's operators spelled its way: built on
    first use, so that a process rendering DuckDB only never imports sqlglot's ClickHouse
    dialect (about 10 CPU-ms of a one-shot command)."""
    from sqlglot.dialects.clickhouse import ClickHouse
    from sqlglot.generators.clickhouse import ClickHouseGenerator
    from sqlglot.parsers.clickhouse import ClickHouseParser

    class TouchpathClickHouse(ClickHouse):
        """ClickHouse with Touchpath's functions, and DuckDB's operators spelled its way."""

        class Parser(ClickHouseParser):
            FUNCTIONS: ClassVar[dict[str, Any]] = {
                **ClickHouseParser.FUNCTIONS,
                **{f._sql_names[0]: f.from_arg_list for f in _FUNCS},
            }

        class Generator(ClickHouseGenerator):
            TRANSFORMS: ClassVar[dict[type[exp.Expr], Any]] = {
                **ClickHouseGenerator.TRANSFORMS,
                TpSeconds: lambda g, e: f"toUnixTimestamp64Micro({_sql(g, e)}) / 1e6",
                TpMicros: lambda g, e: f"toUnixTimestamp64Micro({_sql(g, e)})",
                TpProfileKey: lambda g, e: f"cityHash64({g.expressions(e, flat=True)})",
                TpQuantile: lambda g, e: (
                    f"quantileExactInclusive({_sql(g, e, 'expression')})({_sql(g, e)})"
                ),
                TpOrderedList: _ordered_list,
                TpNumbers: lambda g, e: f"range({_sql(g, e)})",
                TpAnyTrue: lambda g, e: f"(max({_sql(g, e)}) = 1)",
                TpBits: lambda g, e: f"bitCount({_sql(g, e)})",
                TpSpan: lambda g, e: f"toIntervalSecond({_sql(g, e)})",
                TpTimeKey: lambda g, e: f"(toUnixTimestamp64Micro({_sql(g, e)}) / 1e6)",
                TpKeySpan: lambda g, e: _sql(g, e),
                TpQuantiles: lambda g, e: (
                    f"quantilesExactInclusive({g.expressions(e, flat=True)})({_sql(g, e)})"
                ),
                TpDiffSeconds: lambda g, e: (
                    f"(toUnixTimestamp64Micro({_sql(g, e)}) - "
                    f"toUnixTimestamp64Micro({_sql(g, e, 'expression')})) / 1e6"
                ),
                TpSlice: _slice,
                TpLen: lambda g, e: f"length({_sql(g, e)})",
                TpReplaceAll: lambda g, e: (
                    f"replaceRegexpAll({_sql(g, e)}, {_sql(g, e, 'pattern')}, "
                    f"{_sql(g, e, 'replacement')})"
                ),
                TpFullMatch: lambda g, e: (
                    f"match({_sql(g, e)}, concat('^(?:', {_sql(g, e, 'pattern')}, ')$'))"
                ),
                exp.Lag: lambda g, e: _shift(g, e, "lag"),
                exp.Lead: lambda g, e: _shift(g, e, "lead"),
                exp.BitwiseOr: lambda g, e: f"bitOr({_sql(g, e)}, {_sql(g, e, 'expression')})",
                exp.BitwiseAnd: lambda g, e: f"bitAnd({_sql(g, e)}, {_sql(g, e, 'expression')})",
            }

    return TouchpathClickHouse


class _Dialects(Mapping[str, type[Dialect]]):
    """The dialects by name; ClickHouse's is built when first asked for."""

    _names = ("duckdb", "clickhouse")

    def __getitem__(self, name: str) -> type[Dialect]:
        if name == "duckdb":
            return TouchpathDuckDB
        if name == "clickhouse":
            return _clickhouse()
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


DIALECTS: Mapping[str, type[Dialect]] = _Dialects()
"""The dialects a plan may name."""


def parse(sql: str) -> exp.Expr:
    """A tree from SQL text in DuckDB's syntax with Touchpath's functions."""
    return parse_one(sql, read=TouchpathDuckDB)


def render(tree: exp.Expr, dialect: str = "duckdb") -> str:
    """The tree as SQL text of `dialect` (`duckdb` or `clickhouse`)."""
    if dialect == "clickhouse":
        tree = tree.transform(_own_names)
    # No copy: a tree is built for one rendering (copying it cost as much as generating it).
    return tree.sql(dialect=DIALECTS[dialect], copy=False)


def _own_names(node: exp.Expr) -> exp.Expr:
    """ClickHouse names a projection `t.col` by its whole text (`CREATE TABLE AS`, `USING`):
    a qualified column gets its own name, as SQL gives it."""
    if isinstance(node, exp.Select):
        named = [
            exp.alias_(p, p.name)
            if isinstance(p, exp.Column) and p.table and not isinstance(p.this, exp.Star)
            else p
            for p in node.expressions
        ]
        node.set("expressions", named)
    return node
