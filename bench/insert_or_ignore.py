"""INSERT OR IGNORE against an anti-join INSERT into a table shaped like audience_members
(primary key (audience, profile_id)) holding 200k rows: the cost per inserted row.

    python bench/insert_or_ignore.py

Each insert runs in a transaction that is rolled back, so every size starts from the same table.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import duckdb


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect(str(Path(d) / "ioi.duckdb"))
        con.execute(
            "CREATE TABLE am (audience VARCHAR NOT NULL, profile_id VARCHAR NOT NULL, "
            "entered_at TIMESTAMP NOT NULL, PRIMARY KEY (audience, profile_id))"
        )
        con.execute(
            "INSERT INTO am SELECT 'aud' || (i % 2), 'p_' || md5(i::VARCHAR)[:20], now() "
            "FROM range(200000) t(i)"
        )
        print("| rows inserted (half already there) | INSERT OR IGNORE | anti-join INSERT |")
        print("|---:|---:|---:|")
        for n in (100, 10_000, 50_000):
            con.execute(
                "CREATE OR REPLACE TEMP TABLE src AS SELECT 'aud' || (i % 2) AS audience, "
                "'p_' || md5((i + i % 2 * 300000)::VARCHAR)[:20] AS profile_id, "
                f"now()::TIMESTAMP AS entered_at FROM range({n}) t(i)"
            )
            cells = []
            for sql in (
                "INSERT OR IGNORE INTO am SELECT * FROM src",
                "INSERT INTO am SELECT s.* FROM src s ANTI JOIN am m USING (audience, profile_id)",
            ):
                con.execute("BEGIN")
                t, cpu = time.perf_counter(), time.process_time()
                con.execute(sql)
                cells.append(
                    f"{time.perf_counter() - t:.3f} s ({time.process_time() - cpu:.3f} CPU-s)"
                )
                con.execute("ROLLBACK")
            print(f"| {n:,} | {cells[0]} | {cells[1]} | load {os.getloadavg()[0]:.0f}")


if __name__ == "__main__":
    main()
