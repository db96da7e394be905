"""Choosing a decision's variant for one person: holdout, rules in order, split by hash, default.

Assignment is deterministic: a person's place in the holdout and in each rule's split is a
hash of the decision's seed, the rule and the person's unit (their profile id; for someone not
yet seen, the id the identity graph will give them), so every identifier of one person, every
process and every call gives the same arm.

>>> from touchpath.personalize.spec import Decision
>>> d = Decision(name="d", variants={"a": {}, "b": {}}, default="a", holdout=0.5)
>>> bucket("d", "holdout", "p_1") == bucket("d", "holdout", "p_1")
True
>>> choose(d, 1, Facts({}, {}, frozenset(), None, {}), "p_1").arm in ("a", "holdout")
True
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from touchpath.personalize.conditions import Facts, path_value, test, text_of
from touchpath.personalize.spec import HOLDOUT, PLACEHOLDER, Decision

__all__ = ["Facts", "Outcome", "RuleTrace", "bucket", "choose", "has_placeholders", "render"]


@dataclass(frozen=True)
class RuleTrace:
    """How one rule went for the person (previews)."""

    rule: str
    matched: bool


@dataclass(frozen=True)
class Outcome:
    """The answer of one decision for one person: the variant served, the arm its exposure
    records (the variant, or `holdout`), the rule that chose it (None: the default or the
    holdout) and the content, placeholders filled in."""

    decision: str
    version: int
    variant: str
    arm: str
    rule: str | None
    content: dict[str, Any]
    trace: list[RuleTrace] = field(default_factory=list)


def bucket(seed: str, salt: str, unit: str) -> float:
    """A number in [0, 1) fixed by (seed, salt, unit): the person's place in a split."""
    digest = hashlib.blake2b(f"{seed}\x1f{salt}\x1f{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _pick(split: Mapping[str, float], u: float) -> str:
    arms = sorted(split)  # stored specs sort their keys: the order must not depend on input
    total = sum(split[a] for a in arms)
    acc = 0.0
    for arm in arms:
        acc += split[arm] / total
        if u < acc:
            return arm
    return arms[-1]


def choose(
    decision: Decision,
    version: int,
    facts: Facts,
    unit: str,
    trace: bool = False,
    templated: Collection[str] | None = None,
) -> Outcome:
    """The variant of `decision` for the person `unit` with these facts. `templated` names the
    variants with placeholders when the caller knows them (else they are looked for)."""
    seed = decision.seed or decision.name
    variant, arm, rule_name = decision.default, decision.default, None
    traces: list[RuleTrace] = []
    if decision.holdout > 0 and bucket(seed, HOLDOUT, unit) < decision.holdout:
        arm = HOLDOUT
        if trace:
            traces = [RuleTrace(r.name, False) for r in decision.rules]
    else:
        for rule in decision.rules:
            matched = test(rule.when, facts)
            if trace:
                traces.append(RuleTrace(rule.name, matched))
            if not matched:
                continue
            if rule_name is None:
                rule_name = rule.name
                if rule.variant is not None:
                    variant = rule.variant
                else:
                    variant = _pick(rule.split or {}, bucket(seed, rule.name, unit))
                arm = variant
                if not trace:
                    break
    content = decision.variants[variant]
    if variant in templated if templated is not None else has_placeholders(decision, variant):
        content = render(content, facts)
    return Outcome(decision.name, version, variant, arm, rule_name, content, traces)


def has_placeholders(decision: Decision, variant: str) -> bool:
    """Whether a variant's strings name values (a fast path for those that do not)."""
    return b"{{" in orjson.dumps(decision.variants[variant])


def _value(root: str, path: str, facts: Facts) -> Any:
    if root == "traits":
        return path_value(facts.traits, path)
    if root == "computed":
        return path_value(facts.computed, path)
    return path_value(facts.context, path)


def _fill(text: str, facts: Facts) -> Any:
    whole = PLACEHOLDER.fullmatch(text)
    if whole is not None:  # the string is one placeholder: the value itself, typed
        return _value(whole.group(1), whole.group(2), facts)
    return PLACEHOLDER.sub(lambda m: text_of(_value(m.group(1), m.group(2), facts)) or "", text)


def render(content: Any, facts: Facts) -> Any:
    """The content with `{{ traits.x }}`, `{{ computed.x }}` and `{{ context.x }}` filled in
    (a missing value is empty text, or null where the string was only the placeholder).

    >>> f = Facts({"name": "Ann"}, {"n": 3}, frozenset(), {"page": {"path": "/c/tents"}}, {})
    >>> render({"t": "Hi {{ traits.name }}", "n": "{{computed.n}}", "p": ["{{ context.page.path }}"]}, f)
    {'t': 'Hi Ann', 'n': 3, 'p': ['/c/tents']}
    """
    if isinstance(content, str):
        return _fill(content, facts) if "{{" in content else content
    if isinstance(content, dict):
        return {k: render(v, facts) for k, v in content.items()}
    if isinstance(content, list):
        return [render(v, facts) for v in content]
    return copy.copy(content)
