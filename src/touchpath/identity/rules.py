"""Merge rules of the identity graph: limits per identifier kind, priorities, blocked values.

The defaults follow Segment Unify's recommended settings: one user_id per profile ever, five of
every other kind (anonymous ids five a week, since every visit from a cleared browser or a till
purchase brings a new one), user_id before email before the rest, and junk values blocked. The
loyalty card in a profile's traits is an identifier by default (`custom`), so shop purchases
join the online profile.

>>> rules = IdentityRules()
>>> rules.limit("user_id").max, rules.limit("anonymous_id").within, rules.limit("ios.id").max
(1, 604800, 5)
>>> rules.is_blocked("null"), rules.is_blocked("000-000"), rules.is_blocked("ann@shop.example")
(True, True, False)
>>> rules.custom
{'loyalty_id': 'traits.loyalty_id'}
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlglot import exp

from touchpath.events.durations import OptionalDuration, renamed_durations

__all__ = ["IdentityRules", "Limit"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Limit(_Frozen):
    """At most `max` identifiers of one kind per profile, counted over `within` seconds (or ever;
    input also `7d`)."""

    max: int = Field(ge=1)
    within: OptionalDuration = None

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return renamed_durations(data, {"within_days": ("within", 86400)})


class IdentityRules(_Frozen):
    """Which identifiers a message carries and when two of them may join one profile."""

    limits: dict[str, Limit] = Field(
        default_factory=lambda: {
            "user_id": Limit(max=1),
            "anonymous_id": Limit(max=5, within=7 * 86400),
        },
        description="Limit per identifier kind; kinds not named get `default_limit`.",
    )
    default_limit: Limit = Limit(max=5)
    priorities: tuple[str, ...] = Field(
        default=("user_id", "email"),
        description="Kinds from most to least trusted; unnamed kinds follow in name order. "
        "When a merge would break a limit, the message's lowest-priority identifier is dropped.",
    )
    blocked_values: tuple[str, ...] = (
        "null", "undefined", "anonymous", "-1", "none", "nil", "unknown", "n/a", "nan",
        "true", "false", "[object object]",
    )  # fmt: skip
    blocked_patterns: tuple[str, ...] = (
        r"^[0-]*$",
        r"^(test|none|noemail|no-?reply|null|undefined|anonymous|unknown|nobody)@",
        r"@(example|test)\.(com|org|net)$",
    )
    custom: dict[str, str] = Field(
        default_factory=lambda: {"loyalty_id": "traits.loyalty_id"},
        description="Extra identifier kinds and where they are read (a property name, "
        "properties.x, traits.x, context.x). The default reads the loyalty card a profile's "
        "traits carry, so a till purchase sent with the card in context.externalIds (kind "
        "`loyalty_id`) joins the online profile; `{}` turns it off.",
    )
    external_ids: bool = Field(default=True, description="Read context.externalIds.")

    @field_validator("blocked_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for i, p in enumerate(patterns):
            try:
                re.compile(p)
            except re.error as exc:
                raise ValueError(f"blocked_patterns[{i}]: not a regular expression: {exc}") from exc
        return patterns

    @field_validator("custom")
    @classmethod
    def _custom_kinds(cls, custom: dict[str, str]) -> dict[str, str]:
        for kind, path in custom.items():
            if not kind.strip() or not path.strip():
                raise ValueError(f"custom[{kind!r}]: kind and path must not be empty")
        return custom

    def limit(self, kind: str) -> Limit:
        """The limit for identifiers of `kind`."""
        return self.limits.get(kind, self.default_limit)

    @cached_property
    def _blocked(self) -> tuple[frozenset[str], tuple[re.Pattern[str], ...]]:
        values = frozenset(v.lower() for v in self.blocked_values)
        return values, tuple(re.compile(p, re.IGNORECASE) for p in self.blocked_patterns)

    def is_blocked(self, value: str) -> bool:
        """Whether `value` is never used as an identifier."""
        values, patterns = self._blocked
        return value.lower() in values or any(p.search(value) for p in patterns)

    def blocked_sql(self, column: str = "value") -> str:
        """A DuckDB condition true for blocked values of `column` (values as literals)."""
        col = exp.to_column(column)
        parts: list[exp.Expr] = []
        if self.blocked_values:
            parts.append(
                exp.In(
                    this=exp.Lower(this=col),
                    expressions=[exp.Literal.string(v.lower()) for v in self.blocked_values],
                )
            )
        if self.blocked_patterns:  # one regular expression: one pass over the value
            pattern = "|".join(f"(?:{p})" for p in self.blocked_patterns)
            parts.append(
                exp.func(
                    "regexp_matches", col, exp.Literal.string(pattern), exp.Literal.string("i")
                )
            )
        return exp.or_(*parts).sql("duckdb") if parts else "false"

    def priority_sql(self, column: str = "kind") -> str:
        """A DuckDB expression ranking kinds: 0 for the most trusted, unnamed kinds last."""
        case = exp.Case()
        for i, kind in enumerate(self.priorities):
            case = case.when(
                exp.EQ(this=exp.to_column(column), expression=exp.Literal.string(kind)),
                exp.Literal.number(i),
            )
        return case.else_(exp.Literal.number(len(self.priorities))).sql("duckdb")
