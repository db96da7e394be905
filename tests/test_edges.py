"""Known answers at every boundary the docs state, one value on each side of it: NPS 6/7 and 8/9,
the CSAT and CES scales, an identity limit inside and outside its window ("5 per 7 days"), a
funnel's window on the event log and on the sorted journey copy, and the dedupe window.

Each test fails under the one-character bug at its boundary (`score < 6` for detractors, a
limit that ignores its window, an exclusive funnel window, `>` for `>=` at the dedupe cutoff)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from identity_helpers import ingest, msg, profile_of
from touchpath.analytics import journey, registry
from touchpath.analytics.feedback import FeedbackResult, FeedbackSpec
from touchpath.analytics.funnels import FunnelResult, FunnelSpec
from touchpath.analytics.testing import journeys_for
from touchpath.events.message import stage_messages
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

T0 = datetime(2026, 10, 1, 12)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


# ------------------------------------------------------------------------------ feedback scales
def _answers(store: Store, event: str, scores: list[int]) -> FeedbackResult:
    journeys_for(
        store,
        {f"p{event[:3]}{i}": [{"event": event, "timestamp": _at(i), "properties": {"score": s}}]
         for i, s in enumerate(scores)},
    )  # fmt: skip
    result: FeedbackResult = registry.run(store, FeedbackSpec(phrases=0))  # type: ignore[assignment]
    return result


@pytest.mark.parametrize(
    ("score", "nps"),
    [(0, -100), (6, -100), (7, 0), (8, 0), (9, 100), (10, 100)],
)
def test_nps_detractors_to_6_passives_7_and_8_promoters_from_9(
    store: Store, score: int, nps: float
) -> None:
    row = _answers(store, "NPS Survey Completed", [score]).overall
    assert (row.nps, row.nps_responses) == (nps, 1)


def test_nps_of_one_answer_on_each_side_of_both_edges(store: Store) -> None:
    """6, 7, 8, 9: one detractor, two passives, one promoter: NPS 0; with 6 as passive it
    would be +25, with 9 as passive -25."""
    row = _answers(store, "NPS Survey Completed", [6, 7, 8, 9, 6]).overall
    assert row.nps == pytest.approx(100 * (1 - 2) / 5)


@pytest.mark.parametrize(("score", "satisfied"), [(1, 0.0), (3, 0.0), (4, 100.0), (5, 100.0)])
def test_csat_satisfied_from_4_on_the_1_to_5_scale(
    store: Store, score: int, satisfied: float
) -> None:
    row = _answers(store, "CSAT Survey Completed", [score]).overall
    assert (row.csat, row.csat_avg) == (satisfied, score)


@pytest.mark.parametrize(("score", "easy"), [(1, 0.0), (4, 0.0), (5, 100.0), (7, 100.0)])
def test_ces_easy_from_5_on_the_1_to_7_scale(store: Store, score: int, easy: float) -> None:
    row = _answers(store, "CES Survey Completed", [score]).overall
    assert (row.ces_easy, row.ces_avg) == (easy, score)


# ------------------------------------------------------------------------------ identity limits
WEEK_MIN = 7 * 24 * 60


def test_anonymous_ids_5_per_7_days_inside_and_outside_the_window(tp: Touchpath) -> None:
    """u1 and u2 each link 5 anonymous ids at once; a sixth comes exactly 7 days later for u1
    (inside the window: the five still count, it is dropped) and a minute after that for u2
    (outside: the five have aged out, it joins)."""
    store = tp.store
    base = -3 * WEEK_MIN  # minutes from identity_helpers.T0, safely in the past
    first = [
        msg("identify", base, userId=u, anonymousId=f"{u}-a{i}")
        for u in ("u1", "u2")
        for i in range(5)
    ]
    ingest(store, first)
    ingest(store, [msg("identify", base + WEEK_MIN, userId="u1", anonymousId="u1-a5")])
    ingest(store, [msg("identify", base + WEEK_MIN + 1, userId="u2", anonymousId="u2-a5")])
    u1, u2 = profile_of(store, "user_id", "u1"), profile_of(store, "user_id", "u2")
    assert all(profile_of(store, "anonymous_id", f"u1-a{i}") == u1 for i in range(5))
    assert profile_of(store, "anonymous_id", "u1-a5") != u1  # inside: a sixth within 7 days
    assert profile_of(store, "anonymous_id", "u2-a5") == u2  # outside: 7 days and a minute
    drops = store.query("SELECT kind, value FROM identity_drops")
    assert ("anonymous_id", "u1-a5") in drops and ("anonymous_id", "u2-a5") not in drops


# ------------------------------------------------------------------------------ funnel windows
def _edge_people(store: Store, tie: bool = True) -> None:
    """`in`: the second step exactly one window (1 h) after the first; `out`: a second later;
    `tie`: both at the same time (the copy is not read with ties across steps)."""
    people = {
        "in": [{"event": "A", "timestamp": _at(0)}, {"event": "B", "timestamp": _at(3600)}],
        "out": [{"event": "A", "timestamp": _at(0)}, {"event": "B", "timestamp": _at(3601)}],
        "early": [{"event": "A", "timestamp": _at(0)}, {"event": "B", "timestamp": _at(1)}],
    }
    if tie:
        people["tie"] = [{"event": "A", "timestamp": _at(0)}, {"event": "B", "timestamp": _at(0)}]
    journeys_for(store, people)


def _funnel(store: Store) -> FunnelResult:
    spec = FunnelSpec(steps=({"event": "A"}, {"event": "B"}), window="1h")
    result: FunnelResult = registry.run(store, spec)  # type: ignore[assignment]
    return result


def test_funnel_window_is_inclusive_on_the_log(store: Store) -> None:
    _edge_people(store)
    result = _funnel(store)
    assert result.source == "log"
    assert [s.count for s in result.overall.steps] == [4, 3]  # in, early and tie; not out


def test_funnel_window_is_inclusive_on_the_sorted_copy(store: Store) -> None:
    _edge_people(store, tie=False)
    journey.optimize(store)
    result = _funnel(store)
    assert result.source == "copy"
    assert [s.count for s in result.overall.steps] == [3, 2]  # in and early; not out


# ------------------------------------------------------------------------------ dedupe window
def test_dedupe_window_edges(tmp_path: Path) -> None:
    """A repeat of a (source, messageId) received a minute inside the 24 h window is dropped,
    one received a minute outside it is kept; after a restart, which loads the window from the
    log, as before it."""
    settings = Settings(db=tmp_path / "d.duckdb")
    now = datetime.now(UTC).replace(tzinfo=None)
    window = timedelta(hours=settings.dedupe_window_hours)

    def send(store: Store, message_id: str, received: datetime) -> int:
        raw = json.dumps(
            {"type": "track", "event": "E", "userId": "u", "messageId": message_id}
        ).encode()
        return (
            store.ingest(stage_messages([raw], source="s", received_at=received))
            .result()
            .duplicates
        )

    with Store(settings.db, settings) as store:
        assert send(store, "inside", now - window + timedelta(minutes=1)) == 0
        assert send(store, "outside", now - window - timedelta(minutes=1)) == 0
    with Store(settings.db, settings) as store:  # the window, loaded from the log
        assert send(store, "inside", now) == 1
        assert send(store, "outside", now) == 0
