"""The event catalogue against a known store, and did-you-mean on misspelt specs."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from touchpath import catalogue
from touchpath.analytics import registry
from touchpath.analytics.testing import journeys_for
from touchpath.errors import SpecError
from touchpath.store import Store
from touchpath.system import Touchpath

JOURNEYS = {
    "ann": [
        {"name": "Home", "timestamp": "2026-01-01T10:00:00"},
        {"event": "Product Viewed", "timestamp": "2026-01-01T10:01:00",
         "properties": {"sku": "A1", "price": 9.5, "qty": 1}},
        {"event": "Order Completed", "timestamp": "2026-01-01T10:05:00",
         "properties": {"revenue": 19, "coupon": None}},
    ],
    "bob": [
        {"name": "Home", "timestamp": "2026-01-02T09:00:00"},
        {"event": "Product Viewed", "timestamp": "2026-01-03T09:00:00",
         "properties": {"sku": 42, "price": 10, "tags": ["x"], "meta": {"a": 1}}},
        {"type": "identify", "timestamp": "2026-01-03T09:00:01",
         "traits": {"email": "bob@example.com", "vip": True}},
    ],
}  # fmt: skip


def _props(cur: object, event: str, type: str | None = None) -> dict[tuple[str, str], int]:
    return {
        (p.key, p.value_type): p.count
        for p in catalogue.properties(cur, event, type)  # type: ignore[arg-type]
    }


def test_catalogue_holds_every_event_key_type_count_and_time(tp: Touchpath) -> None:
    journeys_for(tp.store, JOURNEYS)
    tp.store.wait_idle()
    with tp.store.reading() as cur:
        evs = {(e.type, e.event): e for e in catalogue.events(cur)}
        assert {k: e.count for k, e in evs.items()} == {
            ("page", "Home"): 2,
            ("track", "Product Viewed"): 2,
            ("track", "Order Completed"): 1,
            ("identify", ""): 1,
        }
        pv = evs[("track", "Product Viewed")]
        assert pv.first_seen == datetime(2026, 1, 1, 10, 1)
        assert pv.last_seen == datetime(2026, 1, 3, 9, 0)
        assert pv.properties == 5  # sku, price, qty, tags, meta
        assert _props(cur, "Product Viewed") == {
            ("sku", "string"): 1, ("sku", "integer"): 1, ("price", "number"): 1,
            ("price", "integer"): 1, ("qty", "integer"): 1, ("tags", "array"): 1,
            ("meta", "object"): 1,
        }  # fmt: skip
        assert _props(cur, "Order Completed") == {("revenue", "integer"): 1, ("coupon", "null"): 1}
        assert _props(cur, "", "identify") == {("email", "string"): 1, ("vip", "boolean"): 1}
        # folded by the listener, not only read from the tail
        (upto,) = cur.execute("SELECT upto FROM catalogue_state").fetchone() or (0,)
        (top,) = cur.execute("SELECT max(seq) FROM events").fetchone() or (0,)
        assert upto == top
        (n,) = cur.execute("SELECT sum(count) FROM catalogue_events").fetchone() or (0,)
        assert n == 6


def test_a_store_without_the_catalogue_is_backfilled_when_opened(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with Store(db) as store:  # no listener: as a store from before the catalogue
        journeys_for(store, JOURNEYS)
        store.wait_idle()
        assert store.query("SELECT count(*) FROM catalogue_events") == [(0,)]
        with store.reading() as cur:  # a reader still sees everything (the unfolded tail)
            assert {e.event for e in catalogue.events(cur)} == {
                "Home", "Product Viewed", "Order Completed", "",
            }  # fmt: skip
    with Touchpath.open(db=db) as tp:
        tp.store.wait_idle()
        rows = tp.store.query("SELECT event, count FROM catalogue_events ORDER BY event")
        assert rows == [("", 1), ("Home", 2), ("Order Completed", 1), ("Product Viewed", 2)]
        tp.store.write_sync(catalogue.rebuild)
        again = tp.store.query("SELECT event, count FROM catalogue_events ORDER BY event")
        assert again == rows


def test_folding_in_chunks_gives_the_rows_of_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long backlog is folded a chunk of seqs at a time (bounded memory): every count, first
    and last seen must be those of one pass over the whole log."""
    from touchpath.catalogue import catalogue as cat

    tables = (
        "SELECT * FROM catalogue_events ORDER BY ALL",
        "SELECT * FROM catalogue_properties ORDER BY ALL",
    )
    with Store(tmp_path / "c.duckdb") as store:
        journeys_for(store, JOURNEYS)
        journeys_for(store, {"cy": JOURNEYS["bob"] + JOURNEYS["ann"]})
        store.wait_idle()
        got = {}
        for chunk in (1_000_000, 2, 1):
            monkeypatch.setattr(cat, "FOLD_CHUNK", chunk)
            assert store.write_sync(cat.rebuild) == 12
            got[chunk] = [store.query(q) for q in tables]
        assert got[2] == got[1_000_000] and got[1] == got[1_000_000]
        assert sum(n for *_, n, _f, _l in got[1][0]) == 12
        assert len(got[1][1]) == 11


@pytest.mark.parametrize(
    ("spec", "path", "hint"),
    [
        ({"kind": "funnel", "steps": [{"event": "Home"}, {"event": "Product Viewd"}]},
         "steps[1].event", "did you mean 'Product Viewed'?"),
        ({"kind": "funnel", "steps": [{"event": "product viewed"}, {"event": "Order Completed"}]},
         "steps[0].event", "did you mean 'Product Viewed'?"),
        ({"kind": "paths", "start": {"event": "Hoem"}}, "start.event", "did you mean 'Home'?"),
        ({"kind": "funnel", "steps": [{"event": "Product Viewed",
          "where": [{"property": "prise", "op": "gt", "value": 1}]}, {"event": "Order Completed"}]},
         "steps[0].where[0].property", "did you mean 'price'?"),
        ({"kind": "retention", "cohort_event": {"event": "Zzzzz"}}, "cohort_event.event",
         "the store has never seen it"),
    ],
)  # fmt: skip
def test_a_misspelt_name_is_an_error_naming_the_closest(
    tp: Touchpath, spec: dict[str, object], path: str, hint: str
) -> None:
    journeys_for(tp.store, JOURNEYS)
    with pytest.raises(SpecError) as err:
        registry.run(tp.store, spec)
    (problem,) = err.value.problems
    assert problem.path == path
    assert hint in problem.problem
    registry.run(tp.store, {**spec, "allow_unknown": True})  # the explicit flag allows it


def test_known_names_internal_events_and_empty_stores_pass(tp: Touchpath) -> None:
    empty = {"kind": "funnel", "steps": [{"event": "A"}, {"event": "B"}]}
    registry.run(tp.store, empty)  # nothing to compare with on an empty store
    journeys_for(tp.store, JOURNEYS)
    ok = {
        "kind": "funnel",
        "steps": [{"event": "Product Viewed", "where": [{"property": "price", "op": "gt",
                   "value": 1}, {"property": "channel", "value": "web"}]},
                  {"event": "Journey Entered"}],
    }  # fmt: skip
    registry.run(tp.store, ok)
    registry.run(tp.store, {"kind": "feedback"})  # defaults name surveys this store lacks
