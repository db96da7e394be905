"""Rules evaluated in Python, at request time, with the semantics of the SQL the audiences use.

`holds(value, op, operand)` is `touchpath.events.match.compare` for one value already in hand:
the value is taken as the text DuckDB's `->> '$'` gives for the JSON value (strings as they
are, `true`/`false`, numbers as written, NULL for a missing value or JSON null); a missing value
meets no positive test and every negated one; numbers compare as numbers when the operand is one
(and for the order tests also when it is numeric text). tests/test_personalize_conditions.py
checks it against DuckDB on the same values.

>>> holds("42", "gt", 7), holds(None, "neq", "pro"), holds(True, "eq", "true")
(True, True, True)
>>> holds(["a", "b"], "contains", "A")
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

import orjson

from touchpath.personalize.spec import (
    AllOf,
    AnyOf,
    AudienceIs,
    ComputedIs,
    ContextIs,
    Not,
    TraitIs,
    When,
)

__all__ = ["COUNTED_OPS", "Facts", "holds", "path_value", "test", "text_of"]

COUNTED_OPS = frozenset({"count", "unique_count", "sum"})
"""Computed trait operations whose missing value means 0 (as audiences read them)."""

_ORDER = frozenset({"gt", "gte", "lt", "lte"})
_COMPARED = _ORDER | {"eq", "neq"}
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf(inity)?|nan)\s*$",
                    re.IGNORECASE)  # fmt: skip


def text_of(value: Any) -> str | None:
    """The value as the text SQL compares (`->> '$'` of its JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    return orjson.dumps(value).decode()


def _float_text(x: float) -> str:
    """A float as DuckDB writes a JSON double: positional from 1e-6 up to 1e21 (`2.0`,
    `0.00001`, `100000000000000000000.0`), else with an exponent (`1e21`, `1.25e-7`).

    >>> [_float_text(v) for v in (2.0, 1e-5, 1e20, 1e21, 1.25e-7, 7.5)]
    ['2.0', '0.00001', '100000000000000000000.0', '1e21', '1.25e-7', '7.5']
    """
    if math.isnan(x) or math.isinf(x):
        return repr(x)
    if x != 0 and not 1e-6 <= abs(x) < 1e21:
        mantissa, _, exponent = repr(x).partition("e")
        return f"{mantissa.removesuffix('.0')}e{int(exponent)}"
    text = format(Decimal(repr(x)), "f")
    return text if "." in text else text + ".0"


def _number(value: Any) -> float | None:
    """The operand as a number when it is one (or numeric text); booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _cast_double(text: str | None) -> float | None:
    """TRY_CAST(text AS DOUBLE)."""
    if text is None or not _FLOAT.match(text):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _operand_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def holds(value: Any, op: str, operand: Any, default: float | None = None) -> bool:
    """Whether `value op operand` holds (the value as decoded from JSON, or None). `default`
    stands in for a missing value in numeric tests (0 for a count of nothing)."""
    text = text_of(value)
    if op == "is_set":
        return text is not None
    if op == "is_not_set":
        return text is None
    number = _number(operand)
    numeric = number is not None and (op in _ORDER or not isinstance(operand, str))
    if text is None and default is not None and numeric and op not in _COMPARED:
        text = _float_text(float(default)).removesuffix(".0")  # coalesce(value, 0): '0'
    if op in ("in", "not_in"):
        values = operand if isinstance(operand, list | tuple) else [operand]
        hit = text is not None and text in {_operand_text(v) for v in values}
        return hit if op == "in" else not hit
    if op in ("contains", "not_contains"):
        hit = text is not None and str(operand).lower() in text.lower()
        return hit if op == "contains" else not hit
    if op == "regex":
        rx = _regex(str(operand))
        return text is not None and rx is not None and rx.search(text) is not None
    left: tuple[int, float] | str | None
    right: tuple[int, float] | str
    if numeric:
        assert number is not None
        cast = _cast_double(text)
        if cast is None and default is not None:
            cast = float(default)  # coalesce(TRY_CAST(value AS DOUBLE), 0)
        left = None if cast is None else _key(cast)
        right = _key(number)
    else:
        left, right = text, _operand_text(operand)
    if left is None:
        return op == "neq"
    match op:
        case "eq":
            return left == right
        case "neq":
            return left != right
        case "gt":
            return left > right  # type: ignore[operator]
        case "gte":
            return left >= right  # type: ignore[operator]
        case "lt":
            return left < right  # type: ignore[operator]
        case "lte":
            return left <= right  # type: ignore[operator]
    raise ValueError(f"op: unknown operator {op!r}")


def _key(x: float) -> tuple[int, float]:
    """A double as DuckDB orders it: NaN equals itself and is above every other value."""
    return (1, 0.0) if math.isnan(x) else (0, x)


def path_value(data: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a dotted path of nested mappings (None when any step is missing)."""
    cur: Any = data
    for key in path.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


class Facts:
    """What a rule may test: the person's traits, computed traits and audiences (from the read
    model), and the request's context. `computed_ops` says which computed traits count (a
    missing count is 0)."""

    __slots__ = ("audiences", "computed", "computed_ops", "context", "traits")

    def __init__(
        self,
        traits: Mapping[str, Any],
        computed: Mapping[str, Any],
        audiences: frozenset[str] | set[str],
        context: Mapping[str, Any] | None,
        computed_ops: Mapping[str, str],
    ) -> None:
        self.traits = traits
        self.computed = computed
        self.audiences = audiences
        self.context = context or {}
        self.computed_ops = computed_ops


def test(cond: When, facts: Facts) -> bool:
    """Whether a rule's condition holds for these facts."""
    if isinstance(cond, AudienceIs):
        return cond.audience in facts.audiences
    if isinstance(cond, TraitIs):
        return holds(facts.traits.get(cond.trait), cond.op, cond.value)
    if isinstance(cond, ComputedIs):
        zero = 0.0 if facts.computed_ops.get(cond.trait) in COUNTED_OPS else None
        return holds(facts.computed.get(cond.trait), cond.op, cond.value, default=zero)
    if isinstance(cond, ContextIs):
        return holds(path_value(facts.context, cond.path), cond.op, cond.value)
    if isinstance(cond, AllOf):
        return all(test(c, facts) for c in cond.all)
    if isinstance(cond, AnyOf):
        return any(test(c, facts) for c in cond.any)
    assert isinstance(cond, Not)
    return not test(cond.cond, facts)
