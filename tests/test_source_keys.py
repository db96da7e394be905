"""Write keys: kept hashed (only a prefix is shown after creation), rotated with a grace period,
revoked; through the store, REST (admin only, audited) and the CLI, local or beside a server."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import duckdb
import httpx
from typer.testing import CliRunner

from conftest import Server
from test_cli_remote import held  # noqa: F401  (the fixture: a store held by `touchpath serve`)
from touchpath import access
from touchpath.cli import app
from touchpath.store import Store
from touchpath.store.keys import hash_key


def _track(url: str, key: str) -> int:
    r = httpx.post(f"{url}/v1/track", json={"event": "Hi", "userId": "u1"}, auth=(key, ""))
    return r.status_code


def test_keys_are_kept_hashed_and_a_rotation_keeps_the_old_one_for_its_grace(
    tmp_path: Path,
) -> None:
    db = tmp_path / "t.duckdb"
    with Store(db) as store:
        src = store.create_source("web")
        key = src.write_key
        assert key and src.key_prefix == key[:8]
        assert store.source_for_key(key) == src.id
        assert store.sources()[0].write_key is None  # never again after creation
        new = store.rotate_source_key("web", timedelta(hours=1))
        assert new.write_key and new.write_key != key
        assert store.source_for_key(key) == src.id  # within its grace
        assert store.source_for_key(new.write_key) == src.id
        assert [k.live for k in new.keys] == [True, True] and new.keys[1].expires_at is not None
        newer = store.rotate_source_key("web", timedelta(0))  # no grace: the others end now
        assert store.source_for_key(key) is None and store.source_for_key(new.write_key) is None
        assert newer.write_key and store.source_for_key(newer.write_key) == src.id
        store.revoke_source_key("web", newer.write_key[:8])
        assert store.source_for_key(newer.write_key) is None
        assert store.source("web").key_prefix is None
    raw = db.read_bytes() + (
        db.with_name(db.name + ".wal").read_bytes()
        if db.with_name(db.name + ".wal").exists()
        else b""
    )
    assert key.encode() not in raw and newer.write_key.encode() not in raw


def test_a_store_with_keys_in_clear_gets_them_hashed_and_they_keep_working(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with Store(db) as store:
        sid = store.create_source("web").id
    con = duckdb.connect(str(db))  # the store as it was before migration 4
    con.execute("DROP TABLE source_keys")
    con.execute("DELETE FROM schema_migrations WHERE version = 4")
    con.execute("UPDATE sources SET write_key = 'an-old-key-in-clear-0123456789ab'")
    con.close()
    with Store(db) as store:
        assert store.source_for_key("an-old-key-in-clear-0123456789ab") == sid
        assert store.source("web").key_prefix == "an-old-k"
        assert store.query("SELECT write_key FROM sources") == [(f"hashed:{sid}",)]
        assert store.query("SELECT hash FROM source_keys") == [
            (hash_key("an-old-key-in-clear-0123456789ab"),)
        ]


def test_rest_rotate_and_revoke_are_for_admins_and_audited(server: Server) -> None:
    with server.client("owner") as c:
        listed = c.get("/api/sources").json()
        assert "write_key" not in listed[0] or listed[0]["write_key"] is None
        assert listed[0]["key_prefix"] == server.write_key[:8]
        r = c.post("/api/sources/test/rotate", json={"grace_hours": 2})
        assert r.status_code == 200, r.text
        new = r.json()["write_key"]
        assert _track(server.url, new) == 200 and _track(server.url, server.write_key) == 200
        r = c.post("/api/sources/test/revoke", json={"prefix": server.write_key[:8]})
        assert r.status_code == 200 and _track(server.url, server.write_key) == 401
        assert _track(server.url, new) == 200
        r = c.post("/api/sources/test/revoke", json={"prefix": "nosuchkey"})
        assert r.status_code == 404 and "nosuchkey" in r.json()["error"]["message"]
        r = c.post("/api/sources/nope/rotate", json={})
        assert r.status_code == 404
        r = c.post("/api/sources/test/rotate", json={"grace_hours": -1})
        assert r.status_code == 422 and r.json()["error"]["problems"][0]["path"] == "grace_hours"
        actions = [e["action"] for e in c.get("/api/audit").json()]
        assert "source.rotate" in actions and "source.revoke" in actions
    with server.client("editor") as c:
        assert c.post("/api/sources/test/rotate", json={}).status_code == 403
    assert (
        httpx.post(f"{server.url}/api/sources/test/revoke", json={}, auth=(new, "")).status_code
        == 401
    )


def test_cli_rotate_and_revoke_locally_and_beside_a_server(
    tmp_path: Path,
    held: tuple[Path, str, str],  # noqa: F811
) -> None:
    db = tmp_path / "local.duckdb"
    cli = CliRunner()
    out = cli.invoke(app, ["sources", "add", "web", "--db", str(db)]).output
    first = out.split("write key:")[1].split()[0]
    run = cli.invoke(app, ["sources", "rotate", "web", "--grace-hours", "0", "--db", str(db)])
    assert run.exit_code == 0, run.output
    second = run.output.split("new write key:")[1].split()[0]
    with Store(db) as store:
        assert store.source_for_key(first) is None and store.source_for_key(second)
        assert [e.action for e in access.audit_log(store)] == ["source.rotate"]
    listed = json.loads(cli.invoke(app, ["sources", "list", "--db", str(db), "--json"]).output)
    assert first not in json.dumps(listed) and second not in json.dumps(listed)
    assert listed[0]["key_prefix"] == second[:8]

    hdb, url, token = held
    remote = CliRunner(env={"TOUCHPATH_TOKEN": token, "XDG_CONFIG_HOME": str(hdb.parent)})
    run = remote.invoke(app, ["sources", "add", "app", "--db", str(hdb)])
    key = run.output.split("write key:")[1].split()[0]
    run = remote.invoke(app, ["sources", "rotate", "app", "--db", str(hdb)])
    assert run.exit_code == 0 and f"still working for 24 h: {key[:8]}" in run.output, run.output
    new = run.output.split("new write key:")[1].split()[0]
    run = remote.invoke(app, ["sources", "revoke", "app", "--key", key[:8], "--db", str(hdb)])
    assert run.exit_code == 0 and f"live keys {new[:8]}" in run.output, run.output
    assert _track(url, key) == 401 and _track(url, new) == 200
    table = remote.invoke(app, ["sources", "list", "--db", str(hdb)]).output
    assert new[:8] in table and new not in table
