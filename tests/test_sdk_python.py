"""segment-analytics-python, the official SDK, as a real client of the collector."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
import segment.analytics as analytics
from segment.analytics import Client

from conftest import Server


@pytest.fixture
def module_client(server: Server) -> Iterator[None]:
    """The SDK's module-level client pointed at the server, as an app would configure it."""
    analytics.write_key = server.write_key
    analytics.host = server.url
    analytics.gzip = True
    analytics.sync_mode = True
    analytics.default_client = None
    try:
        yield
    finally:
        analytics.default_client = None
        analytics.sync_mode = False
        analytics.host = None
        analytics.write_key = None


def _rows(server: Server) -> dict[str, dict[str, Any]]:
    rows = server.store.query_dicts("SELECT * FROM events ORDER BY seq")
    return {r["type"]: r for r in rows}


def test_every_call_lands_with_its_fields(server: Server, module_client: None) -> None:
    when = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    campaign = {"source": "google", "medium": "cpc", "name": "winter"}
    analytics.track(
        "u1", "Order Completed", {"revenue": 42.0, "currency": "EUR"},
        context={"campaign": campaign}, timestamp=when, message_id="m-track",
    )  # fmt: skip
    analytics.identify("u1", {"email": "u1@example.com", "plan": "pro"}, anonymous_id="a1")
    analytics.page(
        "u1", "Shop", "Home", {"url": "https://shop.test/", "referrer": "https://t.co/x"}
    )
    analytics.screen("u1", "App", "Cart", {"items": 2})
    analytics.group("u1", "g1", {"name": "Acme"})
    analytics.alias("a1", "u1")
    rows = _rows(server)
    assert set(rows) == {"track", "identify", "page", "screen", "group", "alias"}

    track = rows["track"]
    assert (track["event"], track["user_id"], track["message_id"]) == (
        "Order Completed",
        "u1",
        "m-track",
    )
    assert orjson.loads(track["properties"]) == {"revenue": 42.0, "currency": "EUR"}
    assert track["channel"] == "paid_search"
    assert track["original_timestamp"] == when.replace(tzinfo=None)
    # The SDK sends sentAt a moment after the timestamp it was given: the event keeps that lag.
    lag = track["sent_at"] - track["original_timestamp"]
    assert track["received_at"] - track["timestamp"] == lag
    context = orjson.loads(track["context"])
    assert context["library"]["name"] == "analytics-python"
    assert context["campaign"] == campaign

    assert orjson.loads(rows["identify"]["traits"]) == {"email": "u1@example.com", "plan": "pro"}
    assert rows["identify"]["anonymous_id"] == "a1"
    assert rows["page"]["event"] == "Home"
    assert rows["page"]["channel"] == "social"
    assert rows["screen"]["event"] == "Cart"
    assert orjson.loads(rows["screen"]["properties"])["items"] == 2
    assert rows["group"]["group_id"] == "g1"
    assert orjson.loads(rows["group"]["traits"]) == {"name": "Acme"}
    assert (rows["alias"]["previous_id"], rows["alias"]["user_id"]) == ("a1", "u1")
    for row in rows.values():
        assert abs(row["received_at"] - datetime.now(UTC).replace(tzinfo=None)) < timedelta(
            minutes=1
        )


class _LostAckProxy:
    """Forwards every request to the server; the answer to the first is replaced by a 503."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.seen: list[tuple[list[str], int, int]] = []  # (messageIds, server status, sent status)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type", "content-encoding")
                }
                real = httpx.post(proxy.target + self.path, content=body, headers=headers)
                plain = (
                    gzip.decompress(body) if "gzip" in headers.get("Content-Encoding", "") else body
                )
                ids = [m["messageId"] for m in orjson.loads(plain)["batch"]]
                status = 503 if not proxy.seen else real.status_code
                proxy.seen.append((ids, real.status_code, status))
                out = real.content if status == real.status_code else b'{"success": false}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _LostAckProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_retry_after_a_lost_ack_stores_each_message_once(server: Server) -> None:
    with _LostAckProxy(server.url) as proxy:
        client = Client(
            server.write_key, host=proxy.url, gzip=True, max_retries=3, upload_interval=0.05
        )
        try:
            for i in range(20):
                client.track(f"u{i % 3}", "Product Viewed", {"sku": f"sku-{i}"})
            client.flush()
        finally:
            client.shutdown()
    assert len(proxy.seen) >= 2, proxy.seen
    first_ids, first_real, first_sent = proxy.seen[0]
    assert (first_real, first_sent) == (200, 503)
    resent = [ids for ids, _, _ in proxy.seen[1:] if set(ids) & set(first_ids)]
    assert resent and resent[0] == first_ids, "the SDK retried with the same messageIds"
    assert all(sent == 200 for _, _, sent in proxy.seen[1:])
    (n, distinct) = server.store.query("SELECT count(*), count(DISTINCT message_id) FROM events")[0]
    assert (n, distinct) == (20, 20)
    skus = {r[0] for r in server.store.query("SELECT properties->>'sku' FROM events")}
    assert skus == {f"sku-{i}" for i in range(20)}
