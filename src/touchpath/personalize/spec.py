"""What a decision is: named rules from audiences, traits, computed traits and the request's
context to a JSON content variant, a default, and an optional random split with a holdout.

Rules are read in order; the first whose `when` holds gives the variant (or splits the person
between several by weight). Nobody matched: the default. The `holdout` share of people gets the
default whatever the rules say, so the rules' lift can be measured against it. A variant's
strings may name a value of the person or the request, `{{ computed.last_category }}`,
`{{ traits.first_name }}` or `{{ context.page.path }}`: only what a decision names leaves the
server, never the profile.

>>> d = Decision.model_validate({
...     "name": "home-hero",
...     "variants": {"generic": {"title": "New season"},
...                  "returning": {"title": "More {{ computed.last_category }}"}},
...     "default": "generic",
...     "rules": [{"name": "returning",
...                "when": {"kind": "computed", "trait": "last_category", "op": "is_set"},
...                "variant": "returning"}]})
>>> d.rules[0].when.kind, d.arms()
('computed', ['generic', 'returning'])
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import orjson
from pydantic import Field, ValidationError, field_validator, model_validator

from touchpath.errors import SpecError
from touchpath.events.durations import Duration
from touchpath.events.match import EventMatch, Frozen, Op

__all__ = [
    "HOLDOUT",
    "MAX_VARIANT_BYTES",
    "NAME_PATTERN",
    "PLACEHOLDER",
    "AllOf",
    "AnyOf",
    "AudienceIs",
    "ComputedIs",
    "ContextIs",
    "Decision",
    "Not",
    "Rule",
    "TouchpointRef",
    "TraitIs",
    "When",
    "parse_decision",
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
"""Names of decisions, rules and variants: they appear in URLs and experiment ids."""

HOLDOUT = "holdout"
"""The arm of people held out of the rules (they get the default variant)."""

MAX_VARIANT_BYTES = 16 * 1024
"""Largest variant content, as JSON: answers go to browsers on every page."""

PLACEHOLDER = re.compile(r"\{\{\s*(traits|computed|context)\.([^{}\s][^{}]*?)\s*\}\}")
"""`{{ traits.x }}`, `{{ computed.x }}`, `{{ context.page.path }}` inside a variant's strings."""


class AudienceIs(Frozen):
    """The person is a member of `audience`."""

    kind: Literal["audience"] = "audience"
    audience: str = Field(min_length=1)


class TraitIs(Frozen):
    """A test on a trait (its latest value), with the operators of audiences."""

    kind: Literal["trait"] = "trait"
    trait: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None


class ComputedIs(Frozen):
    """A test on a computed trait's value (a count of nothing is 0)."""

    kind: Literal["computed"] = "computed"
    trait: str = Field(min_length=1)
    op: Op = "eq"
    value: Any = None


class ContextIs(Frozen):
    """A test on the request's context: `page.path`, `page.url`, `screen.name`, `locale`, or
    any dotted path of what the page sent."""

    kind: Literal["context"] = "context"
    path: str = Field(min_length=1, pattern=r"^[^.\s][^\s]*$")
    op: Op = "eq"
    value: Any = None


class AllOf(Frozen):
    kind: Literal["and"] = "and"
    all: tuple[When, ...] = Field(min_length=1)


class AnyOf(Frozen):
    kind: Literal["or"] = "or"
    any: tuple[When, ...] = Field(min_length=1)


class Not(Frozen):
    kind: Literal["not"] = "not"
    cond: When


When = Annotated[
    AudienceIs | TraitIs | ComputedIs | ContextIs | AllOf | AnyOf | Not,
    Field(discriminator="kind"),
]
"""A rule's condition. Only what the read model holds (no event counts: those are computed
traits or audiences, kept current as events arrive), so a request never reads the log."""

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


class Rule(Frozen):
    """When `when` holds, give `variant`, or split people between variants by `split` weight."""

    name: str = Field(pattern=NAME_PATTERN)
    when: When
    variant: str | None = None
    split: dict[str, float] | None = Field(
        default=None, description="Variant name -> weight (> 0); people are assigned by hash."
    )

    @model_validator(mode="after")
    def _one_outcome(self) -> Rule:
        if (self.variant is None) == (self.split is None):
            raise ValueError("give either variant or split")
        if self.split is not None:
            if not self.split:
                raise ValueError("split: name at least one variant")
            for arm, weight in self.split.items():
                if not weight > 0:
                    raise ValueError(f"split.{arm}: the weight must be > 0, got {weight}")
        return self

    def outcomes(self) -> list[str]:
        """The variants this rule can give."""
        return [self.variant] if self.variant is not None else list(self.split or {})


class TouchpointRef(Frozen):
    """A touchpoint of a journey map whose content a decision chooses (the bound map shows the
    decision's numbers on it)."""

    map: str = Field(min_length=1)
    touchpoint: str = Field(min_length=1)


class Decision(Frozen):
    """A named decision: variants, the default, ordered rules, a holdout share, and the goal
    its numbers count (exposure and conversion per variant, docs/personalize.md)."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    variants: dict[str, dict[str, Any]] = Field(
        min_length=1, description="Variant name -> the JSON content the page renders."
    )
    default: str = Field(description="The variant of people no rule matches, and of the holdout.")
    rules: tuple[Rule, ...] = ()
    holdout: float = Field(
        default=0.0, ge=0, lt=1, description="Share of people held out (given the default)."
    )
    seed: str | None = Field(
        default=None, description="Salt of the assignment hash (the name when unset); change it "
        "to reshuffle who is in the holdout and the splits.",
    )  # fmt: skip
    goal: EventMatch | None = Field(
        default=None, description="The conversion event counted per variant."
    )
    goal_window: Duration = Field(
        default=7 * 86400, description="How long after exposure a conversion counts."
    )
    touchpoints: tuple[TouchpointRef, ...] = Field(
        default=(), description="Map touchpoints whose content it chooses (docs/maps.md)."
    )

    @field_validator("variants")
    @classmethod
    def _variants(cls, variants: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, content in variants.items():
            if not re.match(NAME_PATTERN, name):
                raise ValueError(f"{name!r}: use letters, digits and - _ . (1-100)")
            if name == HOLDOUT:
                raise ValueError(f"{name!r}: reserved for the holdout arm")
            size = len(orjson.dumps(content))
            if size > MAX_VARIANT_BYTES:
                raise ValueError(f"{name}: {size} bytes of JSON; the limit is {MAX_VARIANT_BYTES}")
        return variants

    @model_validator(mode="after")
    def _references(self) -> Decision:
        if self.default not in self.variants:
            raise ValueError(f"default: {self.default!r} is not one of the variants")
        seen: set[str] = set()
        for i, rule in enumerate(self.rules):
            if rule.name in seen:
                raise ValueError(f"rules[{i}].name: {rule.name!r} is used twice")
            seen.add(rule.name)
            for arm in rule.outcomes():
                if arm not in self.variants:
                    field = "variant" if rule.variant is not None else f"split.{arm}"
                    raise ValueError(f"rules[{i}].{field}: {arm!r} is not one of the variants")
            _check_regex(rule.when, f"rules[{i}].when")
        if self.goal is not None and self.goal.event is None:
            raise ValueError("goal.event: required (the conversion event)")
        return self

    def arms(self) -> list[str]:
        """Every arm exposures can name: the variants, and `holdout` when there is one."""
        return sorted(self.variants) + ([HOLDOUT] if self.holdout > 0 else [])

    def references(self) -> dict[str, set[str]]:
        """What the rules and the variants' placeholders name: `audiences`, `traits`,
        `computed` and `context` paths (what a preview shows, what the page may learn)."""
        out: dict[str, set[str]] = {"audiences": set(), "traits": set(), "computed": set(),
                                    "context": set()}  # fmt: skip
        for rule in self.rules:
            _refs(rule.when, out)
        for content in self.variants.values():
            for root, path in PLACEHOLDER.findall(orjson.dumps(content).decode()):
                key = path.split(".")[0] if root != "context" else path
                out[root].add(key)
        return out

    @property
    def control(self) -> str:
        """The arm the others are compared with: the holdout, else the default variant."""
        return HOLDOUT if self.holdout > 0 else self.default

    @property
    def experiment_id(self) -> str:
        """The experiment its exposures carry (docs/architecture.md)."""
        return f"decision:{self.name}"


def _refs(cond: When, out: dict[str, set[str]]) -> None:
    if isinstance(cond, AllOf | AnyOf):
        for c in cond.all if isinstance(cond, AllOf) else cond.any:
            _refs(c, out)
    elif isinstance(cond, Not):
        _refs(cond.cond, out)
    elif isinstance(cond, AudienceIs):
        out["audiences"].add(cond.audience)
    elif isinstance(cond, TraitIs):
        out["traits"].add(cond.trait)
    elif isinstance(cond, ComputedIs):
        out["computed"].add(cond.trait)
    else:
        out["context"].add(cond.path)


def _check_regex(cond: When, path: str) -> None:
    """A `regex` operand must compile (a request never meets a broken pattern)."""
    if isinstance(cond, AllOf | AnyOf):
        key = "all" if isinstance(cond, AllOf) else "any"
        for i, c in enumerate(cond.all if isinstance(cond, AllOf) else cond.any):
            _check_regex(c, f"{path}.{key}[{i}]")
    elif isinstance(cond, Not):
        _check_regex(cond.cond, f"{path}.cond")
    elif not isinstance(cond, AudienceIs) and cond.op == "regex":
        try:
            re.compile(str(cond.value))
        except re.error as exc:
            raise ValueError(f"{path}.value: not a regular expression: {exc}") from None


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "tagged-union")) or "[" in part:
            continue
        else:
            out += ("." if out else "") + part
    return out


def parse_decision(data: Decision | Mapping[str, Any], where: str = "") -> Decision:
    """Validate a decision; the error names each wrong path (`rules[0].variant: 'x' is not one
    of the variants`), after `where` when given (a file name)."""
    if isinstance(data, Decision):
        return data
    if not isinstance(data, Mapping):
        raise SpecError(f"{where or 'decision'}: must be a mapping with name, variants, default")
    try:
        return Decision.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            text = str(e["msg"]).removeprefix("Value error, ")
            path = _where(tuple(e["loc"]))
            if re.match(r"^[\w\[\].]+: ", text):  # a rule of the model that names its path
                problems.append(f"{path}.{text}" if path else text)
            else:
                problems.append(f"{path}: {text}" if path else text)
        message = "; ".join(dict.fromkeys(problems))
        raise SpecError(f"{where}: {message}" if where else message) from None
