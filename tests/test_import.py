"""File imports: real open event logs in, counts and line-numbered bad rows out."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
from tests.conftest import api_token, bearer
from typer.testing import CliRunner

from touchpath.cli import app
from touchpath.collect.importers import ImportMapping, detect_format, import_file
from touchpath.errors import ImportFailed
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web.server import serving

BPIC = "bpic2012-loan-applications/bpic2012_events.csv.gz"
RETAIL = "uci-online-retail/online_retail.csv.gz"
HELPDESK_CSV = "helpdesk-tickets/helpdesk_events.csv.gz"
HELPDESK_XES = "helpdesk-tickets/helpdesk.xes.gz"


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"))
    return path


def events_of(store: Store, source_id: str) -> list[dict[str, Any]]:
    return store.query_dicts(
        "SELECT seq, message_id, event, user_id, anonymous_id, timestamp, channel, "
        "properties::VARCHAR AS properties FROM events WHERE source = ? ORDER BY seq",
        [source_id],
    )


# ------------------------------------------------------------------------------- real data
@pytest.mark.slow
def test_bpic2012_imports_with_no_mapping(store: Store, data_dir: Path) -> None:
    report = import_file(store, data_dir / BPIC)
    assert (report.rows, report.imported, report.bad) == (262_200, 262_200, 0)
    assert report.source == "import:bpic2012_events"
    assert report.mapping["person"] == "case:concept:name"
    ((events, persons, activities, pairs, first, last),) = store.query(
        "SELECT count(*), count(DISTINCT user_id), count(DISTINCT event), "
        "count(DISTINCT (event, json_extract_string(properties, '$.\"lifecycle:transition\"'))), "
        "min(seq), max(seq) FROM events WHERE source = ?",
        [report.source_id],
    )
    assert (events, persons, activities, pairs) == (262_200, 13_087, 24, 36)
    assert (first, last) == (1, 262_200)
    # +02:00 (summer time) and +01:00 (winter time) both become UTC: lines 2 and 111 of the file.
    rows = store.query_dicts(
        "SELECT user_id, event, timestamp, "
        "json_extract(properties, '$.\"case:AMOUNT_REQ\"')::INT AS amount FROM events "
        "WHERE source = ? AND message_id IN (?, ?) ORDER BY seq",
        [report.source_id, f"imp:{report.digest[:24]}:2", f"imp:{report.digest[:24]}:111"],
    )
    assert rows == [
        {"user_id": "173688", "event": "A_SUBMITTED",
         "timestamp": datetime(2011, 9, 30, 22, 38, 44, 546000), "amount": 20000},
        {"user_id": "173694", "event": "W_Nabellen offertes",
         "timestamp": datetime(2011, 11, 1, 13, 54, 40, 128000), "amount": 7000},
    ]  # fmt: skip

    again = import_file(store, data_dir / BPIC)
    assert (again.imported, again.duplicates, again.bad) == (0, 262_200, 0)
    assert store.query("SELECT count(*) FROM events") == [(262_200,)]


@pytest.mark.slow
def test_uci_retail_rows_without_customer_are_bad_rows_with_line_numbers(
    store: Store, data_dir: Path
) -> None:
    path = data_dir / RETAIL
    mapping = ImportMapping(
        person="CustomerID",
        event="=Order Line",
        time="InvoiceDate",
        time_format="%Y-%m-%d %H:%M:%S",
        properties=("InvoiceNo", "StockCode", "Quantity", "UnitPrice", "Country"),
    )
    report = import_file(store, path, mapping, max_bad_rows=5)
    ((rows, missing),) = duckdb.sql(
        f"SELECT count(*), count(*) FILTER (CustomerID IS NULL) FROM read_csv('{path}')"
    ).fetchall()
    assert (report.rows, report.bad, report.imported) == (rows, missing, rows - missing)
    assert report.bad_by_field == {"person": missing}
    # The line numbers, counted independently with the csv module (the header is line 1).
    expected: list[int] = []
    with gzip.open(path, "rt", newline="") as f:
        for line, rec in enumerate(csv.DictReader(f), start=2):
            if not rec["CustomerID"]:
                expected.append(line)
                if len(expected) == 5:
                    break
    assert [b.line for b in report.bad_rows] == expected
    assert report.bad_rows[0].reason == "person: missing ('CustomerID' is empty)"
    assert report.bad_rows[0].row["CustomerID"] is None
    assert store.query(
        "SELECT count(*) FROM rejected WHERE source = ? AND reason LIKE 'person: missing%'",
        [report.source_id],
    ) == [(missing,)]
    ((customers, first, props),) = store.query(
        "SELECT count(DISTINCT user_id), min(timestamp), "
        "any_value(properties::VARCHAR ORDER BY seq) FROM events WHERE source = ?",
        [report.source_id],
    )
    assert customers == 4_372
    assert first == datetime(2010, 12, 1, 8, 26)
    assert json.loads(props) == {
        "InvoiceNo": "536365",
        "StockCode": "85123A",
        "Quantity": 6,
        "UnitPrice": 2.55,
        "Country": "United Kingdom",
    }


@pytest.mark.slow
def test_helpdesk_xes_equals_helpdesk_csv(store: Store, data_dir: Path) -> None:
    xes = import_file(store, data_dir / HELPDESK_XES)
    flat = import_file(store, data_dir / HELPDESK_CSV)
    assert xes.format == "xes"
    assert xes.source != flat.source
    assert xes.imported == flat.imported == 21_348
    assert (xes.bad, flat.bad) == (0, 0)

    def by_activity(source_id: str) -> list[tuple[Any, ...]]:
        return store.query(
            "SELECT event, count(*), count(DISTINCT user_id), min(timestamp), max(timestamp) "
            "FROM events WHERE source = ? GROUP BY event ORDER BY event",
            [source_id],
        )

    assert len(by_activity(xes.source_id)) == 14
    assert by_activity(xes.source_id) == by_activity(flat.source_id)
    differ = store.query(
        "SELECT count(*) FROM (SELECT user_id, event, timestamp, properties::VARCHAR FROM events "
        "WHERE source = ? EXCEPT ALL SELECT user_id, event, timestamp, properties::VARCHAR "
        "FROM events WHERE source = ?)",
        [xes.source_id, flat.source_id],
    )
    assert differ == [(0,)]


# ------------------------------------------------------------------------------- small files
def test_csv_bad_rows_get_their_line_numbers(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "visits.csv",
        """
user,action,at,page
u1,View,2024-03-01T10:00:00Z,home
u2,"View, twice",2024-03-01T11:00:00+02:00,"a ""quoted"" page"
u3,View
u4,View,yesterday,cart
,View,2024-03-01T12:00:00Z,home
u5,,2024-03-01T12:00:00Z,home
u6,Buy,2024-03-01T13:00:00Z,cart,extra
u7,Buy,2024-03-01 14:00:00,cart
""",
    )
    report = import_file(store, path, ImportMapping(person="user", event="action", time="at"))
    assert (report.rows, report.imported, report.bad) == (8, 3, 5)
    assert [(b.line, b.field) for b in report.bad_rows] == [
        (4, "line"),
        (5, "time"),
        (6, "person"),
        (7, "event"),
        (8, "line"),
    ]
    reasons = {b.line: b.reason for b in report.bad_rows}
    assert reasons[5] == "time: cannot read 'yesterday' as an ISO-8601 time"
    assert reasons[4].startswith("line: malformed CSV record (missing columns)")
    assert reasons[8].startswith("line: malformed CSV record (too many columns)")
    assert report.bad_rows[0].row == "u3,View"
    assert report.bad_rows[1].row == {
        "user": "u4",
        "action": "View",
        "at": "yesterday",
        "page": "cart",
    }
    rows = events_of(store, report.source_id)
    assert [(r["user_id"], r["event"], r["timestamp"]) for r in rows] == [
        ("u1", "View", datetime(2024, 3, 1, 10)),
        ("u2", "View, twice", datetime(2024, 3, 1, 9)),
        ("u7", "Buy", datetime(2024, 3, 1, 14)),
    ]
    assert json.loads(rows[1]["properties"]) == {"page": 'a "quoted" page'}
    assert [r["message_id"].rsplit(":", 1)[1] for r in rows] == ["2", "3", "9"]
    rejected = store.query(
        "SELECT reason, payload FROM rejected WHERE source = ? ORDER BY message_id",
        [report.source_id],
    )
    assert len(rejected) == 5
    assert ("time: cannot read 'yesterday' as an ISO-8601 time") in [r[0] for r in rejected]

    again = import_file(store, path, ImportMapping(person="user", event="action", time="at"))
    assert (again.imported, again.duplicates, again.bad) == (0, 3, 5)
    assert store.query("SELECT count(*) FROM rejected") == [(5,)]
    assert len(events_of(store, report.source_id)) == 3


def test_time_format_reads_month_first_times_and_zones(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "retail.csv",
        """
InvoiceNo,InvoiceDate,CustomerID
536365,12/1/2010 8:26,17850
536366,1/12/2011 18:05,17851
536367,13/1/2011 8:00,17852
""",
    )
    mapping = ImportMapping(
        person="CustomerID",
        event="=Order Line",
        time="InvoiceDate",
        time_format="%m/%d/%Y %H:%M",
    )
    report = import_file(store, path, mapping)
    assert [(b.line, b.reason) for b in report.bad_rows] == [
        (4, "time: cannot read '13/1/2011 8:00' with format '%m/%d/%Y %H:%M'")
    ]
    assert [r["timestamp"] for r in events_of(store, report.source_id)] == [
        datetime(2010, 12, 1, 8, 26),
        datetime(2011, 1, 12, 18, 5),
    ]
    london = import_file(
        store,
        path,
        mapping.model_copy(update={"time_zone": "America/New_York"}),
        source="retail-ny",
    )
    assert [r["timestamp"] for r in events_of(store, london.source_id)] == [
        datetime(2010, 12, 1, 13, 26),
        datetime(2011, 1, 12, 23, 5),
    ]


def test_event_from_two_columns_with_prefix_and_channel(store: Store, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "log.csv",
        """
case,activity,lifecycle,time,via
c1,W_Call,START,2024-01-01T10:00:00Z,Email
c1,W_Call,COMPLETE,2024-01-01T10:05:00Z,
c2,Ticket Created,,2024-01-01T11:00:00Z,
""",
    )
    mapping = ImportMapping(
        person="case", event="activity,lifecycle", time="time", channel="via", event_prefix="bank "
    )
    report = import_file(store, path, mapping)
    rows = events_of(store, report.source_id)
    assert [(r["event"], r["channel"]) for r in rows] == [
        ("bank W_Call START", "email"),
        ("bank W_Call COMPLETE", "direct"),
        ("bank Ticket Created", "direct"),
    ]
    derived = import_file(
        store, path, ImportMapping(person="case", event="activity", time="time"), source="plain"
    )
    assert [r["channel"] for r in events_of(store, derived.source_id)] == [
        "direct",
        "direct",
        "support",
    ]
    const = import_file(
        store,
        path,
        ImportMapping(person="case", event="activity", time="time", channel="=store"),
        source="const",
    )
    assert {r["channel"] for r in events_of(store, const.source_id)} == {"store"}


def test_unknown_column_names_the_column_and_the_available_ones(
    store: Store, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "x.csv", "who,what,when\nu1,A,2024-01-01\n")
    with pytest.raises(ImportFailed) as info:
        import_file(store, path, ImportMapping(person="customer", event="what", time="when"))
    assert (
        str(info.value)
        == "mapping.person: no column 'customer' in x.csv; available: who, what, when"
    )
    with pytest.raises(ImportFailed, match=r"mapping.properties: no column 'nope'"):
        import_file(
            store,
            path,
            ImportMapping(person="who", event="what", time="when", properties=("nope",)),
        )
    with pytest.raises(
        ImportFailed, match=r"mapping.time: none given .*available: who, what, when"
    ):
        import_file(store, path, ImportMapping(person="who", event="what"))
    assert store.query("SELECT count(*) FROM events") == [(0,)]


def test_segment_jsonl_goes_through_the_collector_rules(store: Store, tmp_path: Path) -> None:
    messages: list[dict[str, Any]] = [
        {"type": "track", "event": "Product Viewed", "userId": "u1", "messageId": "m-1",
         "timestamp": "2024-05-01T10:00:00+02:00", "properties": {"sku": "A1"},
         "context": {"campaign": {"medium": "email"}}},
        {"type": "page", "name": "Home", "anonymousId": "a9", "timestamp": "2024-05-01T09:00:00Z"},
        {"type": "track", "event": "Order Completed", "timestamp": "2024-05-01T11:00:00Z"},
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com"},
         "timestamp": "2024-05-01T11:30:00Z"},
    ]  # fmt: skip
    lines = [orjson.dumps(m).decode() for m in messages]
    lines.insert(2, "{not json")
    lines.append(lines[0])  # the same messageId again: a duplicate, as at the collector
    path = tmp_path / "segment.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    report = import_file(store, path)
    assert report.format == "segment"
    assert (report.rows, report.imported, report.duplicates, report.bad) == (6, 3, 1, 2)
    assert [(b.line, b.reason) for b in report.bad_rows] == [
        (3, "line: not a JSON object"),
        (4, "userId or anonymousId: one is required"),
    ]
    rows = store.query_dicts(
        "SELECT message_id, type, event, user_id, anonymous_id, timestamp, channel, "
        "traits::VARCHAR AS traits FROM events ORDER BY seq"
    )
    assert [(r["type"], r["event"], r["channel"]) for r in rows] == [
        ("track", "Product Viewed", "email"),
        ("page", "Home", "direct"),
        ("identify", None, "direct"),
    ]
    assert rows[0]["message_id"] == "m-1"
    assert rows[0]["timestamp"] == datetime(2024, 5, 1, 8)
    assert rows[1]["message_id"].endswith(":2")
    assert json.loads(rows[2]["traits"]) == {"email": "u1@example.com"}
    assert import_file(store, path).imported == 0
    assert store.query("SELECT count(*) FROM events") == [(3,)]


def test_flat_jsonl_keeps_property_types(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text(
        '{"user_id": "u1", "event": "Order Completed", "ts": "2024-01-02T03:04:05Z", '
        '"revenue": 12.5, "items": ["a", "b"], "gift": true}\n'
        "\n"
        '{"user_id": "u2", "event": "Order Completed", "ts": 1}\n'
        "[1, 2]\n"
    )
    report = import_file(store, path)
    assert report.format == "jsonl"
    assert [(b.line, b.field) for b in report.bad_rows] == [(3, "time"), (4, "line")]
    (row,) = events_of(store, report.source_id)
    assert (row["user_id"], row["event"], row["timestamp"]) == (
        "u1",
        "Order Completed",
        datetime(2024, 1, 2, 3, 4, 5),
    )
    assert json.loads(row["properties"]) == {"revenue": 12.5, "items": ["a", "b"], "gift": True}


def test_parquet_with_typed_columns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    duckdb.sql(
        f"""
        COPY (SELECT * FROM (VALUES
            ('c1', 'Signed Up', TIMESTAMPTZ '2024-02-01 10:00:00+01', 3, 'web'),
            ('c2', 'Signed Up', TIMESTAMPTZ '2024-02-02 10:00:00+00', NULL, 'app'),
            (NULL, 'Signed Up', TIMESTAMPTZ '2024-02-03 10:00:00+00', 1, 'web'))
            t(customer, what, happened, visits, platform)) TO '{path}' (FORMAT parquet)
        """
    )
    mapping = ImportMapping(person="customer", event="what", time="happened")
    report = import_file(store, path, mapping)
    assert (report.rows, report.imported) == (3, 2)
    assert [(b.line, b.field) for b in report.bad_rows] == [(3, "person")]
    rows = events_of(store, report.source_id)
    assert [r["timestamp"] for r in rows] == [datetime(2024, 2, 1, 9), datetime(2024, 2, 2, 10)]
    assert [json.loads(r["properties"]) for r in rows] == [
        {"visits": 3, "platform": "web"},
        {"platform": "app"},
    ]


def test_imports_number_events_after_ingest_and_tell_commit_listeners(
    store: Store, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    store.add_commit_listener(lambda con, first, last: seen.append((first, last)))
    path = write_csv(
        tmp_path / "a.csv", "userId,event,timestamp\nu1,A,2024-01-01\nu2,B,2024-01-02\n"
    )
    import_file(store, path)
    path2 = write_csv(tmp_path / "b.csv", "userId,event,timestamp\nu3,C,2024-01-03\n")
    import_file(store, path2, chunk_rows=1)
    assert seen == [(1, 2), (3, 3)]
    assert [r[0] for r in store.query("SELECT seq FROM events ORDER BY seq")] == [1, 2, 3]


def test_suppressed_people_are_not_imported(store: Store, tmp_path: Path) -> None:
    store.write_sync(
        lambda con: con.execute(
            "INSERT INTO suppressions VALUES ('user_id', 'u2', now()::TIMESTAMP, 'erasure')"
        )
    )
    path = write_csv(
        tmp_path / "a.csv", "userId,event,timestamp\nu1,A,2024-01-01\nu2,B,2024-01-02\n"
    )
    report = import_file(store, path)
    assert (report.imported, report.suppressed) == (1, 1)


def test_format_detection() -> None:
    assert detect_format(Path("a.CSV.gz")) == "csv"
    assert detect_format(Path("a.ndjson")) == "jsonl"
    assert detect_format(Path("log.xes.gz")) == "xes"
    with pytest.raises(ImportFailed, match=r"a.xlsx: unknown file type"):
        detect_format(Path("a.xlsx"))


# ------------------------------------------------------------------------------- CLI and REST
def test_cli_import_prints_counts_and_bad_rows(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "visits.csv",
        "user,action,at\nu1,View,2024-03-01T10:00:00Z\nu2,View,never\n,View,2024-03-01\n",
    )
    db = tmp_path / "cli.duckdb"
    runner = CliRunner()
    args = ["import", str(path), "--db", str(db), "--person", "user", "--event", "action"]
    result = runner.invoke(app, [*args, "--time", "at"])
    assert result.exit_code == 0, result.output
    assert "3 rows (csv)" in result.output
    assert "1 imported" in result.output and "2 bad" in result.output
    assert "time: cannot read 'never'" in result.output
    result = runner.invoke(app, [*args, "--time", "at", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["imported"], report["duplicates"], report["bad"]) == (0, 1, 2)
    assert [b["line"] for b in report["bad_rows"]] == [3, 4]
    result = runner.invoke(app, [*args, "--time", "when"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ImportFailed)
    assert "no column 'when'" in str(result.exception)


@pytest.fixture
def csv_bytes() -> Iterator[bytes]:
    yield b"userId,event,timestamp,plan\nu1,Signed Up,2024-01-01T00:00:00Z,pro\nu2,,2024-01-01,free\n"


def test_rest_upload_and_server_path(server: Any, tmp_path: Path, csv_bytes: bytes) -> None:
    url = f"{server.url}/api/imports"
    files = {"file": ("signups.csv", io.BytesIO(csv_bytes), "text/csv")}
    mapping = json.dumps({"properties": ["plan"]})
    r = httpx.post(url, headers=server.auth, files=files, data={"mapping": mapping}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["file"], body["source"]) == ("signups.csv", "import:signups")
    assert (body["imported"], body["bad"]) == (1, 1)
    assert body["bad_rows"][0]["line"] == 3
    r = httpx.post(
        url, headers=server.auth, files={"file": ("signups.csv", io.BytesIO(csv_bytes))}, timeout=30
    )
    assert (r.json()["imported"], r.json()["duplicates"]) == (0, 1)

    r = httpx.post(url, headers=server.auth, files={"nope": ("x.csv", b"")}, timeout=30)
    assert r.status_code == 422  # no `file` part


def test_path_imports_only_inside_the_import_folder(tmp_path: Path, csv_bytes: bytes) -> None:
    folder = tmp_path / "imports"
    folder.mkdir()
    (folder / "same.csv").write_bytes(csv_bytes)
    outside = tmp_path / "secret.csv"
    outside.write_bytes(csv_bytes)
    (folder / "link.csv").symlink_to(outside)
    off = Settings(db=tmp_path / "off.duckdb", port=0)
    with Store(off.db, off) as store, serving(off, store) as url:
        r = httpx.post(
            f"{url}/api/imports/path",
            json={"path": "/etc/passwd"},
            headers=bearer(api_token(store)),
        )
        assert r.status_code == 403 and "TOUCHPATH_IMPORT_DIR" in r.text  # off unless configured
    settings = Settings(db=tmp_path / "t.duckdb", port=0, import_dir=folder)
    with Store(settings.db, settings) as store, serving(settings, store) as url:
        auth = bearer(api_token(store))

        def post(body: dict[str, Any]) -> httpx.Response:
            return httpx.post(f"{url}/api/imports/path", json=body, headers=auth, timeout=30)

        r = post({"path": "same.csv", "source": "by-path"})
        assert r.status_code == 200, r.text
        assert (r.json()["source"], r.json()["imported"]) == ("by-path", 1)
        for bad in ("/etc/passwd", "../secret.csv", "link.csv", str(outside)):
            r = post({"path": bad})
            assert r.status_code == 403 and "outside the import folder" in r.text, bad
        r = post({"path": "same.csv", "mapping": {"person": "who"}})
        assert r.status_code == 400
        assert "mapping.person: no column 'who'" in r.json()["error"]["message"]
        r = post({"path": "nothing.csv"})
        assert r.status_code == 400 and "not a file" in r.text
        # The old way, a JSON body naming any path on the server, imports nothing.
        r = httpx.post(f"{url}/api/imports", json={"path": "/etc/passwd"}, headers=auth)
        assert r.status_code == 422
        assert store.query("SELECT count(*) FROM rejected WHERE payload LIKE '%root:%'") == [(0,)]


def test_an_upload_over_the_limit_gets_413_while_streaming(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "t.duckdb", port=0, max_upload_bytes=50_000)
    big = b"userId,event\n" + b"u1,Signed Up\n" * 10_000  # ~130 KB
    with Store(settings.db, settings) as store, serving(settings, store) as url:
        auth = bearer(api_token(store))
        r = httpx.post(f"{url}/api/imports", files={"file": ("big.csv", big)}, headers=auth)
        assert r.status_code == 413 and "50000" in r.text  # Content-Length says so at once

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            boundary = b"--b\r\n"
            yield (
                boundary
                + b'Content-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
            )
            for i in range(0, len(big), 8192):
                yield big[i : i + 8192]
            yield b"\r\n--b--\r\n"

        headers = {**auth, "Content-Type": "multipart/form-data; boundary=b"}
        r = httpx.post(f"{url}/api/imports", content=chunks(), headers=headers)
        assert r.status_code == 413, r.text
        assert store.query("SELECT count(*) FROM events") == [(0,)]


def test_jsonl_lines_keep_their_numbers_across_blank_crlf_and_bad_bytes(
    store: Store, tmp_path: Path
) -> None:
    ok = orjson.dumps({"type": "track", "event": "e", "userId": "u"})
    path = tmp_path / "odd.jsonl"
    # 1: ok (CRLF), 2: blank, 3: spaces only, 4: not UTF-8, 5: ok with a tab before it, 6: no id
    path.write_bytes(
        ok + b"\r\n\n   \n" + b'{"type": "track", "event": "\xff"}\n\t' + ok[:-1] + b', "x": 1}\n'
        b'{"type": "track", "event": "e"}'
    )
    report = import_file(store, path)
    assert (report.rows, report.imported, report.bad) == (4, 2, 2)
    assert [b.line for b in report.bad_rows] == [4, 6]
