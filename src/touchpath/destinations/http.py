"""One HTTP delivery, shared by the HTTP kinds (webhook, SMS, push): the address checked and
pinned (`ssrf.pin`), a timeout, no redirects, and the answer turned into a `DeliveryResult`.

>>> [classify(s, {}).outcome for s in (204, 301, 404, 410, 429, 503)]
['delivered', 'failed', 'failed', 'gone', 'retry', 'retry']
>>> classify(503, {"retry-after": "7"}).retry_after
7.0
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from touchpath.destinations.httpclient import HttpClient, HttpError, Response
from touchpath.destinations.protocol import DeliveryResult, Outcome
from touchpath.destinations.ssrf import Refused, pin

__all__ = ["classify", "deliver", "post", "retry_after"]

_RETRY = {408, 425, 429}


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(
    status: int, headers: Mapping[str, str], ok: Outcome = "delivered", body: str = ""
) -> DeliveryResult:
    """The outcome of an HTTP answer: 2xx `ok`, 410 gone, 408/425/429/5xx retry, 3xx failed
    (redirects are not followed), other 4xx failed."""
    if 200 <= status < 300:
        return DeliveryResult(ok, status=status)
    detail = f"HTTP {status}" + (f": {body[:200]}" if body else "")
    if status == 410:
        return DeliveryResult("gone", status=status, error=detail)
    if status in _RETRY or status >= 500:
        return DeliveryResult(
            "retry",
            status=status,
            error=detail,
            retry_after=retry_after(headers.get("retry-after")),
        )
    if 300 <= status < 400:
        return DeliveryResult(
            "failed", status=status, error=f"HTTP {status}: redirects are not followed"
        )
    return DeliveryResult("failed", status=status, error=detail)


async def post(
    client: HttpClient,
    url: str,
    *,
    allow: Iterable[str],
    headers: Mapping[str, str],
    content: bytes,
    timeout: float,
) -> Response:
    """POST to `url` at its checked address; raises Refused, HttpError or TimeoutError."""
    target = await pin(url, allow)
    return await client.request(
        "POST",
        target.address,
        target.port,
        tls_host=target.sni_hostname if target.tls else None,
        host_header=target.host_header,
        path=target.path,
        headers=headers,
        body=content,
        timeout=timeout,
    )


async def deliver(
    client: HttpClient,
    url: str,
    *,
    allow: Iterable[str],
    headers: Mapping[str, str],
    content: bytes,
    timeout: float,
    ok: Outcome = "delivered",
) -> tuple[DeliveryResult, Response | None]:
    """POST `content` to `url` (checked and pinned first); never raises for a failed delivery."""
    start = time.perf_counter()
    try:
        response = await post(
            client, url, allow=allow, headers=headers, content=content, timeout=timeout
        )
    except Refused as exc:
        return DeliveryResult("failed", error=str(exc)), None
    except TimeoutError:
        return DeliveryResult("retry", error=f"timed out after {timeout:g} s"), None
    except HttpError as exc:
        return DeliveryResult("retry", error=str(exc)), None
    ms = (time.perf_counter() - start) * 1000
    body = "" if 200 <= response.status < 300 else response.text
    result = classify(response.status, response.headers, ok, body)
    return DeliveryResult(
        result.outcome, result.status, result.error, result.retry_after, None, ms
    ), response
