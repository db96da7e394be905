"""Rules at request time mean what they mean in audiences: the Python test of one value
(`touchpath.personalize.conditions.holds`) against DuckDB running the audiences' SQL compiler
(`touchpath.events.match.compare`) on the same JSON values; and decision specs whose errors
name their path."""

from __future__ import annotations

import itertools
import json
from typing import Any

import duckdb
import pytest
from sqlglot import exp

from touchpath.errors import SpecError
from touchpath.events.match import OPS, compare
from touchpath.personalize.conditions import holds
from touchpath.personalize.spec import parse_decision

VALUES: list[Any] = [
    None, "pro", "Pro", "", "42", "7.5", "abc7", "1e3", " 12 ", "true", True, False,
    0, 7, 42, -3, 7.5, 2.0, 1e20, ["a", "b"], {"k": 1}, "ümlaut", "Shoes & Boots",
]  # fmt: skip
OPERANDS: list[Any] = [
    "pro", "PRO", 7, 42, 7.5, "7", "10", "abc", True, "true", ["pro", "free"], [7, "42"],
    "^p", "o$", 0,
]  # fmt: skip


def _sql_truth(con: duckdb.DuckDBPyConnection, value: Any, op: str, operand: Any,
               default: Any) -> bool:  # fmt: skip
    test = compare(exp.column("v"), op, operand, default=default)  # type: ignore[arg-type]
    raw = json.dumps(value)
    row = con.execute(
        f"SELECT coalesce(({test.sql('duckdb')}), false) FROM (SELECT (?::JSON) ->> '$' AS v)",
        [raw],
    ).fetchone()
    assert row is not None
    return bool(row[0])


@pytest.mark.parametrize("default", [None, 0])
def test_python_rules_agree_with_the_audiences_sql(default: Any) -> None:
    con = duckdb.connect()
    disagree = []
    for value, op, operand in itertools.product(VALUES, OPS, OPERANDS):
        if op == "regex" and not isinstance(operand, str):
            continue
        try:
            want = _sql_truth(con, value, op, operand, default)
        except duckdb.Error:
            continue  # a comparison DuckDB itself refuses (e.g. a list against a number)
        got = holds(value, op, operand, default=default)
        if got != want:
            disagree.append((value, op, operand, got, want))
    assert disagree == [], disagree[:20]


def test_the_null_rule() -> None:
    assert not holds(None, "eq", "x") and holds(None, "neq", "x")
    assert holds(None, "not_in", ["x"]) and holds(None, "not_contains", "x")
    assert holds(None, "gte", 0, default=0) and not holds(None, "gte", 1, default=0)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"default": "nope"}, "default: 'nope' is not one of the variants"),
        ({"variants": {}}, "variants: Dictionary should have at least 1 item"),
        ({"variants": {"holdout": {}}, "default": "holdout"}, "'holdout': reserved"),
        ({"variants": {"a": {"x": "y" * 17000}}}, "variants.a: 17008 bytes of JSON"),
        ({"holdout": 1.0}, "holdout: Input should be less than 1"),
        ({"name": "no spaces"}, "name: String should match pattern"),
        (
            {"rules": [{"name": "r", "when": {"kind": "audience", "audience": "x"}}]},
            "rules[0]: give either variant or split",
        ),
        (
            {
                "rules": [
                    {"name": "r", "when": {"kind": "audience", "audience": "x"}, "split": {"a": 0}}
                ]
            },
            "rules[0].split.a: the weight must be > 0",
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "when": {"kind": "trait", "trait": "t", "op": "regex", "value": "(["},
                        "variant": "a",
                    }
                ]
            },
            "rules[0].when.value: not a regular expression",
        ),
        (
            {"rules": [{"name": "r", "when": {"kind": "weather"}, "variant": "a"}]},
            "rules[0].when: Input tag 'weather' found using 'kind' does not match",
        ),
        ({"goal": {"channel": "web"}}, "goal.event: required"),
    ],
)
def test_a_bad_decision_says_where(change: dict[str, Any], says: str) -> None:
    base = {"name": "d", "variants": {"a": {"t": "x"}}, "default": "a"}
    with pytest.raises(SpecError) as err:
        parse_decision({**base, **change})
    assert says in str(err.value)


def test_references_name_what_leaves_the_server() -> None:
    d = parse_decision(
        {
            "name": "d",
            "variants": {
                "a": {"t": "Hi {{ traits.first_name }} from {{ context.page.path }}"},
                "b": {"n": "{{computed.orders}}"},
            },
            "default": "a",
            "rules": [
                {
                    "name": "r",
                    "variant": "b",
                    "when": {
                        "kind": "and",
                        "all": [
                            {"kind": "audience", "audience": "vip"},
                            {
                                "kind": "not",
                                "cond": {
                                    "kind": "computed",
                                    "trait": "ltv",
                                    "op": "gt",
                                    "value": 9,
                                },
                            },
                        ],
                    },
                },
            ],
        }
    )
    assert d.references() == {
        "audiences": {"vip"},
        "traits": {"first_name"},
        "computed": {"orders", "ltv"},
        "context": {"page.path"},
    }
