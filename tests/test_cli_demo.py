"""`touchpath demo`, the main job: generate, send through POST /v1/batch, serve."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb

from touchpath import access
from touchpath.demo import GroundTruth
from touchpath.store import Store


def test_demo_sends_the_business_through_http_and_keeps_every_message(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    run = subprocess.run(
        [sys.executable, "-c", "from touchpath.cli import main; main()", "demo",
         "--db", str(db), "--customers", "150", "--port", "0", "--no-serve"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Touchpath is serving http://127.0.0.1:" in run.stdout
    # The demo makes an owner and prints the sign-in; the password works against the store.
    m = re.search(r"sign in as\s+(\S+)\s+password\s+(\S+)", run.stdout)
    assert m is not None, run.stdout
    with Store(db) as store:
        user = access.authenticate(store, m.group(1), m.group(2))
        assert user is not None and user.role == "owner"
    truth = GroundTruth.from_json(db.with_suffix(".truth.json").read_bytes())
    con = duckdb.connect(str(db), read_only=True)
    (events,) = con.execute(
        "SELECT count(*) FROM events e JOIN sources s ON s.id = e.source WHERE s.name = 'demo'"
    ).fetchone() or (0,)
    (rejected,) = con.execute("SELECT count(*) FROM rejected").fetchone() or (0,)
    con.close()
    # Every generated message is either in the event log or rejected with a reason.
    assert rejected == truth.invalid_messages
    assert events == truth.events - truth.invalid_messages
    assert f"{truth.invalid_messages:,} rejected messages kept" in run.stdout


def test_reload_into_a_store_with_live_journeys_enters_no_one(tmp_path: Path) -> None:
    # The demo's journeys are live after a first run; loading another history (another seed:
    # new carts, tickets) must not enter them, or months-old carts would get reminders now.
    db = tmp_path / "demo.duckdb"

    def demo(*extra: str) -> str:
        run = subprocess.run(
            [sys.executable, "-c", "from touchpath.cli import main; main()", "demo", "--db",
             str(db), "--customers", "60", "--days", "14", "--port", "0", "--no-serve", *extra],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        return run.stdout

    demo("--seed", "5")
    out = demo("--seed", "6", "--reload")
    assert "pausing the live journeys while the history is loaded: abandoned-cart" in out
    con = duckdb.connect(str(db), read_only=True)
    carts = con.execute(
        "SELECT count(DISTINCT properties ->> 'cart_id') FROM events WHERE event = 'Cart Viewed'"
    ).fetchone()
    entered = con.execute("SELECT count(*) FROM journey_state").fetchone()
    live = con.execute("SELECT name, status FROM journeys ORDER BY 1").fetchall()
    con.close()
    assert carts is not None and carts[0] > 0  # the history had carts to enter with
    assert entered == (0,)
    assert live == [("abandoned-cart", "live"), ("slow-support", "live")]
