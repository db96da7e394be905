"""Tracking plans check file imports as they check /v1 messages (flag, block, drop), through
the REST upload and `touchpath import`; and a privacy deletion leaves none of the person's
values in the catalogue or in the examples of what plans found."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import orjson
from segment.analytics import Client
from typer.testing import CliRunner

from conftest import Server
from test_plans import PLAN
from touchpath import catalogue
from touchpath.cli import app
from touchpath.system import opened

ROWS = [  # a flat JSONL file: one row per line, numbered from 1
    {"user_id": "u1", "event": "Order Completed", "ts": "2024-01-02T03:04:05Z",
     "revenue": 10, "currency": "EUR"},
    {"user_id": "u2", "event": "Order Completed", "ts": "2024-01-02T04:04:05Z",
     "revenue": "10", "currency": "GBP", "coupon": "X"},
    {"user_id": "u3", "event": "Order Completed", "ts": "2024-01-02T05:04:05Z",
     "currency": "USD"},
    {"user_id": "u4", "event": "Product Viewed", "ts": "2024-01-02T06:04:05Z", "sku": "A"},
]  # fmt: skip
JSONL = b"".join(orjson.dumps(r) + b"\n" for r in ROWS)


def _upload(server: Server, mode: str) -> dict[str, object]:
    with server.client("editor") as c:
        assert c.put("/api/plans/shop", json=PLAN).status_code == 200
    with server.client("admin") as c:
        r = c.put("/api/plans/assignments/test", json={"plan": "shop", "mode": mode})
        assert r.status_code == 200, r.text
    files = {"file": ("orders.jsonl", io.BytesIO(JSONL), "application/x-ndjson")}
    mapping = json.dumps({"person": "user_id", "time": "ts"})
    r = httpx.post(
        f"{server.url}/api/imports",
        headers=server.auth,
        files=files,
        data={"mapping": mapping, "source": "test"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    report: dict[str, object] = r.json()
    return report


def _imported(server: Server) -> dict[str, dict[str, object]]:
    rows = server.store.query(
        "SELECT user_id, properties FROM events WHERE source = ?", [server.source_id]
    )
    return {u: json.loads(p) for u, p in rows}


def test_flag_imports_every_row_and_records_its_violations(server: Server) -> None:
    report = _upload(server, "flag")
    assert (report["imported"], report["blocked"], report["flagged"]) == (4, 0, 2)
    assert set(_imported(server)) == {"u1", "u2", "u3", "u4"}
    rows = server.store.query(
        "SELECT message_id, property, kind, action FROM plan_violations ORDER BY 1, 2"
    )
    assert [(m.rsplit(":", 1)[1], p, k, a) for m, p, k, a in rows] == [
        ("2", "currency", "not_allowed_value", "kept"),
        ("2", "revenue", "wrong_type", "kept"),
        ("3", "revenue", "missing_required", "kept"),
    ]
    (payload,) = server.store.query("SELECT DISTINCT payload FROM plan_violations WHERE "
                                    "message_id LIKE '%:3'")[0]  # fmt: skip
    assert json.loads(payload)["userId"] == "u3"  # the row as the message it stands for


def test_block_sends_rows_to_rejected_with_the_reason(server: Server) -> None:
    report = _upload(server, "block")
    assert (report["imported"], report["blocked"], report["flagged"]) == (2, 2, 0)
    assert set(_imported(server)) == {"u1", "u4"}
    reasons = {m.rsplit(":", 1)[1]: r for m, r in server.store.query(
        "SELECT message_id, reason FROM rejected")}  # fmt: skip
    assert reasons["3"] == "plan shop: properties.revenue: required"
    assert "properties.currency: must be one of ['EUR', 'USD']" in reasons["2"]
    # the same file again: the blocked rows are blocked again, but recorded once in `rejected`
    again = _upload(server, "block")
    assert (again["imported"], again["blocked"], again["duplicates"]) == (0, 2, 2)
    assert server.store.query("SELECT count(*) FROM rejected") == [(2,)]


def test_drop_takes_out_what_the_plan_does_not_name(server: Server) -> None:
    report = _upload(server, "drop")
    assert report["imported"] == 4
    props = _imported(server)
    assert props["u2"] == {"revenue": "10", "currency": "GBP"}  # coupon dropped
    assert props["u1"] == {"revenue": 10, "currency": "EUR"}
    assert props["u4"] == {"sku": "A"}  # an event the plan does not list passes unchecked
    dropped = server.store.query("SELECT property FROM plan_violations WHERE action = 'dropped'")
    assert dropped == [("coupon",)]


def test_cli_import_is_checked_and_says_so(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    path = tmp_path / "orders.jsonl"
    path.write_bytes(JSONL)
    with opened(db=db) as tp:
        tp.store.create_source("shop-file")
        catalogue.save_plan(tp.store, catalogue.TrackingPlan.model_validate(PLAN))
        catalogue.assign(tp.store, "shop-file", "shop", mode="block")
    args = ["import", str(path), "--db", str(db), "--person", "user_id", "--time", "ts"]
    result = CliRunner().invoke(app, [*args, "--source", "shop-file"])
    assert result.exit_code == 0, result.output
    assert "2 imported" in result.output
    assert "tracking plan: 2 rows blocked" in result.output


def test_a_deleted_person_leaves_no_value_in_the_catalogue_or_plan_examples(
    server: Server,
) -> None:
    with server.client("editor") as c:
        assert c.put("/api/plans/shop", json=PLAN).status_code == 200
    with server.client("admin") as c:
        c.put("/api/plans/assignments/test", json={"plan": "shop", "mode": "flag"})
    sdk = Client(server.write_key, host=server.url, sync_mode=True)
    secret = "gone-person@example.com"
    sdk.identify("gone-7", {"email": secret}, message_id="who")
    sdk.track("gone-7", "Order Completed", {"revenue": "12", "note": secret}, message_id="bad")
    sdk.track("kept-8", "Order Completed", {"revenue": "5"}, message_id="other")
    before = server.store.query(
        "SELECT count(*) FROM plan_violations WHERE payload LIKE '%gone-7%'"
    )
    assert before == [(1,)]
    with server.client("admin") as c:
        r = c.post("/api/privacy/delete", json={"userId": "gone-7"})
        assert r.status_code == 200, r.text
        assert r.json()["deleted"]["plan_violations"] == 1
    left = server.store.query("SELECT message_id FROM plan_violations")
    assert left == [("other",)]  # someone else's example stays
    for table in ("catalogue_events", "catalogue_properties", "plan_violations", "rejected"):
        text = server.store.query(f"SELECT coalesce(string_agg(t::VARCHAR, ''), '') FROM {table} t")
        assert "gone-7" not in text[0][0] and secret not in text[0][0], table
    # the catalogue still knows the keys (names, never values)
    keys = server.store.query(
        "SELECT DISTINCT key FROM catalogue_properties WHERE event = 'Order Completed'"
    )
    assert ("note",) in keys
