"""Audiences: conditions on traits, computed traits and performed events; enter/exit events."""

from __future__ import annotations

import csv
import io

import pytest

from identity_helpers import ingest, msg
from touchpath.store import Store
from touchpath.system import Touchpath


@pytest.fixture
def ustore(tp: Touchpath) -> Store:
    return tp.store


def members(store: Store, name: str) -> set[str]:
    return {
        u
        for (u,) in store.query(
            "SELECT i.value FROM audience_members m JOIN identifiers i USING (profile_id) "
            "WHERE m.audience = ? AND i.kind = 'user_id'",
            [name],
        )
    }


def test_membership_follows_events_and_is_logged(server) -> None:  # type: ignore[no-untyped-def]
    store = server.store  # the app's composition root keeps audiences current
    ingest(
        store,
        [
            msg("identify", 0, userId=u, traits={"plan": p})
            for u, p in [("u1", "pro"), ("u2", "pro"), ("u3", "free")]
        ],
    )
    cond = {
        "condition": {
            "kind": "and",
            "all": [
                {"kind": "trait", "trait": "plan", "value": "pro"},
                {
                    "kind": "or",
                    "any": [
                        {
                            "kind": "performed",
                            "event": {
                                "event": "Order Completed",
                                "where": [{"property": "revenue", "op": "gte", "value": 50}],
                            },
                            "at_least": 2,
                            "within_days": 30,
                        },
                        {
                            "kind": "not",
                            "cond": {"kind": "performed", "event": {"event": "Product Viewed"}},
                        },
                    ],
                },
            ],
        }
    }
    with server.client() as http:
        r = http.put("/api/audiences/vip", json=cond)
        assert r.status_code == 200, r.text
        assert r.json()["size"] == 2  # u1, u2: pro and never viewed a product
        ingest(
            store,
            [
                msg("track", 5, userId="u1"),  # u1 views: leaves
                msg("track", 6, userId="u2", event="Order Completed", properties={"revenue": 60}),
                msg("track", 7, userId="u2"),
                msg("track", 8, userId="u2", event="Order Completed", properties={"revenue": 70}),
            ],
        )
        assert members(store, "vip") == {"u2"}
        ingest(
            store,
            [
                msg("track", 9, userId="u1", event="Order Completed", properties={"revenue": v})
                for v in (55, 65)
            ],
        )
        assert members(store, "vip") == {"u1", "u2"}
        log = store.query(
            "SELECT user_id, event FROM events WHERE source = 'touchpath.audiences' "
            "AND properties ->> '$.audience' = 'vip' ORDER BY seq"
        )
        assert sorted(log[:2]) == [("u1", "Audience Entered"), ("u2", "Audience Entered")]
        assert log[2:] == [("u1", "Audience Exited"), ("u1", "Audience Entered")]
        exported = http.get("/api/audiences/vip/members", params={"format": "csv"}).text
        assert {r["user_id"] for r in csv.DictReader(io.StringIO(exported))} == {"u1", "u2"}
        sizes = {a["name"]: a["size"] for a in http.get("/api/audiences").json()}
        assert sizes == {"vip": 2}


def test_computed_trait_conditions_and_at_most(ustore: Store) -> None:
    from touchpath.profiles.audiences import define_audience, refresh_audiences
    from touchpath.profiles.specs import Audience, ComputedTrait, parse_spec
    from touchpath.profiles.traits import define_computed
    from touchpath.store.store import utcnow

    ingest(
        ustore,
        [
            msg("track", i, userId=u, event="Order Completed", properties={"revenue": 10})
            for i, u in enumerate(["u1", "u2", "u2", "u3", "u3", "u3"])
        ],
    )
    ingest(ustore, [msg("identify", 0, userId="u4")])
    trait = parse_spec(
        ComputedTrait, {"name": "n", "op": "count", "event": {"event": "Order Completed"}}, "t"
    )
    few = parse_spec(
        Audience,
        {"name": "few", "condition": {"kind": "computed", "trait": "n", "op": "lte", "value": 2}},
        "a",
    )
    once = parse_spec(
        Audience,
        {
            "name": "once",
            "condition": {
                "kind": "performed",
                "event": {"event": "Order Completed"},
                "at_least": 1,
                "at_most": 1,
            },
        },
        "a",
    )

    def setup(con):  # type: ignore[no-untyped-def]
        define_computed(con, trait, utcnow())
        define_audience(con, few, utcnow())
        define_audience(con, once, utcnow())
        return refresh_audiences(con, utcnow(), None)

    ustore.write_sync(setup)
    assert members(ustore, "few") == {"u1", "u2", "u4"}  # u4 has none: counts as 0
    assert members(ustore, "once") == {"u1"}
