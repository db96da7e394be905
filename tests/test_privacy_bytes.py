"""Deletion that leaves nothing: by any identifier, from every table (event log, rejected
payloads of every shape and import rows, the journey copy, sentiment, traits, computed traits,
audiences, the identity graph and merge log), and, once the file is compacted, from its bytes
and its WAL. CSV exports neutralise formula injection."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.conftest import api_token, bearer
from typer.testing import CliRunner

from test_privacy import traces
from touchpath.analytics import journey
from touchpath.cli import app
from touchpath.collect.importers import ImportMapping, import_file
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

ZOE = {
    "user": "user-zoe-4711",
    "anon": "anon-zoe-4711",
    "email": "zoe.quartz@mail.example",
    "ip": "203.0.113.77",
    "text": "the courier smashed my parcel on the doorstep",
}


def _zoe_everywhere(url: str, key: str, store: Store, tmp: Path) -> None:
    zoe = ZOE
    batch = [
        {"type": "page", "name": "Home", "anonymousId": zoe["anon"], "context": {"ip": zoe["ip"]}},
        {"type": "identify", "userId": zoe["user"], "anonymousId": zoe["anon"],
         "traits": {"email": zoe["email"], "plan": "pro"}},
        {"type": "track", "event": "Order Completed", "userId": zoe["user"],
         "properties": {"revenue": 20}},
        {"type": "track", "event": "Feedback Submitted", "userId": zoe["user"],
         "properties": {"comment": zoe["text"], "score": 2}},
        {"type": "track", "userId": zoe["user"], "context": {"ip": zoe["ip"]}},  # rejected: no event
        f"{zoe['email']} wrote in",  # rejected: not an object
        {"type": "track", "event": "Viewed", "userId": "user-ann-1234", "properties": {"x": 1}},
    ]  # fmt: skip
    r = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))
    assert r.status_code == 200 and r.json()["rejected"] == 2, r.text
    rows = tmp / "crm.csv"
    rows.write_text(f"email,event,timestamp\n{zoe['email']},,2024-01-01\n")  # a bad import row
    import_file(store, rows, ImportMapping(person="email", event="event", time="timestamp"))
    with httpx.Client(base_url=url, headers=bearer(api_token(store, "editor"))) as c:
        c.put("/api/traits/orders", json={"op": "count", "event": {"event": "Order Completed"}})
        c.put(
            "/api/audiences/buyers",
            json={"condition": {"kind": "performed", "event": {"event": "Order Completed"}}},
        )
    store.wait_idle()
    journey.optimize(store)


def _raw(db: Path) -> bytes:
    wal = db.with_name(db.name + ".wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_deleting_by_email_leaves_no_row_and_after_compact_no_byte(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    settings = Settings(db=db, port=0)
    needles = list(ZOE.values())
    with Store(db, settings) as store:
        key = store.create_source("web").write_key
        with serving(settings, store) as url:
            _zoe_everywhere(url, key, store, tmp_path)
            pid = store.query("SELECT profile_id FROM identifiers WHERE value = ?", [ZOE["user"]])
            seen = traces(store, [*needles, pid[0][0]])
            scored = (
                "SELECT count(*) FROM sentiment s JOIN events e USING (seq) WHERE e.user_id = ?"
            )
            assert store.query(scored, [ZOE["user"]])[0][0] >= 1
            for table in ("events", "rejected", "identifiers", "profile_traits"):
                assert any(k.startswith(table + ".") for k in seen), (table, seen)
            copied = "SELECT count(*) FROM journey_profiles WHERE profile_id = ?"
            assert store.query(copied, [pid[0][0]])[0][0] == 1
            admin = bearer(api_token(store, "admin"))
            r = httpx.post(f"{url}/api/privacy/delete", json={"email": ZOE["email"]}, headers=admin)
            assert r.status_code == 200, r.text
            deleted = r.json()["deleted"]
            assert deleted["events"] >= 4 and deleted["rejected"] >= 2
            assert deleted["sentiment"] >= 1 and deleted["journey_events"] >= 1
            assert deleted["computed_trait_values"] == 1 and deleted["audience_members"] == 1
            assert traces(store, [*needles, pid[0][0]]) == {}
            assert store.query("SELECT count(*) FROM events WHERE user_id = 'user-ann-1234'") == [
                (1,)
            ]
            log = httpx.get(f"{url}/api/audit", headers=admin).json()
            assert log[0]["action"] == "privacy.delete" and ZOE["email"] not in str(log)
            again = httpx.post(
                f"{url}/api/privacy/delete", json={"email": ZOE["email"]}, headers=admin
            )
            assert again.status_code == 404
    raw = _raw(db)
    assert any(n.encode() in raw for n in needles)  # deleted rows' bytes linger until compacted
    run = CliRunner().invoke(app, ["privacy", "compact", "--db", str(db)])
    assert run.exit_code == 0, run.output
    raw = _raw(db)
    assert [n for n in needles if n.encode() in raw] == []
    with Store(db) as store:  # the compacted store opens and keeps everyone else
        assert store.query("SELECT count(*) FROM events") == [(1,)]


def test_a_person_known_only_by_an_anonymous_id_can_be_deleted(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "t.duckdb", port=0)
    with Store(settings.db, settings) as store:
        key = store.create_source("web").write_key
        with serving(settings, store) as url:
            batch = [{"type": "page", "name": "Home", "anonymousId": "anon-only-99"}]
            httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))
            store.wait_idle()
            admin = bearer(api_token(store, "admin"))
            r = httpx.post(
                f"{url}/api/privacy/delete",
                json={"anonymousId": "anon-only-99", "suppress": True},
                headers=admin,
            )
            assert r.status_code == 200 and r.json()["deleted"]["events"] == 1, r.text
            httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))  # suppressed
            store.wait_idle()
            assert store.query("SELECT count(*) FROM events") == [(0,)]
            bad = httpx.post(
                f"{url}/api/privacy/delete", json={"userId": "a", "email": "b"}, headers=admin
            )
            assert bad.status_code == 400 and "exactly one" in bad.text


def test_csv_exports_neutralise_formulas(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "t.duckdb", port=0)
    with Store(settings.db, settings) as store:
        key = store.create_source("web").write_key
        with serving(settings, store) as url:
            evil = '=HYPERLINK("http://evil.example","x")'
            batch = [
                {"type": "identify", "userId": "@u1", "traits": {"email": evil}},
                {"type": "track", "event": "Order Completed", "userId": "@u1"},
            ]
            httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))
            store.wait_idle()
            with httpx.Client(base_url=url, headers=bearer(api_token(store, "editor"))) as c:
                cond = {"condition": {"kind": "performed", "event": {"event": "Order Completed"}}}
                assert c.put("/api/audiences/buyers", json=cond).status_code == 200
                text = c.get("/api/audiences/buyers/members", params={"format": "csv"}).text
    assert "'=hyperlink" in text.lower() and "'@u1" in text
    assert "\n=" not in text and ",=" not in text and ",@" not in text
    run = CliRunner().invoke(
        app, ["audiences", "members", "buyers", "--csv", "--db", str(settings.db)]
    )
    assert run.exit_code == 0, run.output
    assert "'=hyperlink" in run.output.lower() and "'@u1" in run.output
    assert "\n=" not in run.output and ",=" not in run.output and ",@" not in run.output


def test_compact_of_a_store_left_with_its_wal_leaves_no_byte(tmp_path: Path) -> None:
    """A store whose process died before a checkpoint: the person's bytes are in the WAL too,
    and compacting it leaves them in neither file."""
    db = tmp_path / "t.duckdb"
    settings = Settings(db=db, port=0)
    crashed = tmp_path / "crashed" / "t.duckdb"
    crashed.parent.mkdir()
    needles = list(ZOE.values())
    with Store(db, settings) as store:
        key = store.create_source("web").write_key
        with serving(settings, store) as url:
            _zoe_everywhere(url, key, store, tmp_path)
            admin = bearer(api_token(store, "admin"))
            r = httpx.post(f"{url}/api/privacy/delete", json={"email": ZOE["email"]}, headers=admin)
            assert r.status_code == 200, r.text
            store.wait_idle()
            for path in (db, db.with_name(db.name + ".wal")):  # as a crash leaves them
                crashed.with_name(path.name).write_bytes(path.read_bytes())
    wal = crashed.with_name(crashed.name + ".wal")
    assert wal.exists() and any(n.encode() in wal.read_bytes() for n in needles)
    run = CliRunner().invoke(app, ["privacy", "compact", "--db", str(crashed)])
    assert run.exit_code == 0, run.output
    assert [n for n in needles if n.encode() in _raw(crashed)] == []
    with Store(crashed) as store:
        assert store.query("SELECT count(*) FROM events") == [(1,)]
