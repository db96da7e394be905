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
from contextlib import contextmanager
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


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A store served by `touchpath serve` in another process; (db, url, an owner token). One
    for the module: the tests that share it each read their own config directory."""
    with _serving(tmp_path_factory.mktemp("held") / "shop.duckdb") as (db, url, token, _):
        yield db, url, token


@contextmanager
def _serving(db: Path) -> Iterator[tuple[Path, str, str, subprocess.Popen[bytes]]]:
    with Store(db) as store:
        token = access.create_token(store, "owner", "cli")[1]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from touchpath.cli import main; main()",
         "serve", "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not db.with_name(db.name + ".server.json").exists() or not _up(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the server did not start: {proc.communicate()[1].decode()}")
        time.sleep(0.1)
    try:
        yield db, url, token, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/openapi.json", timeout=20).status_code == 200
    except httpx.TransportError:
        return False


def test_commands_go_through_the_server_that_holds_the_store(
    held: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, url, token = held
    cli = CliRunner(env={"TOUCHPATH_TOKEN": token, "XDG_CONFIG_HOME": str(tmp_path)})
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
    # A command with no route names the server instead of DuckDB's lock error.
    run = cli.invoke(app, ["serve", "--db", str(db), "--port", str(_free_port())])
    assert isinstance(run.exception, SpecError) and url in str(run.exception)
    # The token can come from the config file too; a wrong one says where it came from.
    (tmp_path / "touchpath").mkdir()
    (tmp_path / "touchpath" / "token").write_text("tp_wrong\n")
    run = CliRunner(env={"XDG_CONFIG_HOME": str(tmp_path)}).invoke(app, ["stats", "--db", str(db)])
    assert isinstance(run.exception, Unauthorized) and "token" in str(run.exception)


def test_without_a_token_the_cli_says_how_to_get_one(
    held: tuple[Path, str, str], tmp_path: Path
) -> None:
    db, url, _ = held
    run = CliRunner(env={"XDG_CONFIG_HOME": str(tmp_path)}).invoke(
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


DECISION = """\
name: banner
variants:
  none: {}
  sorry: {text: "Sorry"}
default: none
rules:
  - name: buyers
    when: {kind: audience, audience: buyers}
    variant: sorry
goal: {event: Bought}
"""
JOURNEY = """\
name: welcome
entry: {kind: event, event: {event: Signed Up}}
nodes:
  hello: {kind: exit}
"""
# Every command that reads the store, with its arguments: run beside the server, then alone.
SAME = [
    ["funnel", "--step", "Signed Up", "--step", "Bought"],
    ["funnel", "--step", "Signed Up", "--step", "Bought", "--json"],
    ["paths", "--start", "Signed Up", "--json"],
    ["retention", "--event", "Signed Up", "--json"],
    ["dfg", "--json"],
    ["variants", "--json"],
    ["attribution", "--conversion", "Bought", "--json"],
    ["feedback", "--spec", "{tmp}/feedback.yaml", "--json"],
    ["map", "list", "--json"],
    ["map", "discover", "--goal", "Bought"],
    ["journeys", "list", "--json"],
    ["journeys", "show", "welcome", "--json"],
    ["journeys", "dry-run", "welcome", "--user", "u1", "--until", "2026-02-01T00:00:00", "--json"],
    ["profiles", "show", "u1"],
    ["profiles", "explain", "u1"],
    ["profiles", "timeline", "u1"],
    ["audiences", "members", "buyers", "--csv"],
    ["destinations", "list", "--json"],
    ["destinations", "templates", "show", "hello"],
    ["destinations", "templates", "preview", "hello", "--profile", "u1"],
    ["destinations", "groups", "list", "--json"],
    ["destinations", "policy", "show"],
    ["destinations", "summary", "--json"],
    ["destinations", "subscriptions", "u1"],
    ["traits", "list", "--json"],
    ["audiences", "list", "--json"],
    ["experiments", "list", "--json"],
    ["experiments", "show", "trial"],
    ["experiments", "results", "trial", "--json"],
    ["experiments", "results", "--experiment-id", "trial", "--goal", "Bought"],
    ["decisions", "list", "--json"],
    ["decisions", "show", "banner", "--json"],
    ["decisions", "preview", "banner", "--as", "user_id:u1", "--json"],
    ["decisions", "preview", "--file", "{tmp}/banner.yaml", "--as", "user_id:u3"],
    ["decisions", "results", "banner", "--window", "7d", "--json"],
]


def test_analyses_maps_and_journeys_say_the_same_through_the_server(tmp_path: Path) -> None:
    """Each command's output through the server equals its output on the store alone."""
    with _serving(tmp_path / "shop.duckdb") as (db, url, token, proc):
        cli = CliRunner(env={"TOUCHPATH_TOKEN": token, "XDG_CONFIG_HOME": str(tmp_path)})
        key = cli.invoke(app, ["sources", "add", "web", "--db", str(db)]).output
        key = key.split("write key:")[1].split()[0]
        batch = [
            {"type": "track", "event": e, "userId": u, "timestamp": f"2026-01-0{d}T10:00:00Z"}
            for u in ("u1", "u2", "u3")
            for d, e in enumerate(["Signed Up", "Viewed", "Bought"][: 2 + (u != "u3")], 1)
        ]
        r = httpx.post(f"{url}/v1/batch", json={"batch": batch}, auth=(key, ""))
        assert r.status_code == 200 and r.json()["accepted"] == len(batch), r.text
        (tmp_path / "welcome.yaml").write_text(JOURNEY)
        (tmp_path / "feedback.yaml").write_text("allow_unknown: true\n")
        (tmp_path / "banner.yaml").write_text(DECISION)
        (tmp_path / "orders.csv").write_text(
            "userId,event,timestamp\nu4,Bought,2026-01-05T10:00:00Z\nu4,,2026-01-05T11:00:00Z\n"
        )
        template = {
            "channel": "email",
            "fields": {"subject": "Hi {{ traits.name }}"},
            "defaults": {"traits.name": "there"},
        }
        (tmp_path / "hello.yaml").write_text(json.dumps(template))
        same = [[a.format(tmp=tmp_path) for a in args] for args in SAME]
        said: list[str] = []
        for changes in (
            ["optimize"],
            ["journeys", "save", str(tmp_path / "welcome.yaml"), "--publish"],
            ["map", "save", _example("demo-support.yaml")],
            ["journeys", "pause", "welcome"],
            ["journeys", "resume", "welcome"],
            ["traits", "add", "orders", "count", "--event", "Bought"],
            ["audiences", "add", "buyers", '{"kind": "performed", "event": {"event": "Bought"}}'],
            ["privacy", "suppress", "u9"],
            ["privacy", "unsuppress", "u9"],
            ["destinations", "templates", "put", "hello", "-f", str(tmp_path / "hello.yaml")],
            ["destinations", "groups", "put", "news", "--channel", "email"],
            ["destinations", "subscribe", "u1", "--channel", "email", "--topic", "news"],
            ["import", str(tmp_path / "orders.csv"), "--source", "crm"],
            ["traits", "refresh"],
            ["audiences", "refresh"],
            ["feedback", "rescore"],
            ["experiments", "save", "trial", "--experiment-id", "trial", "--goal", "Bought"],
            ["experiments", "save", "gone", "--experiment-id", "gone", "--goal", "Bought"],
            ["experiments", "delete", "gone"],
            ["experiments", "audiences", "trial"],
            ["decisions", "save", str(tmp_path / "banner.yaml")],
            ["decisions", "publish", "banner", "--source", "web"],
            ["decisions", "save", str(tmp_path / "banner.yaml"), "--name", "gone"],
            ["decisions", "publish", "gone", "--source", "web"],
            ["decisions", "unpublish", "gone", "--source", "web"],
            ["decisions", "delete", "gone"],
        ):
            run = cli.invoke(app, [*changes, "--db", str(db)])
            assert run.exit_code == 0, (changes, run.output, run.exception)
            said.append(run.output)
        assert "1 imported" in said[12] and "1 bad" in said[12], said[12]
        assert "Refreshed" in said[13] and "scored 0 texts" in said[15], said[13:16]
        served = [cli.invoke(app, [*args, "--db", str(db)]) for args in same]
        for args, run in zip(same, served, strict=True):
            assert run.exit_code == 0, (args, run.output, run.exception)
        proc.terminate()
        proc.wait(timeout=30)
        alone = [cli.invoke(app, [*args, "--db", str(db)]) for args in same]
    for args, there, here in zip(same, served, alone, strict=True):
        assert here.exit_code == 0, (args, here.output, here.exception)
        assert _read(there.output) == _read(here.output), args


def _read(output: str) -> object:
    """A command's output to compare: JSON without where an analysis read from (the server's
    planner may pick its sorted journey copy, the CLI alone the log), or the text as printed."""
    try:
        data = json.loads(output)
    except ValueError:
        return output
    if isinstance(data, dict):
        data.pop("source", None)
        data.pop("as_of", None)
    return data


def _example(name: str) -> str:
    from touchpath.maps.library import EXAMPLES

    return str(EXAMPLES / name)
