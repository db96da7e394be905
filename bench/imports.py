"""Import rate (events/s) of `touchpath import` next to merely parsing the same file.

    python bench/imports.py [--data ../shared/data]

For each file: the full import into a fresh store (read, map, validate, write through the
single writer), a re-import (everything is a duplicate), and the peer: DuckDB reading the same
CSV (count(*) over read_csv all_varchar) or orjson decoding every line of the JSONL. "write
alone" INSERTs the event rows the import stored, already mapped, into another fresh store and
COMMITs them in the import's chunks of 100,000: DuckDB's own cost of the write, the floor under
any import into the event log, with its ratio to the peer.
"""

from __future__ import annotations

import argparse
import gzip
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import orjson
from stores import write_alone  # bench/stores.py, beside this file

from touchpath.collect.importers import ImportMapping, import_file
from touchpath.store import Store

REPO = Path(__file__).resolve().parents[1]


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = fn()
    return n, time.perf_counter() - t0


def duckdb_parse(path: Path) -> int:
    q = f"SELECT count(*) FROM read_csv('{path}', all_varchar=true, header=true)"
    return int(duckdb.execute(q).fetchall()[0][0])


def orjson_parse(path: Path) -> int:
    n = 0
    with gzip.open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
            n += 1
    return n


def segment_jsonl(csv_path: Path, out: Path) -> None:
    """The BPIC 2012 log as Segment track messages, one per line (gzip)."""
    duckdb.sql(
        f"""
        COPY (SELECT 'track' AS type, "case:concept:name" AS userId, "concept:name" AS event,
                     "time:timestamp" AS timestamp,
                     {{'lifecycle': "lifecycle:transition", 'resource': "org:resource",
                       'amount': "case:AMOUNT_REQ"::INT}} AS properties
              FROM read_csv('{csv_path}', all_varchar=true))
        TO '{out}' (FORMAT json, COMPRESSION gzip)
        """
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    data: Path = args.data
    tmp = Path(tempfile.mkdtemp(prefix="touchpath-bench-"))
    bpic = data / "bpic2012-loan-applications" / "bpic2012_events.csv.gz"
    retail = data / "uci-online-retail" / "online_retail.csv.gz"
    seg = tmp / "bpic2012_segment.jsonl.gz"
    segment_jsonl(bpic, seg)
    # Warm up once (Python imports pyarrow pulls in on first use, DuckDB's JSON functions), so
    # each row measures the steady rate rather than the process's first import.
    warm = tmp / "warm.jsonl"
    warm.write_text('{"type": "track", "userId": "u", "event": "e"}\n')
    with Store(tmp / "warm.duckdb") as store:
        import_file(store, warm, ImportMapping())
    cases: list[tuple[str, Path, ImportMapping, Callable[[Path], int], str]] = [
        ("BPIC 2012 CSV (no mapping)", bpic, ImportMapping(), duckdb_parse, "duckdb read_csv"),
        (
            "UCI Online Retail CSV",
            retail,
            ImportMapping(person="CustomerID", event="=Order Line", time="InvoiceDate"),
            duckdb_parse,
            "duckdb read_csv",
        ),
        ("BPIC 2012 as Segment JSONL", seg, ImportMapping(), orjson_parse, "orjson loads"),
    ]
    print(f"{'file':30} {'rows':>9} {'imported':>9} {'import s':>9} {'rows/s':>9} "
          f"{'re-import s':>11} {'peer':>16} {'peer s':>7} {'peer rows/s':>11} {'ratio':>6} "
          f"{'write alone/s':>13} {'ratio':>6}")  # fmt: skip
    for i, (label, path, mapping, peer, peer_name) in enumerate(cases):
        peer_rows, peer_s = timed(lambda p=path, f=peer: f(p))  # type: ignore[misc]
        with Store(tmp / f"bench{i}.duckdb") as store:
            report = import_file(store, path, mapping)
            again = import_file(store, path, mapping)
        assert again.imported == 0
        n, secs, _ = write_alone(tmp / f"bench{i}.duckdb", tmp / f"write{i}.duckdb", 100_000)
        floor = n / secs
        print(
            f"{label:30} {report.rows:>9,} {report.imported:>9,} {report.seconds:>9.2f} "
            f"{report.rows / report.seconds:>9,.0f} {again.seconds:>11.2f} {peer_name:>16} "
            f"{peer_s:>7.2f} {peer_rows / peer_s:>11,.0f} "
            f"{report.rows / report.seconds / (peer_rows / peer_s):>6.2f} "
            f"{floor:>13,.0f} {floor / (peer_rows / peer_s):>6.2f}"
        )


if __name__ == "__main__":
    main()
