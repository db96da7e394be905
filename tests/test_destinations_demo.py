"""`touchpath demo` runs its destinations for real: local SMTP and HTTP receivers get the sample
messages and the forwarded orders, every webhook signature verified; it publishes its journeys
(tests/test_demo_journeys.py runs them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb


def test_the_demo_shows_messages_arriving(tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    run = subprocess.run(
        [sys.executable, "-c", "from touchpath.cli import main; main()", "demo",
         "--db", str(db), "--customers", "60", "--port", "0", "--no-serve"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = " ".join(run.stdout.split())
    assert "demo receiver got" not in out  # a summary, not a line per message
    assert "published journey abandoned-cart v1" in out
    assert "published journey slow-support v1" in out
    assert "the demo receivers got 3 emails, 3 SMS, 3 push notifications" in out
    assert "every signature verified: True" in out
    con = duckdb.connect(str(db), read_only=True)
    states = dict(con.execute("SELECT state, count(*) FROM outbox GROUP BY 1").fetchall())
    events = dict(
        con.execute(
            "SELECT event, count(*) FROM events WHERE source = 'touchpath.destinations' GROUP BY 1"
        ).fetchall()
    )
    con.close()
    assert states.get("pending", 0) == 0 and states.get("dead", 0) == 0
    assert events["Message Sent"] == 9  # 3 emails, 3 SMS, 3 push: tied back to the people
