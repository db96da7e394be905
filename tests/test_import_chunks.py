"""File imports' fast paths: channel keys from columns, chunk numbering, partial re-imports."""

from __future__ import annotations

from pathlib import Path

import orjson

from touchpath.collect.importers import ImportMapping, import_file
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow

ROWS = [
    # (user, event, referrer, url, channel)
    ("u1", "Home", "https://www.google.com/search?q=x", "https://shop.example/", ""),
    ("u2", "Home", "https://facebook.com/post/1", "https://shop.example/", ""),
    ("u3", "Home", "https://shop.example/cart", "https://shop.example/", ""),
    ("u4", "Home", "", "", "email"),
    ("u5", "Home", "https://blog.other.org/a", "https://shop.example/p", ""),
    ("u6", "Ticket Created", "", "", ""),
    ("u7", "Home", "", "https://shop.example/", "Paid_Search"),
]


def collector_channels(store: Store) -> list[str]:
    """The channels the /v1 collector derives for the same rows as track messages."""
    src = store.create_source("collector").id
    raws = []
    for user, event, referrer, url, channel in ROWS:
        props = {k: v for k, v in (("referrer", referrer), ("url", url), ("channel", channel)) if v}
        raws.append(
            orjson.dumps(
                {
                    "type": "track",
                    "event": event,
                    "userId": user,
                    "timestamp": "2024-01-01T00:00:00Z",
                    "properties": props,
                }
            )
        )
    store.ingest(stage_messages(raws, source=src, received_at=utcnow())).result()
    rows = store.query("SELECT channel FROM events WHERE source = ? ORDER BY seq", [src])
    return [r[0] for r in rows]


def test_channel_from_property_columns_equals_the_collector(store: Store, tmp_path: Path) -> None:
    csv_path = tmp_path / "visits.csv"
    lines = ["user,event,time,referrer,url,channel"]
    lines += [f"{u},{e},2024-01-01T00:00:00Z,{r},{url},{c}" for u, e, r, url, c in ROWS]
    csv_path.write_text("\n".join(lines) + "\n")
    jsonl_path = tmp_path / "visits.jsonl"
    jsonl_path.write_text(
        "\n".join(
            orjson.dumps(
                {"user": u, "event": e, "time": "2024-01-01T00:00:00Z"}
                | {k: v for k, v in (("referrer", r), ("url", url), ("channel", c)) if v}
            ).decode()
            for u, e, r, url, c in ROWS
        )
    )
    mapping = ImportMapping(person="user")
    expected = collector_channels(store)
    assert expected == [
        "organic_search",
        "social",
        "direct",
        "email",
        "referral",
        "support",
        "paid_search",
    ]
    for path in (csv_path, jsonl_path):
        report = import_file(store, path, mapping, source=path.name)
        assert report.imported == len(ROWS)
        got = store.query(
            "SELECT channel FROM events WHERE source = ? ORDER BY seq", [report.source_id]
        )
        assert [r[0] for r in got] == expected, path.name


def test_chunks_number_without_gaps_and_partial_reimport_fills_in(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "person,activity,time\n"
        + "".join(f"c{i % 3},step {i},2024-01-01T00:{i:02d}:00Z\n" for i in range(11))
    )
    first = import_file(store, path, chunk_rows=3)
    assert (first.imported, first.duplicates) == (11, 0)
    rows = store.query(
        "SELECT seq, event FROM events WHERE source = ? ORDER BY seq", [first.source_id]
    )
    assert [r[1] for r in rows] == [f"step {i}" for i in range(11)]
    assert [r[0] for r in rows] == list(range(rows[0][0], rows[0][0] + 11))
    # Lose some events (as after a partial import), then import again: only those come back.
    store.write_sync(
        lambda con: con.execute(
            "DELETE FROM events WHERE source = ? AND event IN ('step 1', 'step 5', 'step 10')",
            [first.source_id],
        )
    )
    again = import_file(store, path, chunk_rows=3)
    assert (again.imported, again.duplicates) == (3, 8)
    new = store.query(
        "SELECT seq, event FROM events WHERE source = ? AND seq > ? ORDER BY seq",
        [first.source_id, rows[-1][0]],
    )
    assert [r[1] for r in new] == ["step 1", "step 5", "step 10"]
    assert [r[0] for r in new] == [rows[-1][0] + 1, rows[-1][0] + 2, rows[-1][0] + 3]
    third = import_file(store, path, chunk_rows=3)
    assert (third.imported, third.duplicates) == (0, 11)
