"""The Segment wire contract of /v1, over real HTTP against a real store (DESIGN.md)."""

from __future__ import annotations

import base64
import gzip
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
from typer.testing import CliRunner

from conftest import Server
from touchpath.cli import app as cli_app
from touchpath.settings import Settings
from touchpath.store import Store, utcnow
from touchpath.web.server import serving

ROUTES = ("track", "identify", "page", "screen", "group", "alias")

# One valid message per route, as the SDKs send them (with the fields Segment adds).
VALID: dict[str, dict[str, Any]] = {
    "track": {"event": "Order Completed", "userId": "u1", "properties": {"revenue": 12.5}},
    "identify": {"userId": "u1", "traits": {"email": "u1@example.com"}},
    "page": {"anonymousId": "a1", "name": "Home", "properties": {"url": "https://shop.test/"}},
    "screen": {"userId": "u1", "name": "Cart"},
    "group": {"userId": "u1", "groupId": "g1", "traits": {"name": "Acme"}},
    "alias": {"userId": "u1", "previousId": "a1"},
}


def _mid() -> str:
    return str(uuid.uuid4())


def _client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, auth=(server.write_key, ""), timeout=30)


def _events(
    store: Store, where: str = "true", params: list[Any] | None = None
) -> list[dict[str, Any]]:
    return store.query_dicts(f"SELECT * FROM events WHERE {where} ORDER BY seq", params)


def _error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["success"] is False
    message: str = body["error"]["message"]
    return message


@contextmanager
def _serve(tmp_path: Path, **overrides: Any) -> Iterator[Server]:
    settings = Settings(db=tmp_path / "custom.duckdb", port=0, **overrides)
    with Store(settings.db, settings) as store:
        src = store.create_source("custom")
        with serving(settings, store) as url:
            yield Server(url, store, src.write_key, src.id)


# ----------------------------------------------------------------------------- routes and auth
@pytest.mark.parametrize("route", ROUTES)
def test_each_route_stores_its_message(server: Server, route: str) -> None:
    mid = _mid()
    with _client(server) as c:
        r = c.post(f"/v1/{route}", json={**VALID[route], "messageId": mid})
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    [row] = _events(server.store, "message_id = ?", [mid])
    assert row["type"] == route
    assert row["source"] == server.source_id
    expected_event = VALID[route].get("event") or (
        VALID[route].get("name") if route in ("page", "screen") else None
    )
    assert row["event"] == expected_event
    assert row["user_id"] == VALID[route].get("userId")
    assert row["anonymous_id"] == VALID[route].get("anonymousId")
    assert row["group_id"] == VALID[route].get("groupId")
    assert row["previous_id"] == VALID[route].get("previousId")
    if "traits" in VALID[route]:
        assert orjson.loads(row["traits"]) == VALID[route]["traits"]
    if "properties" in VALID[route]:
        assert orjson.loads(row["properties"]) == VALID[route]["properties"]


def test_batch_of_every_type(server: Server) -> None:
    batch = [{**VALID[t], "type": t, "messageId": _mid()} for t in ROUTES]
    with _client(server) as c:
        r = c.post("/v1/batch", json={"batch": batch})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == len(ROUTES)
    rows = _events(server.store)
    assert [(x["message_id"], x["type"]) for x in rows] == [
        (m["messageId"], m["type"]) for m in batch
    ]


def test_write_key_in_body_and_as_basic_username(server: Server) -> None:
    a, b, c_ = _mid(), _mid(), _mid()
    with server.client() as c:
        r1 = c.post(
            "/v1/track", json={**VALID["track"], "messageId": a, "writeKey": server.write_key}
        )
        r2 = c.post(
            "/v1/batch",
            json={
                "batch": [{**VALID["track"], "type": "track", "messageId": b}],
                "writeKey": server.write_key,
            },
        )
        token = base64.b64encode(f"{server.write_key}:".encode()).decode()
        r3 = c.post(
            "/v1/identify",
            json={**VALID["identify"], "messageId": c_},
            headers={"Authorization": f"Basic {token}"},
        )
    assert [r1.status_code, r2.status_code, r3.status_code] == [200, 200, 200]
    assert {x["message_id"] for x in _events(server.store)} == {a, b, c_}


@pytest.mark.parametrize(
    ("auth", "body_key", "needle"),
    [
        (None, None, "write key: missing"),
        (("nope", ""), None, "no source has this write key"),
        (None, "nope", "no source has this write key"),
    ],
)
def test_missing_or_bad_write_key_is_401(
    server: Server, auth: tuple[str, str] | None, body_key: str | None, needle: str
) -> None:
    body: dict[str, Any] = {**VALID["track"]}
    if body_key:
        body["writeKey"] = body_key
    with httpx.Client(base_url=server.url, auth=auth) as c:
        r = c.post("/v1/track", json=body)
    assert needle in _error(r, 401)
    assert _events(server.store) == []


def test_gzip_body_and_unknown_fields(server: Server) -> None:
    mid = _mid()
    body = {
        "batch": [
            {
                **VALID["track"],
                "type": "track",
                "messageId": mid,
                "_metadata": {"nodeVersion": "20", "jsRuntime": "node"},
                "somethingNew": [1, 2, 3],
            }
        ],
        "sentAt": None,
        "context": {"library": {"name": "analytics-node"}},
        "_metadata": {"bundled": []},
    }
    with _client(server) as c:
        r = c.post(
            "/v1/batch",
            content=gzip.compress(orjson.dumps(body)),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )
    assert r.status_code == 200, r.text
    assert [x["message_id"] for x in _events(server.store)] == [mid]


# ----------------------------------------------------------------------------- limits -> 400
def _big_message(size: int) -> dict[str, Any]:
    return {**VALID["track"], "type": "track", "properties": {"pad": "x" * size}}


@pytest.mark.parametrize(
    ("path", "make_body", "needle"),
    [
        ("/v1/track", lambda: orjson.dumps(_big_message(33 * 1024)), "message: "),
        (
            "/v1/batch",
            lambda: orjson.dumps({"batch": [VALID["track"], _big_message(33 * 1024)]}),
            "batch[1]: ",
        ),
        (
            "/v1/batch",
            lambda: orjson.dumps({"batch": [_big_message(20 * 1024) for _ in range(26)]}),
            "per request",
        ),
        (
            "/v1/batch",
            lambda: orjson.dumps(
                {"batch": [{"type": "track", "event": "e", "userId": "u"}] * 2501}
            ),
            "batch: 2501 messages; the limit is 2500",
        ),
        ("/v1/batch", lambda: b'{"batch": [{"type": "track",}]}', "invalid JSON"),
        ("/v1/track", lambda: b"not json", "invalid JSON"),
        ("/v1/batch", lambda: b'{"batch": {"type": "track"}}', "batch"),
        ("/v1/batch", lambda: b'{"nobatch": []}', "batch"),
        (
            "/v1/batch",
            lambda: b'{"batch": [{"type": "track", "event": "\xff"}]}',
            "body: not UTF-8 at byte 39",
        ),
    ],
    ids=[
        "message>32KB",
        "batch-message>32KB",
        "request>500KB",
        "batch>2500",
        "bad-json-batch",
        "bad-json-single",
        "batch-not-a-list",
        "batch-missing",
        "not-utf8",
    ],
)
def test_limits_and_invalid_json_are_400(
    server: Server, path: str, make_body: Callable[[], bytes], needle: str
) -> None:
    with _client(server) as c:
        r = c.post(path, content=make_body(), headers={"Content-Type": "application/json"})
    assert needle in _error(r, 400)
    assert _events(server.store) == []
    assert server.store.query("SELECT count(*) FROM rejected") == [(0,)]


def test_request_over_500kb_after_gunzip_is_400(server: Server) -> None:
    # Compresses to a few KB, so only the decompressed size can catch it.
    raw = orjson.dumps({"batch": [_big_message(20 * 1024) for _ in range(30)]})
    packed = gzip.compress(raw)
    assert len(packed) < 50 * 1024 < 500 * 1024 < len(raw)
    with _client(server) as c:
        r = c.post("/v1/batch", content=packed, headers={"Content-Encoding": "gzip"})
    assert "once decompressed" in _error(r, 400)
    with _client(server) as c:
        r = c.post("/v1/batch", content=b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"})
    assert "not valid gzip" in _error(r, 400)
    assert _events(server.store) == []


def test_message_of_just_under_32kb_is_accepted(server: Server) -> None:
    msg = _big_message(0)
    pad = 32 * 1024 - len(orjson.dumps(msg)) - 10
    msg["properties"]["pad"] = "x" * pad
    assert len(orjson.dumps(msg)) <= 32 * 1024
    with _client(server) as c:
        r = c.post("/v1/batch", json={"batch": [msg]})
    assert r.status_code == 200, r.text
    assert len(_events(server.store)) == 1


# ----------------------------------------------------------------------------- overload and outage
def test_full_writer_queue_is_429_with_retry_after(tmp_path: Path) -> None:
    with _serve(tmp_path, writer_queue_max=5, retry_after_seconds=3) as srv:
        gate = threading.Event()
        blocker = srv.store.write(lambda con: gate.wait(30))
        first: list[httpx.Response] = []
        batch = [{**VALID["track"], "type": "track", "messageId": _mid()} for _ in range(4)]

        def send_first() -> None:
            with _client(srv) as c:
                first.append(c.post("/v1/batch", json={"batch": batch}))

        t = threading.Thread(target=send_first)
        t.start()
        deadline = time.monotonic() + 10
        while srv.store.pending < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.store.pending == 4
        assert not first, "the first batch was answered before its commit"
        with _client(srv) as c:
            r = c.post("/v1/batch", json={"batch": batch[:2]})
        assert "retry" in _error(r, 429)
        assert r.headers["Retry-After"] == "3"
        gate.set()
        blocker.result(10)
        t.join(10)
        assert first[0].status_code == 200, first[0].text
        # Once drained, the same messages go through (and the retried ones are duplicates).
        with _client(srv) as c:
            r = c.post("/v1/batch", json={"batch": batch[:2]})
        assert r.status_code == 200 and r.json()["duplicates"] == 2
        assert len(_events(srv.store)) == 4


def test_closed_store_is_503(tmp_path: Path) -> None:
    with _serve(tmp_path) as srv:
        with _client(srv) as c:
            assert c.post("/v1/track", json=VALID["track"]).status_code == 200
        srv.store.close()
        with _client(srv) as c:
            r = c.post("/v1/track", json=VALID["track"])
            r2 = c.post("/v1/batch", json={"batch": [{**VALID["track"], "type": "track"}]})
        with httpx.Client(base_url=srv.url, auth=("a-key-never-seen", "")) as c:
            r3 = c.post("/v1/track", json=VALID["track"])
        assert "closed" in _error(r, 503)
        assert "closed" in _error(r2, 503)
        assert "closed" in _error(r3, 503)


def test_failed_write_is_503_and_nothing_is_lost(server: Server) -> None:
    store = server.store
    store.write_sync(lambda con: con.execute("ALTER TABLE events RENAME TO events_away"))
    mid = _mid()
    with _client(server) as c:
        r = c.post("/v1/track", json={**VALID["track"], "messageId": mid})
    assert "rolled back" in _error(r, 503)
    store.write_sync(lambda con: con.execute("ALTER TABLE events_away RENAME TO events"))
    assert _events(store) == []
    # The SDK retries with the same messageId: it is stored once, not treated as a duplicate.
    with _client(server) as c:
        r = c.post("/v1/track", json={**VALID["track"], "messageId": mid})
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1
    assert [x["message_id"] for x in _events(store)] == [mid]


# ----------------------------------------------------------------------------- durability
def test_200_only_after_commit(server: Server) -> None:
    """Rows are visible to a new connection the moment the 200 arrives."""
    mids = [_mid() for _ in range(50)]
    with _client(server) as c:
        for i in range(0, 50, 10):
            r = c.post(
                "/v1/batch",
                json={
                    "batch": [
                        {**VALID["track"], "type": "track", "messageId": m}
                        for m in mids[i : i + 10]
                    ]
                },
            )
            assert r.status_code == 200
            fresh = duckdb.connect(str(server.store.path))
            try:
                (n,) = fresh.execute(
                    "SELECT count(*) FROM events WHERE message_id IN (SELECT unnest(?))",
                    [mids[: i + 10]],
                ).fetchone() or (0,)
            finally:
                fresh.close()
            assert n == i + 10


# ----------------------------------------------------------------------------- timestamps and ids
def _ts(dt: datetime) -> str:
    return dt.isoformat() + "Z"


def test_timestamp_correction(server: Server) -> None:
    """timestamp = receivedAt - (sentAt - timestamp); batch sentAt applies to messages without."""
    skewed = datetime(2020, 1, 1, 12, 0, 0)  # the device clock is years off
    batch = [
        # own sentAt: the event happened 30 s before it was sent
        {**VALID["track"], "type": "track", "messageId": "own", "timestamp": _ts(skewed),
         "sentAt": _ts(skewed + timedelta(seconds=30))},
        # batch-level sentAt: 5 minutes before it was sent
        {**VALID["track"], "type": "track", "messageId": "batch", "timestamp": _ts(skewed)},
        # originalTimestamp wins over timestamp
        {**VALID["track"], "type": "track", "messageId": "orig",
         "originalTimestamp": "2020-01-01T13:00:00+01:00", "timestamp": "1999-01-01T00:00:00Z"},
    ]  # fmt: skip
    with _client(server) as c:
        r = c.post("/v1/batch", json={"batch": batch, "sentAt": _ts(skewed + timedelta(minutes=5))})
        r2 = c.post(
            "/v1/track",
            json={
                **VALID["track"],
                "messageId": "nosent",
                "timestamp": "2021-06-01T10:00:00+02:00",
            },
        )
        r3 = c.post("/v1/track", json={**VALID["track"], "messageId": "none"})
    assert [r.status_code, r2.status_code, r3.status_code] == [200, 200, 200]
    rows = {x["message_id"]: x for x in _events(server.store)}
    own, bat = rows["own"], rows["batch"]
    assert own["received_at"] - own["timestamp"] == timedelta(seconds=30)
    assert own["original_timestamp"] == skewed
    assert own["sent_at"] == skewed + timedelta(seconds=30)
    assert bat["received_at"] - bat["timestamp"] == timedelta(minutes=5)
    assert bat["sent_at"] == skewed + timedelta(minutes=5)
    assert rows["orig"]["original_timestamp"] == datetime(2020, 1, 1, 12, 0, 0)
    assert rows["orig"]["received_at"] - rows["orig"]["timestamp"] == timedelta(minutes=5)
    # No sentAt: the sent timestamp as is, converted to UTC.
    assert rows["nosent"]["timestamp"] == datetime(2021, 6, 1, 8, 0, 0)
    assert rows["nosent"]["sent_at"] is None
    # No time at all: server time.
    assert rows["none"]["timestamp"] == rows["none"]["received_at"]
    assert abs(rows["none"]["received_at"] - utcnow()) < timedelta(minutes=1)


def test_message_id_assigned_when_missing(server: Server) -> None:
    with _client(server) as c:
        r = c.post("/v1/batch", json={"batch": [{**VALID["track"], "type": "track"}] * 3})
        r2 = c.post("/v1/track", json=VALID["track"])
    assert r.json()["accepted"] == 3 and r2.json()["accepted"] == 1
    ids = [x["message_id"] for x in _events(server.store)]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert all(uuid.UUID(i) for i in ids)


# ----------------------------------------------------------------------------- dedupe
def test_duplicates_dropped_within_window_kept_across_sources(server: Server) -> None:
    other = server.store.create_source("other")
    mid = _mid()
    msg = {**VALID["track"], "type": "track", "messageId": mid}
    with _client(server) as c:
        r1 = c.post("/v1/batch", json={"batch": [msg, msg]})  # repeated within one request
        r2 = c.post("/v1/track", json=msg)  # repeated later
    with httpx.Client(base_url=server.url, auth=(other.write_key, "")) as c:
        r3 = c.post("/v1/track", json=msg)  # same messageId, another source
    assert (r1.json()["accepted"], r1.json()["duplicates"]) == (1, 1)
    assert (r2.json()["accepted"], r2.json()["duplicates"]) == (0, 1)
    assert (r3.json()["accepted"], r3.json()["duplicates"]) == (1, 0)
    rows = _events(server.store, "message_id = ?", [mid])
    assert sorted(x["source"] for x in rows) == sorted([server.source_id, other.id])


def test_duplicates_dropped_across_concurrent_requests(server: Server) -> None:
    msgs = [{**VALID["track"], "type": "track", "messageId": _mid()} for _ in range(20)]
    results: list[int] = []

    def send() -> None:
        with _client(server) as c:
            results.append(c.post("/v1/batch", json={"batch": msgs}).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 6
    assert server.store.query("SELECT count(*), count(DISTINCT message_id) FROM events") == [
        (20, 20)
    ]


def test_duplicate_window_expires(tmp_path: Path) -> None:
    """A repeat within the window is dropped; once the window has passed, the same message is
    accepted again, and not before. On a loaded machine a request can take seconds: a repeat is
    only held to being dropped when both requests were answered within the window (as the test
    times them); otherwise the test tries again with a new message, and it waits for the expiry
    with a generous deadline instead of a fixed sleep."""
    window = 3.0
    with _serve(tmp_path, dedupe_window_hours=window / 3600) as srv, _client(srv) as c:
        for _ in range(20):
            msg = {**VALID["track"], "messageId": _mid()}
            sent = time.monotonic()
            first = c.post("/v1/track", json=msg).json()
            again = c.post("/v1/track", json=msg).json()
            assert first["accepted"] == 1, first
            if time.monotonic() - sent < window:
                break
        else:
            pytest.fail("no two requests were answered within the duplicate window")
        assert again["duplicates"] == 1, again
        deadline = sent + window + 120
        while (later := c.post("/v1/track", json=msg).json())["accepted"] == 0:
            assert later["duplicates"] == 1, later
            assert time.monotonic() < deadline, "the duplicate window never expired"
            time.sleep(0.2)
        assert time.monotonic() - sent >= window, "the window expired early"
        assert len(_events(srv.store, "message_id = ?", [msg["messageId"]])) == 2


def test_duplicates_survive_a_restart(tmp_path: Path) -> None:
    msg = {**VALID["track"], "messageId": _mid()}
    with _serve(tmp_path) as srv:
        with _client(srv) as c:
            assert c.post("/v1/track", json=msg).json()["accepted"] == 1
        key = srv.write_key
    settings = Settings(db=tmp_path / "custom.duckdb", port=0)
    with Store(settings.db, settings) as store, serving(settings, store) as url:
        with httpx.Client(base_url=url, auth=(key, "")) as c:
            assert c.post("/v1/track", json=msg).json()["duplicates"] == 1
        assert store.query("SELECT count(*) FROM events") == [(1,)]


# ----------------------------------------------------------------------------- rejected messages
INVALID: list[tuple[dict[str, Any], str]] = [
    ({"type": "track", "event": "X"}, "userId or anonymousId: one is required"),
    ({"type": "track", "userId": "u1"}, "event: required for a track"),
    ({"type": "track", "userId": "u1", "event": ""}, "event: required for a track"),
    ({"type": "purchase", "userId": "u1"}, "type: unknown message type 'purchase'"),
    ({"userId": "u1", "event": "X"}, "type: required"),
    ({"type": "track", "userId": {"id": 1}, "event": "X"}, "userId: must be a string"),
    ({"type": "group", "userId": "u1"}, "groupId: required for a group"),
    ({"type": "alias", "userId": "u1"}, "previousId: required for an alias"),
    ({"type": "track", "userId": "u1", "event": "X", "timestamp": "2024-13-01"},
     "timestamp: not an ISO-8601 time: '2024-13-01'"),
    ({"type": "track", "userId": "u1", "event": "X", "sentAt": "yesterday"},
     "sentAt: not an ISO-8601 time: 'yesterday'"),
    ({"type": "track", "userId": "u1", "event": "X", "originalTimestamp": "soon"},
     "originalTimestamp: not an ISO-8601 time: 'soon'"),
]  # fmt: skip


def test_invalid_messages_are_rejected_with_the_reason(server: Server, tmp_path: Path) -> None:
    good = {**VALID["track"], "type": "track", "messageId": "good"}
    batch = [good, *[{**m, "messageId": f"bad{i}"} for i, (m, _) in enumerate(INVALID)], 7]
    with _client(server) as c:
        r = c.post("/v1/batch", json={"batch": batch})
        r_single = c.post("/v1/track", json={"messageId": "bad-single", "event": "X"})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "success": True,
        "accepted": 1,
        "rejected": len(INVALID) + 1,
        "duplicates": 0,
    }
    assert r_single.json()["rejected"] == 1
    assert [x["message_id"] for x in _events(server.store)] == ["good"]

    def check(rows: list[dict[str, Any]]) -> None:
        by_id = {x["message_id"]: x for x in rows}
        for i, (_, reason) in enumerate(INVALID):
            got = by_id[f"bad{i}"]
            assert got["reason"].startswith(reason), (got["reason"], reason)
            assert orjson.loads(got["payload"])["messageId"] == f"bad{i}"
            assert got["source"] == server.source_id
        not_object = [x for x in rows if x["payload"] == "7"]
        assert [x["reason"] for x in not_object] == ["message: not a JSON object"]
        assert by_id["bad-single"]["reason"] == "userId or anonymousId: one is required"
        assert by_id["bad-single"]["type"] == "track"

    api = httpx.get(f"{server.url}/api/rejected", headers=server.auth, timeout=30)
    assert api.status_code == 200
    check(api.json())
    assert len(api.json()) == len(INVALID) + 2

    # The CLI reads the same file; the server's store is the only writer, the CLI opens it too.
    cli = CliRunner().invoke(
        cli_app, ["rejected", "--db", str(server.store.path), "--json", "--limit", "100"]
    )
    assert cli.exit_code == 0, cli.output
    check(orjson.loads(cli.output))
