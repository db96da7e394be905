"""The BPIC 2012 loan-application map bound on the real log (../shared/data), its numbers checked
against the analytics funnel for the same steps and against the log's README."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from touchpath.analytics import api
from touchpath.analytics.funnels import FunnelSpec
from touchpath.collect.importers import import_file
from touchpath.maps.bind import bind_map, reach_step
from touchpath.maps.library import example
from touchpath.store import Store


@pytest.mark.slow
def test_bpic2012_loan_map(store: Store, data_dir: Path) -> None:
    report = import_file(store, data_dir / "bpic2012-loan-applications" / "bpic2012_events.csv.gz")
    assert report.imported == 262_200
    doc = example("bpic2012-loan-application")
    assert doc.goal is not None
    bm = bind_map(store, doc)
    # The README: 13,087 applications (one case each), 2,246 approved.
    assert bm.persona_size == 13_087
    assert bm.touchpoint("Application submitted").persona.reach == 13_087
    assert bm.touchpoint("Approved").persona.reach == 2_246
    window = doc.window
    for name in ("Application submitted", "Offer sent", "Incomplete file call", "Declined"):
        tp = next(t for _, t in doc.touchpoints() if t.name == name)
        want = api.funnel(
            store, FunnelSpec(steps=(tp.match.model_dump(), doc.goal.model_dump()), window=window)
        ).overall
        got = bm.touchpoint(name).persona
        assert got.reach == want.entered, name
        assert got.to_goal == pytest.approx(want.conversion), name
    # a stage's reach: this stage or a later one (`reach_step`); next: the next or a later one
    for i, (here, _there) in enumerate(itertools.pairwise(doc.stages)):
        steps = (reach_step(doc.stages, i), reach_step(doc.stages, i + 1))
        want = api.funnel(store, FunnelSpec(steps=steps, window=window)).overall
        got = bm.stage(here.name).persona
        assert got.reach == want.entered, here.name
        assert got.to_next == pytest.approx(want.conversion), here.name
        assert got.drop_off == pytest.approx(1 - want.conversion), here.name
    # Everyone applies; about one in six is approved within 90 days.
    assert bm.goal_reach is not None and 0.1 < bm.goal_reach / 13_087 < 0.2
