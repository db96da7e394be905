"""Feedback: NPS, CSAT, CES and sentiment per touchpoint and stage; negative phrases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from touchpath.analytics.api import feedback
from touchpath.analytics.discovery import Stage
from touchpath.analytics.feedback import FeedbackResult, FeedbackSpec
from touchpath.analytics.testing import journeys_for
from touchpath.cli import app
from touchpath.store import Store
from touchpath.system import Touchpath


def answer(event: str, at: str, **props: Any) -> dict[str, Any]:
    return {"event": event, "timestamp": f"2026-04-01T{at}:00", "properties": props}


SLOW = "Terrible support, waited for days without a reply."
AWFUL = "Awful, terrible support and waited for days."

PEOPLE = {
    "c1": [answer("Product Viewed", "10:00"),
           answer("CSAT Survey Completed", "10:05", score=5, touchpoint="checkout",
                  comment="Great and easy checkout, love it!")],
    "c2": [answer("Ticket Created", "09:00"),
           answer("CSAT Survey Completed", "12:00", score=2, touchpoint="support", comment=SLOW),
           answer("NPS Survey Completed", "12:01", score=3, comment="Terrible, awful service.")],
    "c3": [answer("Ticket Created", "09:00"),
           answer("CSAT Survey Completed", "12:00", score=1, touchpoint="support", comment=AWFUL),
           answer("NPS Survey Completed", "12:01", score=10, comment="Love the products.")],
    "c4": [answer("NPS Survey Completed", "08:00", score=8),
           answer("Review Submitted", "08:30", rating=2, text="Poor fit and not worth the price, bad.")],
    "c5": [answer("CES Survey Completed", "08:00", score=6, touchpoint="returns"),
           answer("CES Survey Completed", "09:00", score=3, touchpoint="returns")],
}  # fmt: skip

STAGES = (
    Stage(name="browse", events=("Product Viewed",)),
    Stage(name="support", events=("Ticket Created",)),
)


@pytest.fixture
def result(tp: Touchpath) -> FeedbackResult:
    store = tp.store  # texts are scored as they commit
    journeys_for(store, PEOPLE)
    store.wait_idle()
    return feedback(store, FeedbackSpec(stages=STAGES))


def rows(result: FeedbackResult, group: str) -> dict[str, dict[str, Any]]:
    return {r.name: r.model_dump() for r in getattr(result, group)}


def test_scores_per_touchpoint(result: FeedbackResult) -> None:
    tps = rows(result, "touchpoints")
    assert set(tps) == {
        "checkout",
        "support",
        "NPS Survey Completed",
        "Review Submitted",
        "returns",
    }
    assert (tps["support"]["csat"], tps["support"]["csat_avg"]) == (0.0, 1.5)
    assert (tps["checkout"]["csat"], tps["checkout"]["csat_avg"]) == (100.0, 5.0)
    nps = tps["NPS Survey Completed"]
    assert (nps["nps"], nps["nps_responses"]) == (
        0.0,
        3,
    )  # one promoter, one detractor, one passive
    assert (tps["returns"]["ces_avg"], tps["returns"]["ces_easy"]) == (4.5, 50.0)
    review = tps["Review Submitted"]
    assert (review["rating_avg"], review["negative_share"], review["csat"]) == (2.0, 1.0, None)
    assert tps["support"]["negative_share"] == 1.0 and tps["checkout"]["negative_share"] == 0.0
    assert tps["support"]["sentiment_avg"] < 0 < tps["checkout"]["sentiment_avg"]


def test_overall_and_per_stage(result: FeedbackResult) -> None:
    overall = result.overall
    assert (overall.responses, overall.nps, overall.csat_responses) == (9, 0.0, 3)
    assert overall.csat == pytest.approx(33.3333, abs=1e-3)
    assert overall.texts == 6
    stages = rows(result, "stages")
    assert {k: v["responses"] for k, v in stages.items()} == {
        "support": 4,
        "browse": 1,
        "(none)": 4,
    }
    assert (stages["support"]["csat"], stages["support"]["nps"]) == (0.0, 0.0)
    assert stages["browse"]["csat"] == 100.0


def test_negative_phrases_per_touchpoint(result: FeedbackResult) -> None:
    support = [(p.phrase, p.count) for p in result.negative_phrases["support"]]
    assert support == [("waited for days", 2), ("terrible support", 2)]
    assert "checkout" not in result.negative_phrases  # nothing negative said there
    assert "NPS Survey Completed" not in result.negative_phrases  # one text is no pattern


def test_no_feedback_gives_an_empty_result(store: Store) -> None:
    journeys_for(store, {"x": [answer("Product Viewed", "10:00")]})
    empty = feedback(store, FeedbackSpec())
    assert empty.overall.responses == 0 and empty.touchpoints == [] and empty.negative_phrases == {}


def test_rest_cli_and_rescore(server: Any) -> None:
    journeys_for(server.store, PEOPLE)  # the app attached the scorer when it started
    server.store.wait_idle()
    r = httpx.post(f"{server.url}/api/analyses/feedback", headers=server.auth, json={"phrases": 1})
    assert r.status_code == 200, r.text
    assert r.json()["negative_phrases"]["support"] == [{"phrase": "waited for days", "count": 2}]
    bad = httpx.post(
        f"{server.url}/api/analyses/feedback", headers=server.auth, json={"phrases": -1}
    )
    assert bad.status_code == 400 and bad.json()["error"]["message"].startswith("phrases:")
    db = ["--db", str(server.store.path)]
    out = CliRunner().invoke(app, ["feedback", *db, "--stage", "support=Ticket Created"])
    assert out.exit_code == 0, out.output
    assert "Feedback per stage" in out.output and "waited for days" in out.output
    out = CliRunner().invoke(app, ["feedback", "rescore", *db])
    assert out.exit_code == 0 and "scored 0 texts" in out.output  # all scored at ingest
    out = CliRunner().invoke(app, ["feedback", "rescore", *db, "--full"])
    assert out.exit_code == 0 and "scored 6 texts" in out.output
