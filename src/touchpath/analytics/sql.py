"""Building queries as SQLGlot trees: templates with named slots, CTEs, literals.

A template is SQL text in DuckDB's syntax with Touchpath's functions (`touchpath.analytics
.dialects`) and named slots (`:name`); `q(template, name=...)` parses it and puts a tree, a
table name or a literal in each slot. User values only ever enter as literals or as the trees of
`touchpath.events.match`; nothing is pasted into text. `with_(ctes, body)` chains CTEs. The
whole query is rendered once, for its dialect, by the runner's `Read`.

>>> cond = q("event = :e", e="Order Completed")
>>> tree = q("SELECT pid FROM :t WHERE :cond AND n >= :n", t=table("base"), cond=cond, n=2)
>>> tree.sql("duckdb")
"SELECT pid FROM base WHERE (event = 'Order Completed') AND n >= 2"
>>> with_([("a", q("SELECT 1 AS x"))], q("SELECT x FROM a")).sql("duckdb")
'WITH a AS (SELECT 1 AS x) SELECT x FROM a'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlglot import exp

from touchpath.analytics.dialects import parse
from touchpath.events.match import literal

__all__ = ["and_", "col", "or_", "q", "table", "with_"]


@lru_cache(maxsize=512)
def _template(text: str) -> exp.Expr:
    return parse(text)


def _value(part: Any) -> exp.Expr:
    """A slot's tree: operators keep their precedence in parentheses; other values are
    literals."""
    if isinstance(part, exp.Binary | exp.Not | exp.Neg | exp.Is | exp.In | exp.Between):
        return exp.Paren(this=part)
    if isinstance(part, exp.Expr):
        return part
    return literal(part)


def _own(part: exp.Expr) -> exp.Expr:
    """`part` itself when no tree holds it yet, else a copy: a built query is put in place once
    (copying whole subtrees at every level of nesting cost more than running a small query)."""
    return part if part.parent is None else part.copy()


def q(template: str, **parts: Any) -> exp.Expr:
    """`template` parsed (once, then copied), with each `:name` slot replaced by `parts[name]`:
    a tree as it is (a query in `FROM :name AS x` as a subquery), any other value as a
    literal. A tree given for two slots (or already part of another tree) is copied."""
    tree = _template(template).copy()
    if not parts:
        return tree
    filled: dict[str, exp.Expr] = {k: _value(v) for k, v in parts.items()}

    def put(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Placeholder):
            # FROM :name [AS alias]: a query becomes a subquery, a table stays a table.
            part = filled.get(node.this.name)
            if part is None:
                return node
            alias = node.args.get("alias")
            if isinstance(part, exp.Query):
                return exp.Subquery(this=_own(part), alias=alias.copy() if alias else None)
            out = _own(part)
            if alias is not None:
                out.set("alias", alias.copy())
            return out
        if isinstance(node, exp.Placeholder) and node.name in filled:
            part = filled[node.name]
            if isinstance(part, exp.Query) and not isinstance(
                node.parent, exp.Subquery | exp.Paren
            ):
                return exp.Subquery(this=_own(part))
            return _own(part)
        return node

    return tree.transform(put, copy=False)


def table(name: str) -> exp.Table:
    """A table or CTE by name (one of ours, never a user value)."""
    return exp.to_table(name)


def col(name: str, of: str | None = None) -> exp.Column:
    """A column (`of` its table or CTE)."""
    return exp.column(name, table=of)


def and_(parts: Iterable[exp.Expr]) -> exp.Expr:
    """All of `parts` (TRUE when there are none)."""
    items = list(parts)
    return exp.and_(*items, copy=False) if items else exp.true()


def or_(parts: Iterable[exp.Expr]) -> exp.Expr:
    """Any of `parts` (FALSE when there are none)."""
    items = list(parts)
    return exp.or_(*items, copy=False) if items else exp.false()


def with_(
    ctes: Iterable[tuple[str, exp.Expr]], body: exp.Expr, materialized: Iterable[str] = ()
) -> exp.Expr:
    """`body` with the common table expressions `ctes` (name, query), in order; those named in
    `materialized` are computed once (DuckDB's `AS MATERIALIZED`)."""
    keep = set(materialized)
    out = _own(body)
    for name, query in ctes:
        out = out.with_(name, as_=query, materialized=True if name in keep else None, copy=False)  # type: ignore[attr-defined]
    return out
