"""Webhooks signed per the Standard Webhooks spec (standardwebhooks.com).

Each request carries `webhook-id` (the outbox id: the same on every retry, so receivers dedupe
on it), `webhook-timestamp` (Unix seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of
"id.timestamp.body">` with the secret's bytes (a `whsec_` secret is base64 after the prefix).
While a secret is being rotated both the new and the old one sign, space-separated, so receivers
verify with either until the old one expires.

>>> sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
...      1614265330, b'{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as pysecrets
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from touchpath.clock import utcnow
from touchpath.destinations.http import deliver
from touchpath.destinations.httpclient import HttpClient
from touchpath.destinations.protocol import DeliveryResult, Outgoing

__all__ = ["WebhookDestination", "new_secret", "secret_bytes", "sign"]


def new_secret() -> str:
    """A new signing secret: `whsec_` + 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(pysecrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key of a secret: base64 after `whsec_`."""
    body = secret.removeprefix("whsec_")
    return base64.b64decode(body)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<signature>` entry."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def active_secrets(signing: Sequence[dict[str, Any]], now: datetime) -> list[str]:
    """The secrets that sign now: every one without an expiry or not yet expired."""
    out: list[str] = []
    for entry in signing:
        expires = entry.get("expires_at")
        if expires is None or datetime.fromisoformat(str(expires)) > now:
            out.append(str(entry["secret"]))
    return out


class WebhookDestination:
    """POSTs each message's `payload` as JSON to a URL, signed with every active secret."""

    def __init__(
        self,
        name: str,
        url: str,
        *,
        client: HttpClient,
        signing: Sequence[dict[str, Any]],
        headers: dict[str, str] | None = None,
        allow: Iterable[str] = (),
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.url = url
        self._client = client
        self._signing = list(signing)
        self._headers = dict(headers or {})
        self._allow = frozenset(allow)
        self._timeout = timeout

    async def send(self, message: Outgoing) -> DeliveryResult:
        raw = message.content.get("payload_json")  # JSON text made elsewhere (forwarding)
        body = (
            raw.encode()
            if isinstance(raw, str)
            else orjson.dumps(message.content.get("payload", {}))
        )
        # Wall time, not the business clock: receivers check the timestamp against theirs.
        ts = int(time.time())
        sigs = [sign(s, message.id, ts, body) for s in active_secrets(self._signing, utcnow())]
        headers = {
            **self._headers,
            "content-type": "application/json",
            "user-agent": "Touchpath-Webhooks/1",
            "webhook-id": message.id,
            "webhook-timestamp": str(ts),
            "idempotency-key": message.idempotency_key,
        }
        if sigs:
            headers["webhook-signature"] = " ".join(sigs)
        result, _ = await deliver(
            self._client,
            self.url,
            allow=self._allow,
            headers=headers,
            content=body,
            timeout=self._timeout,
        )
        return result

    async def aclose(self) -> None:
        pass
