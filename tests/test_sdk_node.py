"""@segment/analytics-node, the official Node SDK, run under `node` against the collector."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from conftest import Server

NODE_DIR = Path(__file__).resolve().parent / "node"
pytestmark = pytest.mark.node


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the @segment/analytics-node tests need Node.js >= 18")
    if not (NODE_DIR / "node_modules" / "@segment" / "analytics-node").is_dir():
        pytest.fail(f"{NODE_DIR}: @segment/analytics-node is missing; run `npm install` there")
    return node


def test_node_sdk_sends_every_call(server: Server) -> None:
    node = _node()
    proc = subprocess.run(
        [node, "send.mjs", server.url, server.write_key],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out = orjson.loads(proc.stdout.strip().splitlines()[-1])
    assert out["failed"] == []
    sent: dict[str, str] = out["sent"]
    assert set(sent) == {"track", "identify", "page", "screen", "group", "alias"}

    rows = {r["type"]: r for r in server.store.query_dicts("SELECT * FROM events")}
    assert len(rows) == 6
    for kind, mid in sent.items():
        assert rows[kind]["message_id"] == mid
        assert rows[kind]["source"] == server.source_id
        assert orjson.loads(rows[kind]["context"])["library"]["name"] == "@segment/analytics-node"
    track = rows["track"]
    assert (track["event"], track["user_id"], track["channel"]) == (
        "Checkout Started",
        "n1",
        "email",
    )
    assert orjson.loads(track["properties"]) == {"value": 99.5}
    assert track["original_timestamp"] == datetime(2026, 11, 20, 9, 30)
    assert track["received_at"] - track["timestamp"] == track["sent_at"] - datetime(
        2026, 11, 20, 9, 30
    )
    assert orjson.loads(rows["identify"]["traits"]) == {"email": "n1@example.com"}
    assert rows["identify"]["anonymous_id"] == "na1"
    assert (rows["page"]["event"], rows["screen"]["event"]) == ("Checkout", "Basket")
    assert rows["group"]["group_id"] == "ng1"
    assert (rows["alias"]["previous_id"], rows["alias"]["user_id"]) == ("na1", "n1")
