"""Known answers: identity resolution scored against the demo business's ground truth.

The demo knows which anonymous ids, devices, till receipts and loyalty cards belong to which
customer, which family tablets two customers share, and which junk identifiers a buggy login form
and a newsletter footer sent. Deterministic links are the ones the messages state: identifiers
that appear together in one message, transitively, leaving out blocked values and shared
devices. Against them, resolution (incremental while ingesting, and `touchpath identity rebuild`)
must have precision and recall 1.0.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from touchpath.cli import app
from touchpath.demo import DemoBusiness, DemoConfig, GroundTruth
from touchpath.events.message import stage_messages
from touchpath.identity import IdentityRules
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.system import Touchpath

UNIFY_YAML = "identity:\n  custom:\n    loyalty_id: traits.loyalty_id\n"
"""Till purchases carry the loyalty card in externalIds; identify calls carry it as a trait."""

Demo = tuple[list[list[dict[str, Any]]], GroundTruth]


@pytest.fixture(scope="module")
def demo() -> Demo:
    business = DemoBusiness(DemoConfig(customers=800, days=60, seed=11))
    batches = list(business.batches(500))
    return batches, business.truth()


@pytest.fixture
def resolved(tmp_path: Path, demo: Demo) -> Iterator[tuple[Store, Settings]]:
    """The demo ingested in batches of 500, several in flight, with unify attached."""
    conf = tmp_path / "unify.yaml"
    conf.write_text(UNIFY_YAML)
    settings = Settings(db=tmp_path / "touchpath.duckdb", unify=conf)
    batches, _ = demo
    received = datetime(2026, 11, 2)
    with Store(settings.db, settings) as store, Touchpath.open(settings, store=store):
        futures = []
        for batch in batches:
            raws = [json.dumps(m).encode() for m in batch]
            futures.append(store.ingest(stage_messages(raws, source="demo", received_at=received)))
            if len(futures) > 6:
                futures.pop(0).result()
        for fut in futures:
            fut.result()
        store.wait_idle()
        yield store, settings


def _idents(m: dict[str, Any], rules: IdentityRules, shared: set[str]) -> list[str]:
    """The identifier values a message states (the test's own reading of the Segment spec)."""
    ctx = m.get("context") or {}
    traits = m.get("traits") or {}
    values = [
        m.get("userId"),
        m.get("anonymousId"),
        (traits.get("email") or (ctx.get("traits") or {}).get("email") or "").strip().lower(),
        (ctx.get("device") or {}).get("id"),
        traits.get("loyalty_id"),
        *[x.get("id") for x in ctx.get("externalIds") or []],
    ]
    return [v for v in values if v and not rules.is_blocked(v) and v not in shared]


def deterministic_links(demo: Demo) -> dict[str, str]:
    """Identifier value -> the customer (userId) the messages link it to, by union-find."""
    batches, truth = demo
    rules, shared = IdentityRules(), set(truth.shared_identifiers)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for batch in batches:
        for m in batch:
            ids = _idents(m, rules, shared)
            for v in ids[1:]:
                parent[find(v)] = find(ids[0])
    users: dict[str, set[str]] = defaultdict(set)
    for v in list(parent):
        if v.startswith("u_"):
            users[find(v)].add(v)
    assert all(len(u) == 1 for u in users.values()), "the demo links two customers directly"
    return {v: next(iter(users[find(v)])) for v in parent if users.get(find(v))}


def _graph(store: Store) -> set[tuple[str, str, str]]:
    return set(store.query("SELECT kind, value, profile_id FROM identifiers"))


def test_demo_identities_precision_and_recall(
    resolved: tuple[Store, Settings], demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, settings = resolved
    _, truth = demo
    graph = _graph(store)
    profile_of = {v: p for _, v, p in graph}
    person_of = {**truth.person_of, **truth.loyalty_of}

    # precision: no profile holds identifiers of two customers
    persons: dict[str, set[str]] = defaultdict(set)
    for kind, value, pid in graph:
        person = value if kind == "user_id" else person_of.get(value)
        if person is not None and value not in truth.shared_identifiers:
            persons[pid].add(person)
    assert persons, "no identifier of a customer was resolved"
    assert {p: s for p, s in persons.items() if len(s) > 1} == {}

    # recall: every deterministically linked identifier is in its customer's profile
    links = deterministic_links(demo)
    owned = [v for v in links if not v.startswith("u_")]
    assert len(owned) > 1000, "too few linked identifiers for a meaningful score"
    known = [v for v in owned if v in person_of]
    emails = [v for v in owned if "@" in v]  # identifiers since the demo's are not blocked
    assert len(emails) > 0.5 * len(truth.loyalty_of), "demo emails do not identify people"
    assert len(known) > 0.8 * (len(owned) - len(emails))  # emails are not in the truth
    assert all(person_of[v] == links[v] for v in known), "the truth disagrees with the links"
    wrong = {v: links[v] for v in owned if profile_of.get(v) != profile_of.get(links[v])}
    assert wrong == {}, f"{len(wrong)} of {len(owned)} linked identifiers outside their profile"
    assert {v for v in links if v.startswith("u_")} <= profile_of.keys()
    assert any(kind == "loyalty_id" for kind, _, _ in graph), "till purchases were not linked"

    # a family tablet signed into by two customers does not merge them
    assert truth.shared_devices
    for device, (a, b) in truth.shared_identifiers.items():
        if device in truth.shared_devices and a in profile_of and b in profile_of:
            assert profile_of[a] != profile_of[b], device
    # junk user ids and emails ("null", "0", "anonymous", test@test.com) never become identifiers
    assert truth.junk_identifiers
    assert not {v.lower() for v in truth.junk_identifiers} & {v.lower() for v in profile_of}
    junk_seen = store.query(
        "SELECT count(*) FROM events WHERE user_id IN ('null', 'undefined', '0') "
        "OR traits ->> '$.email' IN ('anonymous', 'test@test.com', 'none@none.com', "
        "'noemail@example.com')"
    )[0][0]
    assert junk_seen > 0, "the demo sent no junk identifiers to resist"

    # `touchpath identity rebuild` recomputes the same graph and merges from the log
    merges = store.query("SELECT seq, kept_profile_id, merged_profile_id FROM merges ORDER BY seq")
    db = str(settings.db)
    store.close()
    monkeypatch.setenv("TOUCHPATH_UNIFY", str(settings.unify))
    out = CliRunner().invoke(app, ["identity", "rebuild", "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["identifiers"] == len(graph)
    with Store(db) as again:
        assert _graph(again) == graph
        assert (
            again.query("SELECT seq, kept_profile_id, merged_profile_id FROM merges ORDER BY seq")
            == merges
        )
