"""A journey map bound for two arms of an experiment, side by side (issue #17, item 5).

Each arm's people, as the experiment counts them (their first exposure, people seen in two arms
left out), are saved as the static audience `experiment <name> <arm>`
(`touchpath.analytics.experiments.saved.save_arm_audiences`); the map is then bound once per arm
with that audience as its persona, so every stage and touchpoint carries the arm's reach,
conversion, drop-off and times, and `touchpath.maps.compare` marks what differs, as it does for
two versions of a map. A map whose persona has an audience of its own is bound for the arm's
people instead (the arms are the comparison).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from touchpath.analytics.experiments.saved import (
    arm_audience,
    get_experiment,
    save_arm_audiences,
)
from touchpath.errors import BadRequest
from touchpath.maps.bind import bind_map
from touchpath.maps.bound import BoundMap
from touchpath.maps.compare import Difference, compare_maps
from touchpath.maps.document import JourneyMap
from touchpath.store import Store

__all__ = ["ArmMaps", "bind_arms", "for_arm", "pick_arms"]


@dataclass(frozen=True)
class ArmMaps:
    """One map bound for two arms of an experiment, and what differs between them."""

    experiment: str
    arms: tuple[str, str]
    sizes: tuple[int, int]
    """People in each arm (the audiences' sizes)."""
    a: BoundMap
    b: BoundMap
    differences: list[Difference]


def pick_arms(found: list[str], control: str | None, arms: list[str] | None) -> tuple[str, str]:
    """The two arms to compare: `arms` when given (checked against those `found`), else the
    control (or the first arm) against the first other arm.

    >>> pick_arms(["holdout", "sms"], "holdout", None)
    ('holdout', 'sms')
    >>> pick_arms(["a", "b", "c"], None, ["c", "a"])
    ('c', 'a')
    >>> pick_arms(["a", "b"], None, ["a", "x"])
    Traceback (most recent call last):
    ...
    touchpath.errors.BadRequest: arms[1]: no arm 'x' in the experiment (arms: a, b)
    """
    if arms is not None:
        if len(arms) != 2:
            raise BadRequest(f"arms: two arms to compare, not {len(arms)}")
        for i, arm in enumerate(arms):
            if arm not in found:
                raise BadRequest(
                    f"arms[{i}]: no arm {arm!r} in the experiment (arms: {', '.join(found)})"
                )
        return arms[0], arms[1]
    if len(found) < 2:
        have = ", ".join(found) or "none"
        raise BadRequest(f"experiment: two arms with people are needed to compare (arms: {have})")
    first = control if control in found else found[0]
    return first, next(a for a in found if a != first)


def for_arm(doc: JourneyMap, experiment: str, arm: str) -> JourneyMap:
    """`doc` with the arm's people as its persona."""
    persona = doc.persona.model_copy(
        update={"name": f"{doc.persona.name} · {arm}", "audience": arm_audience(experiment, arm)}
    )
    return doc.model_copy(update={"persona": persona})


def bind_arms(
    store: Store,
    doc: JourneyMap,
    experiment: str,
    arms: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> ArmMaps:
    """Bind `doc` for two arms of saved experiment `experiment` (refreshing its arm audiences)
    and compare them touchpoint by touchpoint."""
    spec = get_experiment(store, experiment).spec
    sizes = save_arm_audiences(store, experiment)
    found = sorted(arm for arm, n in sizes.items() if n)
    a, b = pick_arms(found, spec.control, arms)
    ba = bind_map(store, for_arm(doc, experiment, a), start, end)
    bb = bind_map(store, for_arm(doc, experiment, b), start, end)
    return ArmMaps(experiment, (a, b), (sizes[a], sizes[b]), ba, bb, compare_maps(ba, bb))
