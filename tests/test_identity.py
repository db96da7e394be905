"""Identity resolution: merge rules, blocked values, limits, explain, rebuild = incremental."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity_helpers import graph, ingest, msg, profile_of
from touchpath import identity
from touchpath.profiles import rebuild
from touchpath.profiles.lookup import explain, timeline
from touchpath.store import Store
from touchpath.system import Touchpath


@pytest.fixture
def ustore(tp: Touchpath) -> Store:
    return tp.store


def test_anonymous_history_joins_the_profile_on_sign_in(ustore: Store) -> None:
    ingest(
        ustore,
        [
            msg("page", 0, name="Home", anonymousId="a1"),
            msg("track", 1, anonymousId="a1"),
            msg(
                "page",
                2,
                name="Home",
                anonymousId="a2",
                context={"device": {"id": "D1", "type": "ios"}},
            ),
        ],
    )
    assert profile_of(ustore, "anonymous_id", "a1") != profile_of(ustore, "anonymous_id", "a2")
    ingest(
        ustore,
        [
            msg("identify", 3, userId="u1", anonymousId="a1", traits={"email": "Ann@Shop.io"}),
            msg("identify", 4, userId="u1", anonymousId="a2"),
        ],
    )
    pid = profile_of(ustore, "user_id", "u1")
    assert pid is not None
    for kind, value in [
        ("anonymous_id", "a1"),
        ("anonymous_id", "a2"),
        ("ios.id", "D1"),
        ("email", "ann@shop.io"),
    ]:
        assert profile_of(ustore, kind, value) == pid, (kind, value)
    events = timeline(ustore, "u1")
    assert events["total"] == 5
    assert {e["anonymous_id"] for e in events["events"]} == {"a1", "a2"}
    # the profile created first (by a1) keeps its id; the merge names the message.
    why = explain(ustore, "a2", "anonymous_id")
    assert why["profile_id"] == pid
    assert len(why["merges"]) == 1 and why["merges"][0]["identifiers"] == [
        ["user_id", "u1"],
        ["anonymous_id", "a2"],
    ]
    assert why["merges"][0]["kept_profile_id"] == pid


def test_blocked_user_id_and_email_do_not_merge_strangers(ustore: Store) -> None:
    ingest(
        ustore,
        [
            msg("identify", 0, userId="null", anonymousId="a1"),
            msg("identify", 1, userId="null", anonymousId="a2"),
            msg("identify", 2, anonymousId="a3", traits={"email": "test@test.com"}),
            msg("identify", 3, anonymousId="a4", traits={"email": "test@test.com"}),
            msg("identify", 4, userId="0", anonymousId="a5"),
        ],
    )
    pids = {profile_of(ustore, "anonymous_id", a) for a in ("a1", "a2", "a3", "a4", "a5")}
    assert len(pids) == 5
    assert profile_of(ustore, "user_id", "null") is None
    assert profile_of(ustore, "email", "test@test.com") is None
    per_event = ustore.query("SELECT count(DISTINCT profile_id) FROM resolved_events")
    assert per_event[0][0] == 5


def test_shared_device_does_not_merge_two_users(ustore: Store) -> None:
    tablet = {"device": {"id": "T1", "type": "android"}}
    ingest(
        ustore,
        [
            msg("identify", 0, userId="mum", anonymousId="t", context=tablet),
            msg("identify", 5, userId="dad", anonymousId="t", context=tablet),
            msg("track", 6, userId="dad", anonymousId="t", context=tablet),
        ],
    )
    mum, dad = profile_of(ustore, "user_id", "mum"), profile_of(ustore, "user_id", "dad")
    assert mum and dad and mum != dad
    assert profile_of(ustore, "android.id", "T1") == mum
    rows = dict(
        ustore.query("SELECT user_id, any_value(profile_id) FROM resolved_events GROUP BY 1")
    )
    assert rows == {"mum": mum, "dad": dad}
    drops = explain(ustore, "dad")["drops"]
    assert {(d["kind"], d["value"]) for d in drops} == {("android.id", "T1"), ("anonymous_id", "t")}
    assert "user_id than 1" in drops[0]["reason"]


def test_other_identifier_kinds(ustore: Store) -> None:
    ctx = {
        "device": {
            "id": "I1",
            "type": "ios",
            "advertisingId": "AD1",
            "adTrackingEnabled": True,
            "token": "PT1",
        },
        "externalIds": [{"id": "L77", "type": "loyalty_id", "collection": "users"}],
    }
    ingest(
        ustore,
        [
            msg("track", 0, anonymousId="a1", context=ctx),
            msg(
                "track",
                1,
                anonymousId="a2",
                context={
                    "device": {
                        "id": "I2",
                        "type": "ios",
                        "advertisingId": "AD2",
                        "adTrackingEnabled": False,
                    }
                },
            ),
        ],
    )
    pid = profile_of(ustore, "anonymous_id", "a1")
    for kind, value in [
        ("ios.id", "I1"),
        ("ios.advertising_id", "AD1"),
        ("ios.push_token", "PT1"),
        ("loyalty_id", "L77"),
    ]:
        assert profile_of(ustore, kind, value) == pid
    assert profile_of(ustore, "ios.advertising_id", "AD2") is None


def test_custom_identifier_and_limit_from_settings(tmp_path: Path) -> None:
    from touchpath.settings import Settings

    conf = tmp_path / "unify.yaml"
    conf.write_text(
        "identity:\n  custom: {member_no: traits.member_no}\n"
        "  limits: {user_id: {max: 1}, anonymous_id: {max: 2}}\n"
    )
    settings = Settings(db=tmp_path / "t.duckdb", unify=conf)
    with Store(settings.db, settings) as store, Touchpath.open(settings, store=store):
        ingest(
            store,
            [
                msg("identify", 0, anonymousId="a1", traits={"member_no": "M9"}),
                msg("identify", 1, anonymousId="a2", traits={"member_no": "M9"}),
                msg("identify", 2, anonymousId="a3", traits={"member_no": "M9"}),
            ],
        )
        pid = profile_of(store, "member_no", "M9")
        assert profile_of(store, "anonymous_id", "a2") == pid
        # the third anonymous id would break the limit of 2: it is dropped, keeps its own profile
        assert profile_of(store, "anonymous_id", "a3") not in (None, pid)


people = st.sampled_from(["u1", "u2", "u3", None])
anons = st.sampled_from(["a1", "a2", "a3", "a4", "a5", "a6"])
devices = st.sampled_from(["d1", "d2", None])
emails = st.sampled_from(["x@shop.io", "y@shop.io", None, None])


@st.composite
def message_lists(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(1, 25))
    out = []
    for i in range(n):
        m = msg("identify", i, anonymousId=draw(anons))
        uid, dev, email = draw(people), draw(devices), draw(emails)
        if uid:
            m["userId"] = uid
        if dev:
            m["context"] = {"device": {"id": dev, "type": "android"}}
        if email:
            m["traits"] = {"email": email}
        m["messageId"] = f"m{i}"
        out.append(m)
    return out


def _partition(store: Store) -> set[frozenset[tuple[str, str]]]:
    groups: dict[str, set[tuple[str, str]]] = {}
    for ident, pid in graph(store).items():
        groups.setdefault(pid, set()).add(ident)
    return {frozenset(g) for g in groups.values()}


@pytest.mark.slow
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messages=message_lists(), cut=st.integers(0, 25))
def test_rebuild_equals_incremental_and_replay_changes_nothing(
    tmp_path_factory: pytest.TempPathFactory, messages: list[dict[str, Any]], cut: int
) -> None:
    with Store(tmp_path_factory.mktemp("h") / "t.duckdb") as store, Touchpath.open(store=store):
        ingest(store, messages[:cut])
        ingest(store, messages[cut:])
        incremental = graph(store)
        merges = store.query(
            "SELECT seq, kept_profile_id, merged_profile_id FROM merges ORDER BY ALL"
        )
        ingest(store, messages, source="replay-same-ids")  # other source: new seqs, same content
        rebuild(store, identity.IdentityRules())
        after = graph(store)
        # replaying the same messages later changes no identifier's profile
        assert after == incremental
        # and a rebuild from the log gives the same merges for the first pass
        assert (
            store.query(
                "SELECT seq, kept_profile_id, merged_profile_id FROM merges "
                f"WHERE seq <= {len(messages)} ORDER BY ALL"
            )
            == merges
        )


@pytest.mark.slow
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(messages=message_lists(), data=st.data())
def test_order_does_not_change_the_graph_where_no_limit_applies(
    tmp_path_factory: pytest.TempPathFactory, messages: list[dict[str, Any]], data: st.DataObject
) -> None:
    # one user id at most per connected group: no limit can apply
    for m in messages:
        m.pop("userId", None)
    shuffled = data.draw(st.permutations(messages))
    parts = []
    for msgs in (messages, shuffled):
        with Store(tmp_path_factory.mktemp("o") / "t.duckdb") as store:
            from touchpath.identity import IdentityRules
            from touchpath.profiles.specs import UnifyConfig
            from touchpath.profiles.unify import Unify

            unify = Unify(
                store,
                UnifyConfig(
                    identity=IdentityRules(
                        default_limit={"max": 100}, limits={"anonymous_id": {"max": 100}}
                    )
                ),
            )
            store.add_commit_listener(unify.on_commit)
            ingest(store, msgs)
            parts.append(_partition(store))
    assert parts[0] == parts[1]


def test_only_components_a_limit_can_reach_are_walked(store: Store) -> None:
    tablet = {"device": {"id": "T1", "type": "ios"}}
    ingest(
        store,  # nothing attached: the graph is rebuilt by hand below
        [
            msg("page", 0, name="Home", anonymousId="a1"),
            msg("page", 1, name="Home", anonymousId="a2"),
            msg("identify", 2, userId="u1", anonymousId="a1"),
            msg("identify", 3, userId="u1", anonymousId="a2"),  # two profiles meet: a merge
            msg("identify", 4, userId="u2", anonymousId="t1", context=tablet),
            msg("identify", 5, userId="u3", anonymousId="t1", context=tablet),  # 2 user ids
            msg("page", 6, name="Home", anonymousId="a9"),
        ],
    )
    res = store.write_sync(lambda con: identity.rebuild(con, identity.IdentityRules()))
    # only the family tablet's two combinations can break a limit: the rest is set-wise
    assert (res.walked, res.merges, res.drops) == (2, 1, 2)
    first = identity.profile_id_for("anonymous_id", "a1")
    assert {profile_of(store, "anonymous_id", a) for a in ("a1", "a2")} == {first}
    assert profile_of(store, "user_id", "u1") == first
    assert profile_of(store, "user_id", "u3") not in (None, profile_of(store, "user_id", "u2"))
    assert profile_of(store, "anonymous_id", "a9") == identity.profile_id_for("anonymous_id", "a9")
    (merge,) = store.query_dicts("SELECT * FROM merges")
    assert merge["kept_profile_id"] == first
    assert merge["merged_profile_id"] == identity.profile_id_for("anonymous_id", "a2")
    assert json.loads(merge["identifiers"]) == [["user_id", "u1"], ["anonymous_id", "a2"]]
    assert res.merged == {merge["merged_profile_id"]: first}


def test_rebuild_cli_and_explain_json(ustore: Store, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from touchpath.cli import app

    ingest(
        ustore,
        [
            msg("identify", 0, userId="u1", anonymousId="a1"),
            msg("identify", 1, userId="u1", anonymousId="a2"),
            msg("page", 90, name="Home", anonymousId="a2"),
            msg("track", 91, anonymousId="a2"),
        ],
    )
    db = str(ustore.path)
    before = graph(ustore)
    ustore.close()
    runner = CliRunner()
    out = runner.invoke(app, ["identity", "rebuild", "--db", db, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)[0]["identifiers"] == 3
    out = runner.invoke(app, ["profiles", "explain", "a2", "--db", db])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {link["value"] for link in data["links"]} == {"u1", "a1", "a2"}
    with Store(db) as again:
        assert graph(again) == before
    # The timeline a person reads: to the second, what happened in words, through which
    # identifier, a rule between visits (90 minutes apart here), and the total when cut.
    out = runner.invoke(app, ["profiles", "timeline", "u1", "--db", db, "--limit", "3"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert "4 events" in lines[0] and "the first 3; --limit shows more" in out.output
    rows = [line for line in lines if "│" in line and "time" not in line]
    assert [row.split("│")[3].strip() for row in rows] == ["identify", "identify", "page Home"]
    assert "u1" in rows[0] and "anonymous a2" in rows[2]
    assert sum("├" in line for line in lines) == 1  # one rule: two visits


def test_first_attach_to_a_long_backlog_resolves_in_chunks_like_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from touchpath.profiles import unify

    messages = [
        msg("page", 0, name="Home", anonymousId="a1", context={"device": {"id": "D1", "type": "ios"}}),
        msg("identify", 1, anonymousId="a1", userId="u1", traits={"email": "ann@shop.io", "plan": "free"}),
        msg("page", 2, name="Home", anonymousId="a2", context={"device": {"id": "D1", "type": "ios"}}),
        msg("identify", 3, anonymousId="a3", userId="u2", traits={"email": "bob@shop.io"}),
        msg("identify", 4, anonymousId="a2", traits={"plan": "pro"}),
        msg("track", 5, anonymousId="a4", traits={"email": "ANN@shop.io"}),
        msg("identify", 6, anonymousId="a3", userId="u1"),  # a second user id: dropped
        msg("page", 7, name="Home", anonymousId="a5"),
        msg("identify", 8, anonymousId="a5", traits={"email": "ann@shop.io"}),  # a merge
    ]  # fmt: skip
    results = []
    for chunk in (None, 2):
        with Store(tmp_path / f"c{chunk}.duckdb") as store:
            if chunk is None:
                tp = Touchpath.open(store=store)
                ingest(store, messages)
            else:
                ingest(store, messages)
                monkeypatch.setattr(unify, "CATCH_UP_CHUNK", chunk)
                tp = Touchpath.open(store=store)  # catches up with the whole log
            store.wait_idle(timeout=30)
            tp.close()
            results.append(
                (
                    graph(store),
                    store.query("SELECT profile_id, name, value FROM profile_traits ORDER BY ALL"),
                    store.query("SELECT seq, kept_profile_id, merged_profile_id FROM merges"),
                )
            )
    assert len(results[0][0]) >= 6 and results[0][1] and results[0][2]
    assert results[0] == results[1]


def test_the_documented_defaults_are_the_codes() -> None:
    """docs/identity.md's rules block is `IdentityRules()`: the loyalty card included."""
    import re

    import yaml

    from touchpath.identity.rules import IdentityRules

    doc = (Path(__file__).resolve().parents[1] / "docs" / "identity.md").read_text()
    block = re.search(r"```yaml\n(identity:\n.*?)```", doc, re.S)
    assert block is not None, "the rules block is gone from docs/identity.md"
    documented = IdentityRules.model_validate(yaml.safe_load(block.group(1))["identity"])
    assert documented == IdentityRules()
    assert IdentityRules().custom == {"loyalty_id": "traits.loyalty_id"}
