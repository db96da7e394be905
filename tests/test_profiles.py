"""Profiles: traits latest by event time, computed traits, consent history, REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from identity_helpers import ingest, msg, profile_of
from touchpath.identity import IdentityRules
from touchpath.profiles import rebuild, traits
from touchpath.profiles.lookup import show
from touchpath.profiles.specs import ComputedTrait, parse_spec
from touchpath.profiles.traits import define_computed
from touchpath.profiles.unify import memory_limit
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.store.store import utcnow
from touchpath.system import Touchpath


@pytest.fixture
def ustore(tp: Touchpath) -> Store:
    return tp.store


def orders(uid: str, *amounts: float, start: int = 10) -> list[dict]:
    return [
        msg(
            "track",
            start + i,
            userId=uid,
            event="Order Completed",
            properties={"revenue": a, "category": "shoes" if a > 50 else "socks"},
        )
        for i, a in enumerate(amounts)
    ]


def test_traits_are_latest_by_event_time_and_survive_merges(ustore: Store) -> None:
    ingest(
        ustore,
        [
            msg("identify", 5, anonymousId="a1", traits={"plan": "pro", "city": "Oslo"}),
            msg("identify", 1, anonymousId="a1", traits={"plan": "free"}),
        ],
    )  # older, late
    ingest(
        ustore,
        [
            msg("identify", 3, userId="u1", traits={"city": "Bergen"}),
            msg("identify", 4, userId="u1", anonymousId="a1"),
        ],
    )
    p = show(ustore, "u1")
    assert p["traits"]["plan"] == "pro"
    assert p["traits"]["city"] == "Oslo"  # minute 5 beats minute 3 after the merge
    assert profile_of(ustore, "anonymous_id", "a1") == p["profile_id"]


def test_computed_traits_are_kept_current(ustore: Store) -> None:
    specs = [
        {"name": "orders", "op": "count", "event": {"event": "Order Completed"}},
        {
            "name": "revenue",
            "op": "sum",
            "event": {"event": "Order Completed"},
            "property": "revenue",
        },
        {
            "name": "avg_rev",
            "op": "avg",
            "event": {"event": "Order Completed"},
            "property": "revenue",
        },
        {
            "name": "top_cat",
            "op": "most_frequent",
            "event": {"event": "Order Completed"},
            "property": "category",
        },
        {
            "name": "first_cat",
            "op": "first",
            "event": {"event": "Order Completed"},
            "property": "category",
        },
        {
            "name": "cats",
            "op": "unique_list",
            "event": {"event": "Order Completed"},
            "property": "category",
        },
        {
            "name": "big",
            "op": "count",
            "within_days": 30,
            "event": {
                "event": "Order Completed",
                "where": [{"property": "revenue", "op": "gt", "value": 50}],
            },
        },
    ]
    for s in specs:
        trait = parse_spec(ComputedTrait, s, "t")
        ustore.write_sync(lambda con, t=trait: define_computed(con, t, utcnow()))
    ingest(ustore, orders("u1", 10, 80, 20))
    c = show(ustore, "u1")["computed_traits"]
    assert c == {
        "orders": 3,
        "revenue": 110.0,
        "avg_rev": pytest.approx(110 / 3),
        "top_cat": "socks",
        "first_cat": "socks",
        "cats": ["shoes", "socks"],
        "big": 1,
    }
    ingest(ustore, orders("u1", 90, 95, start=20))
    c = show(ustore, "u1")["computed_traits"]
    assert (c["orders"], c["top_cat"], c["big"]) == (5, "shoes", 3)


def test_consent_is_kept_with_its_history(ustore: Store) -> None:
    def consent(minute: int, ads: bool) -> dict:
        return msg(
            "track",
            minute,
            userId="u1",
            context={"consent": {"categoryPreferences": {"Advertising": ads, "Analytics": True}}},
        )

    ingest(ustore, [consent(1, True), consent(2, True), consent(3, False)])
    p = show(ustore, "u1")
    assert p["consent"] == {"Advertising": False, "Analytics": True}
    assert [h["preferences"]["Advertising"] for h in p["consent_history"]] == [True, False]
    # Without consent (the web app's person page, which does not show it): the rest is the same.
    bare = show(ustore, "u1", consent=False)
    assert "consent" not in bare and "consent_history" not in bare
    assert bare == {k: v for k, v in p.items() if k not in ("consent", "consent_history")}


def test_rest_api(server) -> None:  # type: ignore[no-untyped-def]
    ingest(
        server.store,
        [
            msg("identify", 0, userId="u1", anonymousId="a1", traits={"email": "ann@shop.io"}),
            *orders("u1", 10, 60),
        ],
    )
    with server.client() as http:
        r = http.get("/api/profiles/lookup", params={"kind": "email", "value": "ann@shop.io"})
        assert r.status_code == 200, r.text
        pid = r.json()["profile_id"]
        assert http.get(f"/api/profiles/{pid}/timeline").json()["total"] == 3
        assert http.get("/api/profiles/a1/explain").json()["profile_id"] == pid
        r = http.put(
            "/api/traits/orders", json={"op": "count", "event": {"event": "Order Completed"}}
        )
        assert r.status_code == 200, r.text
        assert http.get(f"/api/profiles/{pid}").json()["computed_traits"] == {"orders": 2}
        bare = http.get(f"/api/profiles/{pid}", params={"consent": "false"}).json()
        assert "consent_history" not in bare and bare["computed_traits"] == {"orders": 2}
        bad = http.put("/api/traits/x", json={"op": "sum", "event": {"event": "Order Completed"}})
        assert bad.status_code == 400 and "property" in bad.json()["error"]["message"]
        assert http.get("/api/profiles/nobody").status_code == 404


def _limit(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])


def _fail_under_a_limit(con: duckdb.DuckDBPyConnection) -> None:
    with memory_limit(con, 32, then=Settings().memory_limit_mb):
        assert _limit(con) == "30.5 MiB"
        con.execute("SELECT * FROM no_such_table")  # the transaction is now aborted


def test_rebuild_runs_under_its_memory_limit_and_resets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    fold = traits.update_traits

    def spy(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> Any:
        seen.append(_limit(con))  # the limit in force while the rebuild folds traits
        return fold(con, *args, **kwargs)

    monkeypatch.setattr(traits, "update_traits", spy)
    graphs = []
    for mb in (None, 64):
        db = tmp_path / f"m{mb}.duckdb"
        with Store(db, Settings(db=db, rebuild_memory_mb=mb)) as store:
            default = store.write_sync(_limit)
            ingest(store, [*orders("u1", 20, 80), msg("identify", 30, userId="u1", anonymousId="a1"),
                           msg("page", 31, anonymousId="a2", name="Home")])  # fmt: skip
            rebuild(store, IdentityRules())
            assert (seen[-1] == default) == (mb is None)  # the rebuild ran under the limit
            assert store.write_sync(_limit) == default  # and it was put back
            graphs.append(
                store.query("SELECT kind, value, profile_id FROM identifiers ORDER BY ALL")
            )

            with pytest.raises(duckdb.CatalogException):
                store.write_sync(_fail_under_a_limit)
            assert store.write_sync(_limit) == default  # reset even so
    assert graphs[0] == graphs[1] and len(graphs[0]) == 3


def test_the_store_runs_under_its_memory_limit(tmp_path: Path) -> None:
    """DuckDB's memory limit is the store's `memory_limit_mb` (DuckDB's own default, 80% of RAM,
    only with None), and work larger than it spills instead of failing."""
    db = tmp_path / "limit.duckdb"
    with Store(db, Settings(db=db, memory_limit_mb=100)) as store:
        assert store.write_sync(_limit) == "95.3 MiB"
        with store.reading() as cur:
            assert _limit(cur) == "95.3 MiB"
            # ~160 MB of rows to sort: beyond the limit, so spilled to the temp directory
            (n, s) = cur.execute(
                "SELECT count(*), sum(i * (rn - 1)) FROM (SELECT i, row_number() OVER "
                "(ORDER BY hash(i)) AS rn FROM range(10000000) t(i))"
            ).fetchall()[0]
            assert n == 10_000_000 and s is not None
    big = tmp_path / "default.duckdb"
    with Store(big, Settings(db=big, memory_limit_mb=None)) as store:
        assert store.write_sync(_limit) not in ("95.3 MiB", "1.9 GiB")
    with Store(tmp_path / "d.duckdb") as store:
        assert store.write_sync(_limit) == "1.9 GiB"  # the default: 2048 MB


def _exposure(store: Store, decision: str, **who: str | None) -> None:
    """A personalisation answer's exposure, queued as `/v1/decide` queues it (internal source)."""
    from datetime import UTC, datetime

    from touchpath.personalize.exposures import Exposures, exposure_message

    now = datetime.now(UTC).replace(tzinfo=None)
    queued = Exposures()
    unit = who.get("user_id") or who.get("anonymous_id") or ""
    queued.add(
        exposure_message(decision, 1, "a", "a", None, unit=unit, user_id=who.get("user_id"),
                         anonymous_id=who.get("anonymous_id"), source_id="src", at=now),
        now.date(),
    )  # fmt: skip
    queued.flush(store, now)
    store.wait_idle()


def test_exposures_settle_only_what_they_can_change(ustore: Store) -> None:
    """An exposure (`Experiment Viewed` from personalisation) cannot change a computed trait or
    an audience defined on other events: the person is not settled again (their values keep
    their time). A visitor never seen is settled (an audience of people who never ordered takes
    them in), and once a trait counts every event, exposures settle their people again."""
    from touchpath.profiles.audiences import define_audience
    from touchpath.profiles.specs import Audience

    def computed_at(uid: str) -> list[Any]:
        return ustore.query(
            "SELECT v.computed_at FROM computed_trait_values v JOIN identifiers i USING "
            "(profile_id) WHERE i.kind = 'user_id' AND i.value = ? ORDER BY v.name",
            [uid],
        )

    trait = parse_spec(ComputedTrait, {"name": "orders", "op": "count",
                                       "event": {"event": "Order Completed"}}, "t")  # fmt: skip
    never = parse_spec(Audience, {"name": "never-ordered", "condition": {"kind": "performed",
                       "event": {"event": "Order Completed"}, "at_most": 0}}, "a")  # fmt: skip
    ustore.write_sync(lambda con: define_computed(con, trait, utcnow()))
    ustore.write_sync(lambda con: define_audience(con, never, utcnow()))
    ingest(ustore, orders("u1", 10))
    before = computed_at("u1")
    assert len(before) == 1

    _exposure(ustore, "home", user_id="u1")
    _exposure(ustore, "home", anonymous_id="v1")
    assert computed_at("u1") == before
    v1 = profile_of(ustore, "anonymous_id", "v1")
    members = {p for (p,) in ustore.query("SELECT profile_id FROM audience_members")}
    assert v1 is not None and v1 in members and profile_of(ustore, "user_id", "u1") not in members

    every = parse_spec(ComputedTrait, {"name": "events", "op": "count"}, "t")
    ustore.write_sync(lambda con: define_computed(con, every, utcnow()))
    assert show(ustore, "u1")["computed_traits"]["events"] == 2  # the order, the exposure
    _exposure(ustore, "banner", user_id="u1")
    assert show(ustore, "u1")["computed_traits"]["events"] == 3
