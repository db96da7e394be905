"""Build a `Destination` from its stored configuration: one branch per kind, each in its module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from touchpath.destinations.config import FcmConfig, SmtpConfig, TwilioConfig, WebhookConfig
from touchpath.destinations.httpclient import HttpClient
from touchpath.destinations.protocol import Destination

__all__ = ["Context", "build"]


@dataclass(frozen=True)
class Context:
    """What every kind may need: the shared HTTP client, the allowed hosts, the timeout and the
    public URL that provider callbacks reach."""

    client: HttpClient
    allow: frozenset[str]
    timeout: float
    public_url: str


def build(name: str, config: Any, secrets: dict[str, Any], ctx: Context) -> Destination:
    """The destination `name` of kind `config.kind`."""
    if isinstance(config, WebhookConfig):
        from touchpath.destinations.webhook import WebhookDestination

        return WebhookDestination(
            name,
            str(config.url),
            client=ctx.client,
            signing=secrets.get("signing", []),
            headers=config.headers,
            allow=ctx.allow,
            timeout=ctx.timeout,
        )
    if isinstance(config, SmtpConfig):
        from touchpath.destinations.smtp import SmtpDestination

        return SmtpDestination(
            name, config, password=secrets.get("password"), allow=ctx.allow, timeout=ctx.timeout
        )
    if isinstance(config, TwilioConfig):
        from touchpath.destinations.sms import TwilioDestination

        return TwilioDestination(
            name,
            config,
            auth_token=str(secrets.get("auth_token", "")),
            client=ctx.client,
            allow=ctx.allow,
            timeout=ctx.timeout,
            status_callback=f"{ctx.public_url}/v1/m/callbacks/twilio",
        )
    if isinstance(config, FcmConfig):
        from touchpath.destinations.push import FcmDestination

        return FcmDestination(
            name, config, secrets=secrets, client=ctx.client, allow=ctx.allow, timeout=ctx.timeout
        )
    raise TypeError(f"destination {name!r}: unknown kind {getattr(config, 'kind', None)!r}")
