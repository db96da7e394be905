"""The CLI beside a running server: while `touchpath serve` (another process) holds the store, a
command goes through the server's REST API with the same output; a --db that does not exist is
an error, not a new empty store."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from touchpath import access
from touchpath.cli import app
from touchpath.errors import NotFound, SpecError, Unauthorized
from touchpath.store import Store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """A store served by `touchpath serve` in another process; (db, url, an owner token)."""
    db = tmp_path / "shop.duckdb"
    with Store(db) as store:
        token = access.create_token(store, "owner", "cli")[1]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from touchpath.cli import main; main()",
         "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not db.with_name(db.name + ".server.json").exists() or not _up(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {proc.communicate()[1].decode()}")
        time.sleep(0.1)
    try:
        yield db, url, token
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/openapi.json", timeout=20).status_code == 200
    except httpx.TransportError:
        return False


def test_commands_go_through_the_server_that_holds_the_store(held: tuple[Path, str, str]) -> None:
    db, url, token = held
    cli = CliRunner(env={"TOUCHPATH_TOKEN": token, "XDG_CONFIG_HOME": str(db.parent)})
    run = cli.invoke(app, ["sources", "add", "web", "--db", str(db)])
    assert run.exit_code == 0, run.output
    key = run.output.split("write key:")[1].split()[0]
    r = httpx.post(f"{url}/v1/track", json={"event": "Hi", "userId": "u1"}, auth=(key, ""))
    assert r.status_code == 200
    run = cli.invoke(app, ["stats", "--db", str(db), "--json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["events"] == 1
    assert "1 events, 0 rejected" in cli.invoke(app, ["stats", "--db", str(db)]).output
    run = cli.invoke(app, ["users", "add", "ann@shop.io", "--role", "editor", "--db", str(db)])
    assert run.exit_code == 0 and "one-time password:" in run.output, run.output
    run = cli.invoke(app, ["tokens", "list", "--db", str(db), "--json"])
    assert run.exit_code == 0 and "tp_" in run.output, run.output
    run = cli.invoke(app, ["privacy", "delete", "u1", "--db", str(db), "--json"])
    assert run.exit_code == 0 and '"events"' in run.output, run.output
    # A command with no route yet names the server instead of DuckDB's lock error.
    run = cli.invoke(app, ["funnel", "--db", str(db), "--step", "a", "--step", "b"])
    assert isinstance(run.exception, SpecError) and url in str(run.exception)
    # The token can come from the config file too; a wrong one says where it came from.
    (db.parent / "touchpath").mkdir()
    (db.parent / "touchpath" / "token").write_text("tp_wrong\n")
    run = CliRunner(env={"XDG_CONFIG_HOME": str(db.parent)}).invoke(app, ["stats", "--db", str(db)])
    assert isinstance(run.exception, Unauthorized) and "token" in str(run.exception)


def test_without_a_token_the_cli_says_how_to_get_one(held: tuple[Path, str, str]) -> None:
    db, url, _ = held
    run = CliRunner(env={"XDG_CONFIG_HOME": str(db.parent)}).invoke(
        app, ["sources", "list", "--db", str(db)]
    )
    assert isinstance(run.exception, Unauthorized)
    assert url in str(run.exception) and "TOUCHPATH_TOKEN" in str(run.exception)


def test_a_missing_store_is_an_error_unless_the_command_makes_one(tmp_path: Path) -> None:
    typo = tmp_path / "shopp.duckdb"
    run = CliRunner().invoke(app, ["stats", "--db", str(typo)])
    assert isinstance(run.exception, NotFound) and "no such store" in str(run.exception)
    assert not typo.exists()
    run = CliRunner().invoke(app, ["sources", "add", "web", "--db", str(typo)])
    assert run.exit_code == 0 and typo.exists()
