"""No message fails another: what the store cannot hold is refused at the door into `rejected`
(or with 400), and a group commit that fails anyway is retried request by request, so only the
request that carries the bad message gets the error."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any

import httpx
import orjson
import pytest
from tests.conftest import Server

from touchpath.errors import BadRequest, StoreUnavailable
from touchpath.events.message import stage_messages
from touchpath.store import Store, utcnow
from touchpath.store.store import IngestResult

POISON: list[tuple[dict[str, Any], str]] = [
    ({"timestamp": "-0001-01-01T00:00:00Z"}, "before 1970"),
    ({"timestamp": "1969-12-31T23:59:59Z"}, "before 1970"),
    ({"timestamp": "2999-01-01T00:00:00Z"}, "h after it was received"),
    ({"originalTimestamp": "0001-01-01T00:00:00Z", "sentAt": "294000-01-01T00:00:00Z"}, ""),
    ({"timestamp": "200000-01-01T00:00:00Z"}, ""),
    ({"properties": {"revenue": "<1e400>"}}, "a number JSON cannot hold"),
]


def _poison_raw(extra: dict[str, Any]) -> bytes:
    base = orjson.dumps({"type": "track", "event": "Bad", "userId": "mallory", **extra})
    return base.replace(b'"<1e400>"', b"1e400").replace(b'"<NaN>"', b"NaN")  # not JSON for orjson


def test_each_poison_is_rejected_with_its_reason(server: Server) -> None:
    good = orjson.dumps({"type": "track", "event": "Good", "userId": "ann"})
    batch = b",".join([good, *(_poison_raw(extra) for extra, _ in POISON)])
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=b'{"batch": [' + batch + b"]}",
        headers={"Content-Type": "application/json"},
        auth=(server.write_key, ""),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["accepted"], r.json()["rejected"]) == (1, len(POISON))
    reasons = [row[0] for row in server.store.query("SELECT reason FROM rejected ORDER BY rowid")]
    for (extra, expected), reason in zip(POISON, reasons, strict=True):
        assert expected in reason, (extra, reason)
    nan = _poison_raw({"properties": {"ratio": "<NaN>"}})  # not JSON at all: the request is 400
    r = httpx.post(f"{server.url}/v1/track", content=nan, auth=(server.write_key, ""))
    assert r.status_code == 400 and "invalid JSON" in r.text
    # The store stays readable: analyses over every event answer.
    with server.client("viewer") as c:
        spec = {"cohort_event": {"event": "Good"}, "period": "day", "periods": 3}
        assert c.post("/api/analyses/retention", json=spec).status_code == 200
        assert c.get("/api/events").status_code == 200


def test_json_nested_too_deep_is_400_naming_the_message(server: Server) -> None:
    deep = (
        b'{"type": "track", "event": "x", "userId": "u", "properties": '
        + b"[" * 100
        + b"]" * 100
        + b"}"
    )
    ok = (
        b'{"type": "track", "event": "x", "userId": "u", "properties": {"s": "'
        + b"[" * 100
        + b'"}}'
    )
    r = httpx.post(
        f"{server.url}/v1/batch",
        content=b'{"batch": [' + ok + b", " + deep + b"]}",
        headers={"Content-Type": "application/json"},
        auth=(server.write_key, ""),
    )
    assert r.status_code == 400
    assert (
        r.json()["error"]["message"] == "batch[1]: objects and arrays nested deeper than 64 levels"
    )
    r = httpx.post(f"{server.url}/v1/track", content=ok, auth=(server.write_key, ""))
    assert r.status_code == 200  # brackets inside a string are text


def test_one_poison_client_beside_four_good_ones(server: Server) -> None:
    """Four clients send good batches while one sends poison; no good request fails, and every
    message acknowledged is in the log."""
    acknowledged: list[int] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 6

    def good_client() -> None:
        with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=60) as c:
            while time.monotonic() < stop:
                batch = [
                    {
                        "type": "track",
                        "event": "Viewed",
                        "userId": f"u{i}",
                        "messageId": str(uuid.uuid4()),
                    }
                    for i in range(40)
                ]
                r = c.post("/v1/batch", json={"batch": batch})
                with lock:
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text}")
                    else:
                        acknowledged.append(r.json()["accepted"])

    def poison_client() -> None:
        with httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=60) as c:
            i = 0
            while time.monotonic() < stop:
                extra, _ = POISON[i % len(POISON)]
                raw = _poison_raw({**extra, "messageId": str(uuid.uuid4())})
                r = c.post("/v1/batch", content=b'{"batch": [' + raw + b"]}")
                assert r.status_code < 500, r.text
                i += 1

    threads = [threading.Thread(target=good_client) for _ in range(4)]
    threads.append(threading.Thread(target=poison_client))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sum(acknowledged) > 0
    server.store.wait_idle()
    (stored,) = server.store.query("SELECT count(*) FROM events WHERE event = 'Viewed'")[0]
    assert stored == sum(acknowledged)


def test_a_failed_group_commit_is_retried_request_by_request(store: Store) -> None:
    """A message that passes the door but still fails its commit (here a write that raises as
    DuckDB would for a value it cannot convert) fails only its own request."""
    real = store._normalise

    def normalise(table: Any, typed: Any = None) -> Any:
        if any(b"POISON" in raw.as_py().encode() for raw in table.column("raw")):
            import duckdb

            raise duckdb.ConversionException(
                "Conversion Error: Date and time not in timestamp range"
            )
        return real(table, typed)

    store._normalise = normalise  # type: ignore[method-assign]
    src = store.create_source("s").id
    gate = threading.Event()
    store.write(lambda con: gate.wait(10))  # hold the writer so the requests queue up together
    futures: list[Future[IngestResult]] = []
    for i in range(5):
        event = "POISON" if i == 2 else f"ok{i}"
        raw = orjson.dumps({"type": "track", "event": event, "userId": f"u{i}"})
        futures.append(store.ingest(stage_messages([raw], source=src, received_at=utcnow())))
    gate.set()
    results: list[object] = []
    for f in futures:
        try:
            results.append(f.result(timeout=30).accepted)
        except (BadRequest, StoreUnavailable) as exc:
            results.append(type(exc).__name__)
    assert results == [1, 1, "BadRequest", 1, 1]
    assert store.ingest_requests == 4  # the four good ones, each committed
    assert store.query("SELECT count(*) FROM events") == [(4,)]


@pytest.mark.parametrize(("depth", "status"), [(64, 200), (65, 400)])
def test_the_depth_limit_is_exact(server: Server, depth: int, status: int) -> None:
    arrays = depth - 2  # the message and its properties are two levels
    inner = b"[" * arrays + b"]" * arrays
    raw = b'{"type": "track", "event": "x", "userId": "u", "properties": {"a": ' + inner + b"}}"
    r = httpx.post(f"{server.url}/v1/track", content=raw, auth=(server.write_key, ""))
    assert r.status_code == status, r.text
