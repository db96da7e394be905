"""Two bound maps side by side (current against future, this month against last), with the
differences marked: stages and touchpoints only in one, and numbers that moved."""

from __future__ import annotations

from dataclasses import dataclass

from touchpath.maps.bound import BoundMap, Metrics
from touchpath.maps.render.html import Panel, render_page
from touchpath.maps.render.svg import pct

__all__ = ["Difference", "compare_maps", "render_compare"]

MOVED = 0.05
"""A rate that moves by at least this much (5 points) is a difference."""


@dataclass(frozen=True)
class Difference:
    where: str
    what: str
    a: str
    b: str
    mark: str
    """The element it marks: `stage:<name>` or `tp:<name>`."""


def _rates(where: str, mark: str, a: Metrics, b: Metrics) -> list[Difference]:
    out = []
    for attr, label in (("to_next", "to next stage"), ("to_goal", "to goal"), ("share", "share")):
        va, vb = getattr(a, attr), getattr(b, attr)
        if va is not None and vb is not None and abs(va - vb) >= MOVED:
            out.append(Difference(where, label, pct(va), pct(vb), mark))
    return out


def compare_maps(a: BoundMap, b: BoundMap) -> list[Difference]:
    """What differs between two bound maps."""
    diffs: list[Difference] = []
    sa, sb = {s.name: s for s in a.stages}, {s.name: s for s in b.stages}
    for name in [*sa, *[n for n in sb if n not in sa]]:
        if name not in sb:
            diffs.append(Difference(name, "stage only in the first", "yes", "–", f"stage:{name}"))
            continue
        if name not in sa:
            diffs.append(Difference(name, "stage only in the second", "–", "yes", f"stage:{name}"))
            continue
        diffs += _rates(name, f"stage:{name}", sa[name].persona, sb[name].persona)
        ta = {t.name: t for t in sa[name].touchpoints}
        tb = {t.name: t for t in sb[name].touchpoints}
        for tname in [*ta, *[n for n in tb if n not in ta]]:
            where = f"{name} · {tname}"
            if tname not in tb:
                diffs.append(Difference(where, "touchpoint removed", "yes", "–", f"tp:{tname}"))
            elif tname not in ta:
                diffs.append(Difference(where, "touchpoint added", "–", "yes", f"tp:{tname}"))
            else:
                diffs += _rates(where, f"tp:{tname}", ta[tname].persona, tb[tname].persona)
    return diffs


def render_compare(a: BoundMap, b: BoundMap, labels: tuple[str, str] = ("A", "B")) -> str:
    """One HTML page: the two maps side by side, differences marked in both and listed."""
    diffs = compare_maps(a, b)
    marks = frozenset(d.mark for d in diffs)
    return render_page(
        [Panel(a, labels[0], marks), Panel(b, labels[1], marks)],
        title=f"{a.map.heading} · {labels[0]} against {labels[1]}",
        differences=diffs,
    )
