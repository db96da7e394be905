"""Push through FCM HTTP v1: `POST /v1/projects/{project}/messages:send` with a bearer token and
`{"message": {"token": ..., "notification": {"title", "body"}, "data": {...}}}`.

The token is an OAuth 2 access token got from a service account: a JWT signed with its private
key (RS256) is exchanged at `token_uri` (the JWT bearer grant, RFC 7523) and kept until shortly
before it expires; or a fixed `access_token` secret. A 200 with the message `name` is `sent`.
The data carries `touchpath_message_id` and a signed `touchpath_receipt`, which the app may post
back to `/v1/m/callbacks/push` when the notification arrives or is opened.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from touchpath.destinations.config import FcmConfig
from touchpath.destinations.http import deliver, post
from touchpath.destinations.httpclient import HttpClient, HttpError
from touchpath.destinations.protocol import DeliveryResult, Outcome, Outgoing
from touchpath.destinations.ssrf import Refused

__all__ = ["FcmDestination", "service_account_jwt"]

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account_jwt(client_email: str, private_key_pem: str, token_uri: str, now: int) -> str:
    """The signed assertion a service account exchanges for an access token."""
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private_key: must be an RSA key")
    header = _b64(orjson.dumps({"alg": "RS256", "typ": "JWT"}))
    claims = _b64(
        orjson.dumps(
            {
                "iss": client_email,
                "scope": SCOPE,
                "aud": token_uri,
                "iat": now,
                "exp": now + 3600,
            }
        )
    )
    signing_input = f"{header}.{claims}".encode()
    sig = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{_b64(sig)}"


class FcmDestination:
    """Sends push notifications through FCM HTTP v1 (or a server speaking it)."""

    def __init__(
        self,
        name: str,
        config: FcmConfig,
        *,
        secrets: dict[str, Any],
        client: HttpClient,
        allow: Iterable[str] = (),
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.config = config
        self._secrets = secrets
        self._client = client
        self._allow = frozenset(allow)
        self._timeout = timeout
        self._token: str | None = secrets.get("access_token")
        self._expires = float("inf") if self._token else 0.0
        self._lock = asyncio.Lock()

    async def _access_token(self) -> str | DeliveryResult:
        async with self._lock:  # one token request at a time; the others wait for its answer
            return await self._fetch_token()

    async def _fetch_token(self) -> str | DeliveryResult:
        if self._token and time.time() < self._expires - 60:
            return self._token
        c = self.config
        if not c.client_email or not self._secrets.get("private_key"):
            return DeliveryResult(
                "failed", error="fcm: set config.client_email and secrets.private_key"
            )
        try:
            jwt = service_account_jwt(
                c.client_email, self._secrets["private_key"], str(c.token_uri), int(time.time())
            )
            form = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": jwt}
            response = await post(
                self._client,
                str(c.token_uri),
                allow=self._allow,
                headers={"content-type": "application/x-www-form-urlencoded"},
                content=urlencode(form).encode(),
                timeout=self._timeout,
            )
        except (Refused, ValueError) as exc:
            return DeliveryResult("failed", error=f"fcm token: {exc}")
        except (HttpError, TimeoutError) as exc:
            return DeliveryResult("retry", error=f"fcm token: {type(exc).__name__}: {exc}")
        if response.status != 200:
            outcome: Outcome = "retry" if response.status >= 500 else "failed"
            return DeliveryResult(outcome, response.status, f"fcm token: HTTP {response.status}")
        body = orjson.loads(response.body)
        self._token = str(body["access_token"])
        self._expires = time.time() + float(body.get("expires_in", 3600))
        return self._token

    async def send(self, message: Outgoing) -> DeliveryResult:
        token = await self._access_token()
        if isinstance(token, DeliveryResult):
            return token
        content = message.content
        data = {str(k): str(v) for k, v in dict(content.get("data") or {}).items()}
        data["touchpath_message_id"] = message.id
        if "receipt" in message.headers:
            data["touchpath_receipt"] = message.headers["receipt"]
        payload: dict[str, Any] = {"token": message.recipient, "data": data}
        note = {k: str(content[k]) for k in ("title", "body") if content.get(k) is not None}
        if note:
            payload["notification"] = note
        c = self.config
        url = f"{str(c.base_url).rstrip('/')}/v1/projects/{c.project_id}/messages:send"
        result, response = await deliver(
            self._client,
            url,
            allow=self._allow,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            content=orjson.dumps({"message": payload}),
            timeout=self._timeout,
            ok="sent",
        )
        if response is not None and response.status == 401:
            self._expires = 0.0  # refresh the token before the retry
            return DeliveryResult(
                "retry", 401, "fcm: token refused", None, None, result.duration_ms
            )
        if result.outcome == "sent" and response is not None:
            name = orjson.loads(response.body).get("name")
            return DeliveryResult("sent", result.status, None, None, name, result.duration_ms)
        return result

    async def aclose(self) -> None:
        pass
