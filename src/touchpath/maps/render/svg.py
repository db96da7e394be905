"""The classic journey map as one SVG: stages as columns, lanes as rows, the real flow on top.

Lanes, top to bottom: stages (reach, conversion to the next stage), touchpoints (with the flow
between them), channels, actions and thoughts, the emotion curve, pain points, opportunities,
metrics (persona against everyone else) and, for a blueprint, its five lanes. The layout is
computed here in Python so the same picture serves HTML, PNG and PDF; the text is real SVG text,
so it stays searchable and sharp in print.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from touchpath.maps.bound import BoundMap, BoundStage, BoundTouchpoint

__all__ = ["render_svg"]

LABEL_W = 150
COL_W = 250
PAD = 12
TP_H = 50
TP_GAP = 10
FONT = "Helvetica, Arial, sans-serif"
CHANNEL_COLORS = {
    "web": "#4e79a7", "app": "#f28e2b", "email": "#59a14f", "sms": "#76b7b2", "push": "#edc948",
    "support": "#e15759", "store": "#b07aa1", "paid_search": "#ff9da7", "social": "#9c755f",
    "organic": "#bab0ac", "direct": "#86bcb6", "referral": "#d37295",
}  # fmt: skip
HIGHLIGHT = "#d62728"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def hours(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"


def num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def channel_color(name: str) -> str:
    return CHANNEL_COLORS.get(name, "#9e9e9e")


def wrap(text: str, width_px: float, size: float) -> list[str]:
    """Lines of `text` that fit `width_px` at font `size` (average glyph ≈ 0.55 em)."""
    chars = max(8, int(width_px / (size * 0.55)))
    return textwrap.wrap(text, chars) or [""]


def clip(text: str, width_px: float, size: float) -> str:
    chars = max(4, int(width_px / (size * 0.55)))
    return text if len(text) <= chars else text[: chars - 1] + "…"


@dataclass
class Canvas:
    """SVG elements and the y where the next lane starts."""

    width: int
    parts: list[str] = field(default_factory=list)
    y: float = 0

    def add(self, s: str) -> None:
        self.parts.append(s)

    def text(
        self,
        x: float,
        y: float,
        s: str,
        size: float = 11,
        weight: str = "normal",
        fill: str = "#222",
        anchor: str = "start",
        cls: str = "",
        style: str = "",
    ) -> None:
        c = f' class="{cls}"' if cls else ""
        st = f' font-style="{style}"' if style else ""
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'fill="{fill}" text-anchor="{anchor}"{st}{c}>{escape(s)}</text>'
        )

    def lines(self, x: float, y: float, lines: Iterable[str], size: float = 11, **kw: str) -> float:
        """Write lines downwards from y; returns the y below them."""
        for line in lines:
            self.text(x, y + size, line, size=size, **kw)
            y += size * 1.3
        return y


def col_x(i: int) -> float:
    return LABEL_W + i * COL_W


def _lane(c: Canvas, title: str, height: float, shade: bool) -> None:
    if shade:
        c.add(f'<rect x="0" y="{c.y:.1f}" width="{c.width}" height="{height:.1f}" fill="#f6f7f9"/>')
    c.add(
        f'<line x1="0" y1="{c.y:.1f}" x2="{c.width}" y2="{c.y:.1f}" stroke="#d0d4da" '
        'stroke-width="1"/>'
    )
    c.text(10, c.y + 18, title.upper(), size=11, weight="bold", fill="#555", cls="lane-label")


def _header(c: Canvas, bm: BoundMap) -> None:
    doc = bm.map
    c.text(16, 30, doc.heading, size=22, weight="bold", cls="map-title")
    persona = doc.persona.name + (
        f" (audience {doc.persona.audience})" if doc.persona.audience else ""
    )
    bits = [doc.type.replace("_", " "), f"persona: {persona}"]
    if doc.goal:
        bits.append(f"goal: {doc.goal.label()}")
    span = ""
    if bm.start or bm.end:
        s = bm.start.date().isoformat() if bm.start else "…"
        e = bm.end.date().isoformat() if bm.end else "…"
        span = f"{s} – {e}"
    if bm.persona_size:
        size = f"{bm.persona_size:,} people"
        if bm.others_size is not None:
            size += f" (everyone else {bm.others_size:,})"
        bits.append(size)
    if span:
        bits.append(span)
    c.text(16, 52, "  ·  ".join(bits), size=12, fill="#444", cls="map-subtitle")
    c.text(16, 70, bm.stage_reach, size=11, fill="#555", cls="map-definition")
    c.y = 80
    if bm.missing_events:
        names = ", ".join(f"“{e}”" for e in bm.missing_events)
        lines = wrap(
            f"This store has no events named {names}: the numbers below are 0 because the "
            "events are missing, not because nobody did it. Bind this map to a store that has "
            "them, or edit its touchpoints.",
            (c.width - 60) * 0.85,  # quotes and capitals run wider than the average glyph
            12,
        )
        c.add(
            f'<rect x="10" y="{c.y:.1f}" width="{c.width - 20}" height="{len(lines) * 16 + 10}" '
            'rx="4" fill="#fdecea" stroke="#a11d1d"/>'
        )
        c.lines(20, c.y + 3, lines, size=12, fill="#a11d1d", cls="missing-events")
        c.y += len(lines) * 16 + 18


def _stage_lane(c: Canvas, bm: BoundMap, marks: set[str]) -> None:
    h = 64.0
    _lane(c, "Stages", h, False)
    for i, st in enumerate(bm.stages):
        x, y = col_x(i) + 4, c.y + 6
        w = COL_W - 8
        tip = 14
        pts = f"{x},{y} {x + w - tip},{y} {x + w},{y + 26} {x + w - tip},{y + 52} {x},{y + 52}"
        if i:
            pts += f" {x + tip},{y + 26}"
        stroke = HIGHLIGHT if f"stage:{st.name}" in marks else "#2f4b7c"
        c.add(f'<polygon points="{pts}" fill="#2f4b7c" stroke="{stroke}" stroke-width="3"/>')
        c.text(x + 22, y + 20, clip(st.title, w - 40, 14), size=14, weight="bold", fill="#fff",
               cls="stage-label")  # fmt: skip
        m = st.persona
        line = f"reach {m.reach:,}"
        if m.share is not None:
            line += f" ({pct(m.share)})"
        if i < len(bm.stages) - 1 and m.to_next is not None:
            line += f" · next {pct(m.to_next)}"
        elif m.to_goal is not None:
            line += f" · goal {pct(m.to_goal)}"
        c.text(x + 22, y + 40, line, size=11, fill="#e8ecf4")
    c.y += h


def _tp_text(tp: BoundTouchpoint, w: float) -> tuple[list[str], list[str], list[str], str]:
    """A card's lines, wrapped to its width (never cut off): name, event, numbers; and the
    channel of its colour bar."""
    mix = tp.persona.channel_mix
    chan = tp.channel or (max(mix, key=mix.__getitem__) if mix else "")
    m = tp.persona
    stats = f"reach {m.reach:,}"
    if m.to_goal is not None:
        stats += f" · goal {pct(m.to_goal)}"
    if m.median_hours_to_next is not None:
        stats += f" · next {hours(m.median_hours_to_next)}"
    if tp.online_share is not None:
        stats += f" · {pct(tp.online_share)} also online"
    event = tp.event + ("" if tp.channel or not chan else f" · {chan}")
    return wrap(tp.name, w - 16, 12), wrap(event, w - 16, 10), wrap(stats, w - 16, 10), chan


def _tp_height(tp: BoundTouchpoint, w: float) -> float:
    name, event, stats, _ = _tp_text(tp, w)
    return 8 + 15 * len(name) + 13 * (len(event) + len(stats))


def _touchpoint_lane(c: Canvas, bm: BoundMap, marks: set[str]) -> None:
    w = COL_W - 2 * PAD - 20
    top = c.y
    boxes: dict[str, tuple[int, float, float, float, float]] = {}
    bottom = 0.0
    for i, st in enumerate(bm.stages):
        y = top + PAD
        for tp in st.touchpoints:
            h = _tp_height(tp, w)
            boxes[tp.name] = (i, col_x(i) + PAD, y, w, h)
            y += h + TP_GAP
        bottom = max(bottom, y - top)
    h = max(bottom, PAD + TP_H) + PAD + 14
    _lane(c, "Touchpoints", h, True)
    c.text(10, c.y + 34, "and the flow", size=10, fill="#777")
    # the flow, under the boxes: between touchpoints of different stages
    biggest = max((f.count for f in bm.flows), default=1)
    for f in sorted(bm.flows, key=lambda f: f.count):
        if f.source not in boxes or f.target not in boxes:
            continue
        si, sx, sy, sw, sh = boxes[f.source]
        ti, tx, ty, _tw, th = boxes[f.target]
        if si == ti:
            continue
        width = 1 + 9 * f.count / biggest
        if ti > si:
            x1, y1, x2, y2 = sx + sw, sy + sh / 2, tx, ty + th / 2
        else:  # a step back to an earlier stage: arc under the boxes
            x1, y1, x2, y2 = sx, sy + sh / 2, tx + _tw, ty + th / 2
        mid = (x1 + x2) / 2
        color = "#2f4b7c" if ti > si else "#e15759"
        c.add(
            f'<path class="flow" d="M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="{color}" stroke-opacity="0.28" '
            f'stroke-width="{width:.1f}"><title>{escape(f.source)} → {escape(f.target)}: '
            f"{f.count:,}</title></path>"
        )
    for st in bm.stages:
        for tp in st.touchpoints:
            _i, x, y, bw, bh = boxes[tp.name]
            _tp(c, tp, x, y, bw, bh, f"tp:{tp.name}" in marks)
    c.y += h


def _tp(c: Canvas, tp: BoundTouchpoint, x: float, y: float, w: float, h: float, mark: bool) -> None:
    name, event, stats, chan = _tp_text(tp, w)
    stroke = HIGHLIGHT if mark else "#9aa5b1"
    c.add(
        f'<rect class="touchpoint" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
        f'rx="6" fill="#fff" stroke="{stroke}" stroke-width="{3 if mark else 1}"/>'
    )
    c.add(
        f'<rect x="{x:.1f}" y="{y:.1f}" width="6" height="{h:.1f}" rx="3" '
        f'fill="{channel_color(chan) if chan else "#9aa5b1"}"/>'
    )
    yy = y + 4
    for line in name:
        c.text(x + 12, yy + 12, line, size=12, weight="bold", cls="tp-label")
        yy += 15
    for line in event:
        c.text(x + 12, yy + 10, line, size=10, fill="#555")
        yy += 13
    for line in stats:
        c.text(x + 12, yy + 10, line, size=10, fill="#333")
        yy += 13


def _channel_lane(c: Canvas, bm: BoundMap) -> None:
    mixes = [s.persona.channel_mix for s in bm.stages]
    if not any(mixes):
        return
    h = 44.0
    _lane(c, "Channels", h, False)
    for i, mix in enumerate(mixes):
        x, w = col_x(i) + PAD, COL_W - 2 * PAD
        y = c.y + 8
        for name, share in sorted(mix.items(), key=lambda kv: -kv[1]):
            sw = w * share
            c.add(
                f'<rect x="{x:.1f}" y="{y}" width="{sw:.1f}" height="14" '
                f'fill="{channel_color(name)}"><title>{escape(name)} {pct(share)}</title></rect>'
            )
            if sw > 42:
                c.text(x + 3, y + 11, clip(f"{name} {pct(share)}", sw - 4, 9), size=9, fill="#fff")
            x += sw
        top = sorted(mix.items(), key=lambda kv: -kv[1])[:3]
        c.text(col_x(i) + PAD, c.y + 36, ", ".join(f"{k} {pct(v)}" for k, v in top), size=10,
               fill="#444")  # fmt: skip
    c.y += h


def _text_lane(
    c: Canvas, title: str, per_stage: list[list[tuple[str, str]]], shade: bool, size: float = 10.5
) -> None:
    """A lane of short texts per stage; each item is (text, style: '', 'italic', 'bad', 'good')."""
    if not any(per_stage):
        return
    w = COL_W - 2 * PAD
    wrapped = [[(wrap(t, w - 10, size), st) for t, st in items] for items in per_stage]
    h = max(sum(len(ls) * size * 1.3 + 5 for ls, _ in items) for items in wrapped) + 2 * PAD
    h = max(h, 34)
    _lane(c, title, h, shade)
    for i, items in enumerate(wrapped):
        y = c.y + PAD - 2
        for ls, st in items:
            fill = {"bad": "#a11d1d", "good": "#1d6b35"}.get(st, "#222")
            c.text(col_x(i) + PAD, y + size, "•", size=size, fill=fill)
            y = c.lines(col_x(i) + PAD + 10, y, ls, size=size, fill=fill,
                        style="italic" if st == "italic" else "")  # fmt: skip
            y += 5
    c.y += h


def _emotion_lane(c: Canvas, bm: BoundMap) -> None:
    pts: list[tuple[float, float, str, str]] = []
    for i, st in enumerate(bm.stages):
        tps = st.touchpoints
        n = len(tps)
        for j, tp in enumerate(tps):
            if tp.emotion is None:
                continue
            x = col_x(i) + COL_W * (j + 1) / (n + 1)
            pts.append((x, tp.emotion, tp.name, tp.emotion_source or ""))
        if not any(t.emotion is not None for t in tps) and st.emotion is not None:
            pts.append((col_x(i) + COL_W / 2, st.emotion, st.title, st.emotion_source or ""))
    if not pts:
        return
    h = 120.0
    _lane(c, "Emotion", h, True)
    c.text(10, c.y + 34, "from feedback", size=10, fill="#777")
    top, bottom = c.y + 16, c.y + h - 16
    mid = (top + bottom) / 2

    def ypos(v: float) -> float:
        return mid - max(-1.0, min(1.0, v)) * (bottom - top) / 2

    c.add(
        f'<line x1="{LABEL_W}" y1="{mid:.1f}" x2="{c.width - 10}" y2="{mid:.1f}" '
        'stroke="#bbb" stroke-dasharray="4 4"/>'
    )
    c.text(LABEL_W - 6, top + 8, "☺", size=14, fill="#1d6b35", anchor="end")
    c.text(LABEL_W - 6, bottom, "☹", size=14, fill="#a11d1d", anchor="end")
    path = " ".join(f"{'M' if k == 0 else 'L'}{x:.1f},{ypos(v):.1f}" for k, (x, v, _, _) in
                    enumerate(pts))  # fmt: skip
    c.add(f'<path class="emotion" d="{path}" fill="none" stroke="#2f4b7c" stroke-width="2.5"/>')
    for x, v, name, source in pts:
        color = "#1d6b35" if v > 0.15 else "#a11d1d" if v < -0.15 else "#c49a00"
        dash = ' stroke-dasharray="2 2"' if source == "authored" else ""
        c.add(
            f'<circle cx="{x:.1f}" cy="{ypos(v):.1f}" r="5" fill="{color}" stroke="#fff"{dash}>'
            f"<title>{escape(name)}: {v:+.2f} ({source})</title></circle>"
        )
        label = f"{v:+.2f}".replace("-0.00", "0.00").replace("+0.00", "0.00")
        c.text(x, ypos(v) + (-9 if v >= 0 else 17), label, size=9, fill="#444", anchor="middle")
    c.y += h


def _metrics_lines(st: BoundStage, last: bool) -> list[tuple[str, str]]:
    p, o = st.persona, st.others
    out: list[tuple[str, str]] = []

    def vs(label: str, a: float | None, b: float | None, fmt: str = "pct") -> None:
        f = pct if fmt == "pct" else (lambda v: num(v, 1))
        text = f"{label} {f(a)}"
        if o is not None:
            text += f" (others {f(b)})"
        out.append((text, ""))

    if not last:
        vs("to next stage", p.to_next, o.to_next if o else None)
        out.append((f"median to next {hours(p.median_hours_to_next)}", ""))
    vs("to goal", p.to_goal, o.to_goal if o else None)
    if p.nps is not None or p.csat is not None:
        out.append((f"NPS {num(p.nps, 0)} · CSAT {num(p.csat, 2)} (n={p.feedback:,})", ""))
    if p.sentiment is not None:
        out.append((f"sentiment {p.sentiment:+.2f}", ""))
    return out


def render_svg(bm: BoundMap, marks: set[str] | None = None) -> str:
    """The map as a standalone SVG document. `marks` names elements to highlight (compare)."""
    marks = marks or set()
    n = len(bm.stages)
    c = Canvas(width=LABEL_W + n * COL_W + 10)
    _header(c, bm)
    lanes_top = c.y
    _stage_lane(c, bm, marks)
    _touchpoint_lane(c, bm, marks)
    _channel_lane(c, bm)
    doc_stages = {s.name: s for s in bm.map.stages}

    def authored(attr: str, style: str) -> list[list[tuple[str, str]]]:
        out = []
        for st in bm.stages:
            items: list[tuple[str, str]] = []
            ds = doc_stages.get(st.name)
            for tp in ds.touchpoints if ds else []:
                items += [(t, style) for t in getattr(tp, attr)]
            out.append(items)
        return out

    actions = authored("actions", "")
    thoughts = authored("thoughts", "italic")
    _text_lane(c, "Actions", [a + [(f"“{t}”", s) for t, s in th] for a, th in
                              zip(actions, thoughts, strict=True)], False)  # fmt: skip
    _emotion_lane(c, bm)
    pains: list[list[tuple[str, str]]] = []
    opps: list[list[tuple[str, str]]] = []
    for st, authored_pains, authored_opps in zip(
        bm.stages, authored("pain_points", "bad"), authored("opportunities", "good"), strict=True
    ):
        found = [(f"#{p.rank} {p.summary}", "bad") for p in bm.pain_points if p.stage == st.name]
        pains.append(found[:4] + authored_pains)
        data_opps = [(o.text, "good") for o in bm.opportunities if o.stage == st.name]
        opps.append(data_opps[:3] + authored_opps)
    _text_lane(c, "Pain points", pains, True)
    _text_lane(c, "Opportunities", opps, False)
    _text_lane(
        c, "Metrics", [_metrics_lines(s, k == n - 1) for k, s in enumerate(bm.stages)], True, 10
    )
    if bm.map.type == "blueprint":
        for lane in ("frontstage", "backstage", "people", "process", "technology"):
            items = []
            for st in bm.stages:
                ds = doc_stages.get(st.name)
                texts = [
                    x
                    for tp in (ds.touchpoints if ds else [])
                    if tp.lanes
                    for x in getattr(tp.lanes, lane)
                ]
                items.append([(x, "") for x in dict.fromkeys(texts)])
            _text_lane(c, lane, items, lane in ("backstage", "process"))
    for i in range(1, n):
        c.add(
            f'<line x1="{col_x(i)}" y1="{lanes_top:.0f}" x2="{col_x(i)}" y2="{c.y:.1f}" stroke="#e1e4e8"/>'
        )
    height = c.y + 10
    body = "\n".join(c.parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="journey-map" '
        f'viewBox="0 0 {c.width} {height:.0f}" width="{c.width}" height="{height:.0f}" '
        f'font-family="{FONT}">\n<rect width="100%" height="100%" fill="#fff"/>\n{body}\n</svg>\n'
    )
