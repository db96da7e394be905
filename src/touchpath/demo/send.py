"""Send messages through the real ingestion path: HTTP POST /v1/batch, several in flight."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import orjson

from touchpath.errors import TouchpathError

__all__ = ["send_batches"]


def send_batches(
    base_url: str,
    write_key: str,
    batches: Iterable[list[dict[str, object]]],
    *,
    concurrency: int = 4,
    compress: bool = True,
    on_sent: Callable[[int], None] | None = None,
) -> int:
    """POST each batch to /v1/batch, retrying 429 and 5xx; returns the messages acknowledged."""
    local = threading.local()

    def client() -> httpx.Client:
        c: httpx.Client | None = getattr(local, "client", None)
        if c is None:
            c = httpx.Client(base_url=base_url, auth=(write_key, ""), timeout=60)
            local.client = c
        return c

    def post(batch: list[dict[str, object]]) -> int:
        body = orjson.dumps({"batch": batch})
        headers = {"Content-Type": "application/json"}
        if compress:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        for attempt in range(20):
            r = client().post("/v1/batch", content=body, headers=headers)
            if r.status_code == 200:
                return len(batch)
            if r.status_code == 429 or r.status_code >= 500:
                threading.Event().wait(min(0.05 * 2**attempt, 2.0))
                continue
            raise TouchpathError(f"/v1/batch answered {r.status_code}: {r.text[:300]}")
        raise TouchpathError("/v1/batch kept refusing the batch after 20 tries")

    total = 0

    def done(fut: Future[int]) -> None:
        nonlocal total
        n = fut.result()
        total += n
        if on_sent:
            on_sent(n)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        pending: list[Future[int]] = []
        for batch in batches:
            pending.append(pool.submit(post, batch))
            if len(pending) >= concurrency * 2:
                done(pending.pop(0))
        for fut in pending:
            done(fut)
    return total
