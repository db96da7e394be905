"""Sentiment of free text, scored once at ingest with VADER (vaderSentiment, MIT, ships its lexicon).

`listen(store)` adds a commit listener: after each ingest commit it reads the text properties
(`TEXT_PROPERTIES`) of the new events in one query, scores each distinct text once and inserts
the scores into the `sentiment(seq, property, score, label)` table in one Arrow insert, in the
writer thread. `rescore(store)` backfills events that arrived while no listener was attached.
The label follows VADER's own thresholds on the compound score:

>>> label_of(0.6), label_of(-0.3), label_of(0.01)
('positive', 'negative', 'neutral')
>>> score_texts(["The support was slow and rude.", "Great service, thank you!"])[0] < 0
True
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import duckdb
import pyarrow as pa
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from touchpath.store import Store

__all__ = [
    "NEGATIVE_BELOW",
    "POSITIVE_FROM",
    "TEXT_PROPERTIES",
    "label_of",
    "listen",
    "rescore",
    "score_range",
    "score_texts",
    "unlisten",
]

log = logging.getLogger(__name__)

TEXT_PROPERTIES: tuple[str, ...] = ("comment", "text", "review", "feedback", "message", "body")
"""Event properties whose string values are scored (survey comments, reviews, ticket text)."""

POSITIVE_FROM = 0.05
NEGATIVE_BELOW = -0.05
"""VADER's recommended thresholds on the compound score (-1 .. 1)."""

_CHUNK = 200_000


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def label_of(score: float) -> str:
    """`positive`, `negative` or `neutral` for a compound score."""
    if score >= POSITIVE_FROM:
        return "positive"
    if score <= NEGATIVE_BELOW:
        return "negative"
    return "neutral"


def score_texts(texts: Sequence[str]) -> list[float]:
    """VADER compound scores, each distinct text scored once."""
    analyzer = _analyzer()
    cache: dict[str, float] = {}
    out = []
    for text in texts:
        score = cache.get(text)
        if score is None:
            score = float(analyzer.polarity_scores(text)["compound"])
            cache[text] = score
        out.append(score)
    return out


def _texts_sql(where: str) -> str:
    parts = [
        f"SELECT seq, '{p}' AS property, json_extract_string(properties, '$.\"{p}\"') AS text "
        f"FROM events WHERE {where} AND json_type(properties, '$.\"{p}\"') = 'VARCHAR'"
        for p in TEXT_PROPERTIES
    ]
    return " UNION ALL ".join(parts)


def _score_into(con: duckdb.DuckDBPyConnection, where: str, params: list[Any]) -> int:
    """Score the texts of events matching `where` and insert them; returns rows written."""
    sql = _texts_sql(where)
    rows = con.execute(
        f"SELECT seq, property, text FROM ({sql}) WHERE length(trim(text)) > 0 ORDER BY seq",
        params * len(TEXT_PROPERTIES),
    ).fetchall()
    if not rows:
        return 0
    scores = score_texts([r[2] for r in rows])
    table = pa.table(
        {
            "seq": pa.array([r[0] for r in rows], pa.int64()),
            "property": pa.array([r[1] for r in rows], pa.string()),
            "score": pa.array(scores, pa.float64()),
            "label": pa.array([label_of(s) for s in scores], pa.string()),
        }
    )
    con.register("sentiment_batch", table)
    try:
        con.execute("INSERT INTO sentiment SELECT seq, property, score, label FROM sentiment_batch")
    finally:
        con.unregister("sentiment_batch")
    return len(rows)


def score_range(con: duckdb.DuckDBPyConnection, first_seq: int, last_seq: int) -> int:
    """Score events with seq in [first_seq, last_seq] in one transaction of `con`'s own."""
    con.execute("BEGIN")
    try:
        n = _score_into(con, "seq BETWEEN ? AND ?", [first_seq, last_seq])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return n


def _listener(con: duckdb.DuckDBPyConnection, first_seq: int, last_seq: int) -> None:
    score_range(con, first_seq, last_seq)


def listen(store: Store) -> None:
    """Score the text of every event ingested into `store` from now on. Call once per store
    (the composition root, `touchpath.system`, does)."""
    store.add_commit_listener(_listener)


def unlisten(store: Store) -> None:
    """Stop scoring the events ingested into `store`."""
    store.remove_commit_listener(_listener)


def rescore(store: Store, *, full: bool = False) -> int:
    """Backfill: score events not scored yet (or, with `full`, every event again).

    Runs in the writer, in chunks of seq so memory stays bounded; returns texts scored.
    """

    def run(con: duckdb.DuckDBPyConnection) -> int:
        if full:
            con.execute("DELETE FROM sentiment")
        lo, hi = con.execute("SELECT min(seq), max(seq) FROM events").fetchone() or (None, None)
        if lo is None or hi is None:
            return 0
        done = 0
        for start in range(int(lo), int(hi) + 1, _CHUNK):
            done += _score_into(
                con,
                "seq BETWEEN ? AND ? AND seq NOT IN (SELECT seq FROM sentiment)",
                [start, start + _CHUNK - 1],
            )
        return done

    return store.write_sync(run)
