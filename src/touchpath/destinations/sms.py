"""SMS through the Twilio Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form
fields `To`, `From` (or `MessagingServiceSid`), `Body` and `StatusCallback`, HTTP Basic auth with
the account SID and auth token. A 201 with the message's `sid` is `sent`; Twilio then calls
`/v1/m/callbacks/twilio` with its status (delivered, undelivered, failed), signed with
`X-Twilio-Signature` (`signature` below), which the callback route verifies.

Twilio's documented example:

>>> signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", {"CallSid": "CA1234567890ABCDE",
...           "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030", "To": "+18005551212"})
'0/KCTR6DLpKmkAf8muzZqo1nDgQ='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlencode

import orjson

from touchpath.destinations.config import TwilioConfig
from touchpath.destinations.http import deliver
from touchpath.destinations.httpclient import HttpClient
from touchpath.destinations.protocol import DeliveryResult, Outgoing

__all__ = ["TwilioDestination", "signature"]


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's request signature: HMAC-SHA1 over the URL and the sorted form fields."""
    data = url + "".join(k + params[k] for k in sorted(params))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class TwilioDestination:
    """Sends SMS through Twilio (or any server speaking its Messages API)."""

    def __init__(
        self,
        name: str,
        config: TwilioConfig,
        *,
        auth_token: str,
        client: HttpClient,
        allow: Iterable[str] = (),
        timeout: float = 10.0,
        status_callback: str | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._token = auth_token
        self._client = client
        self._allow = frozenset(allow)
        self._timeout = timeout
        self._callback = status_callback

    async def send(self, message: Outgoing) -> DeliveryResult:
        c = self.config
        form = {"To": message.recipient or "", "Body": str(message.content.get("body", ""))}
        if c.messaging_service_sid:
            form["MessagingServiceSid"] = c.messaging_service_sid
        else:
            form["From"] = c.from_number or ""
        if self._callback:
            form["StatusCallback"] = self._callback
        auth = base64.b64encode(f"{c.account_sid}:{self._token}".encode()).decode()
        url = f"{str(c.base_url).rstrip('/')}/2010-04-01/Accounts/{c.account_sid}/Messages.json"
        result, response = await deliver(
            self._client,
            url,
            allow=self._allow,
            headers={
                "authorization": f"Basic {auth}",
                "content-type": "application/x-www-form-urlencoded",
                "i-twilio-idempotency-token": message.id,
            },
            content=urlencode(form).encode(),
            timeout=self._timeout,
            ok="sent",
        )
        if result.outcome == "sent" and response is not None:
            try:
                sid = orjson.loads(response.body).get("sid")
            except (orjson.JSONDecodeError, AttributeError):
                sid = None
            return DeliveryResult(
                "sent", result.status, None, None, str(sid) if sid else None, result.duration_ms
            )
        return result

    async def aclose(self) -> None:
        pass
