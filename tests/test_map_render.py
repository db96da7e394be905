"""Rendering: SVG and self-contained HTML; in Chromium offline, with no console errors, the labels
visible at 6 stages and 30 touchpoints; PNG size and text; PDF on A3 landscape."""

from __future__ import annotations

import io
import re
import struct
import zlib
from datetime import datetime
from typing import Any

import pytest

from touchpath.maps.bound import BoundMap, BoundStage, BoundTouchpoint, Flow, Metrics, PainPoint
from touchpath.maps.document import load_map
from touchpath.maps.render import render, render_html, render_svg
from touchpath.maps.render.browser import open_page

STAGES = ["awareness", "consideration", "decision", "experience", "retention", "advocacy"]
NOW = datetime(2026, 11, 23, 12, 0)


def big_map(per_stage: int = 5, kind: str = "current_state") -> BoundMap:
    """A bound map of 6 stages × `per_stage` touchpoints with made-up, distinct numbers."""
    doc = load_map(
        "name: big\ntitle: Six stages, thirty touchpoints\ntype: "
        + kind
        + "\nstages:\n"
        + "".join(
            f"  - name: {s}\n    touchpoints:\n"
            + "".join(
                f"      - name: {s[:4].title()} touchpoint {j}\n"
                f"        match: {{event: {s.title()} Event {j}, channel: web}}\n"
                f"        actions: [Does thing {j} in {s}]\n"
                f"        lanes: {{backstage: [Back office {s} {j}]}}\n"
                for j in range(per_stage)
            )
            for s in STAGES
        )
    )
    stages = []
    for i, st in enumerate(doc.stages):
        tps = [
            BoundTouchpoint(
                name=t.name, stage=st.name, event=t.match.label(), channel="web",
                persona=Metrics(reach=1000 - 100 * i - j, to_goal=0.5 - 0.05 * i,
                                median_hours_to_next=3.5 + j, channel_mix={"web": 0.7, "app": 0.3}),
                emotion=(-1) ** j * 0.2 * (i % 3), emotion_source="data",
            )
            for j, t in enumerate(st.touchpoints)
        ]  # fmt: skip
        stages.append(
            BoundStage(
                name=st.name, title=st.title, touchpoints=tps,
                persona=Metrics(reach=1000 - 100 * i, share=1 - 0.1 * i, to_next=0.8,
                                channel_mix={"web": 0.6, "app": 0.3, "email": 0.1}),
                others=Metrics(reach=500, to_next=0.7),
            )
        )  # fmt: skip
    flows = [
        Flow(source=a.name, target=b.name, count=100 - 10 * k)
        for k, (a, b) in enumerate(zip(stages[0].touchpoints, stages[1].touchpoints, strict=True))
    ]
    pains = [
        PainPoint(rank=1, kind="drop_off", stage="decision", touchpoint="Deci touchpoint 1",
                  score=0.4, summary="Decision loses 48% on app against 24% on web")
    ]  # fmt: skip
    return BoundMap(
        map=doc, bound_at=NOW, persona_size=1000, others_size=500, stages=stages, flows=flows,
        pain_points=pains,
    )  # fmt: skip


def test_svg_has_every_label_and_the_flow() -> None:
    bm = big_map()
    svg = render_svg(bm)
    assert svg.startswith("<svg") and svg.count('class="touchpoint"') == 30
    for st in bm.stages:
        assert f">{st.title}</text>" in svg
        for tp in st.touchpoints:
            assert f">{tp.name}</text>" in svg
    assert svg.count('class="flow"') == 5
    words = " ".join(re.findall(r">([^<]+)</text>", svg))
    assert "#1 Decision loses 48% on app against 24% on web" in words
    assert 'class="emotion"' in svg


def test_marks_highlight_elements() -> None:
    plain = render_svg(big_map())
    marked = render_svg(big_map(), {"tp:Deci touchpoint 1", "stage:decision"})
    assert plain.count("#d62728") == 0
    assert marked.count("#d62728") == 2


def test_blueprint_has_its_lanes() -> None:
    svg = render_svg(big_map(kind="blueprint"))
    for lane in ("FRONTSTAGE", "BACKSTAGE", "PEOPLE", "PROCESS", "TECHNOLOGY"):
        assert (f">{lane}</text>" in svg) == (lane == "BACKSTAGE")
    assert "Back office decision 3" in svg


def test_html_is_self_contained() -> None:
    html = render_html(big_map())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert "@page { size: A3 landscape" in html


@pytest.mark.browser
def test_html_in_chromium_offline_shows_every_label() -> None:
    bm = big_map()
    with open_page(render_html(bm), width=1600) as page:
        shown = page.evaluate(
            """() => [...document.querySelectorAll('#map text')].filter(t => {
                const r = t.getBoundingClientRect();
                return r.width > 0 && r.height >= 7 && r.left >= 0 && r.right <= innerWidth + 1;
            }).map(t => t.textContent)"""
        )
        boxes: list[dict[str, Any]] = page.evaluate(
            """() => [...document.querySelectorAll('text.tp-label')].map(t => {
                const r = t.getBoundingClientRect();
                return {x: r.left, y: r.top, w: r.width, h: r.height};
            })"""
        )
    for st in bm.stages:
        assert st.title in shown
        for tp in st.touchpoints:
            assert tp.name in shown
    assert len(boxes) == 30
    for a in range(len(boxes)):  # no two touchpoint labels overlap
        for b in range(a + 1, len(boxes)):
            p, q = boxes[a], boxes[b]
            assert (
                p["x"] + p["w"] <= q["x"] or q["x"] + q["w"] <= p["x"]
                or p["y"] + p["h"] <= q["y"] or q["y"] + q["h"] <= p["y"]
            ), (p, q)  # fmt: skip


def _png_info(png: bytes) -> tuple[int, int, dict[str, str]]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    text: dict[str, str] = {}
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, kind
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            text[key.decode()] = value.decode("latin-1")
        pos += 12 + length
    return width, height, text


@pytest.mark.browser
def test_png_size_and_text() -> None:
    bm = big_map()
    png = render(bm, "png")
    width, height, text = _png_info(png)
    # the map is 1660 CSS px wide drawn at 1.5 device px each: print quality on A3
    assert 2300 <= width <= 2600, width
    assert 0.45 < height / width < 0.75, (width, height)
    assert text["Title"] == "Six stages, thirty touchpoints"
    assert text["Description"] == "Stages: " + ", ".join(s.title for s in bm.stages)
    assert len(png) > 100_000


@pytest.mark.browser
def test_pdf_is_a3_landscape_with_the_labels() -> None:
    from pypdf import PdfReader

    bm = big_map()
    reader = PdfReader(io.BytesIO(render(bm, "pdf")))
    first = reader.pages[0]
    w, h = float(first.mediabox.width), float(first.mediabox.height)
    assert (round(w), round(h)) == (1191, 842)  # A3 landscape in points
    text = first.extract_text()
    for st in bm.stages:
        assert st.title in text
    assert "Deci touchpoint 1" in text
