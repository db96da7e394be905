"""Email over SMTP: STARTTLS (or implicit TLS), AUTH, a text and an HTML part, and the
List-Unsubscribe / List-Unsubscribe-Post one-click headers (RFC 8058).

The server's name is resolved and checked like any destination address (`ssrf.pin_host`); the
connection goes to the checked address while TLS verifies the configured name. smtplib blocks,
so each send runs in a worker thread (the destination's concurrency bounds how many).

Outcomes: accepted by the server is `sent` (delivery is known later, or as a bounce); a 5xx
refusal of the recipient is `failed` with the SMTP status (a hard bounce: the dispatcher writes
Message Bounced and stops sending email to the person); 4xx and connection errors are `retry`.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
import time
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Any

from touchpath.destinations.config import SmtpConfig
from touchpath.destinations.protocol import DeliveryResult, Outcome, Outgoing
from touchpath.destinations.ssrf import Refused, pin_host

__all__ = ["SmtpDestination", "build_email"]


def build_email(config: SmtpConfig, message: Outgoing) -> EmailMessage:
    """The MIME message: text and HTML alternatives, headers, a Message-ID from the outbox id."""
    mail = EmailMessage()
    mail["From"] = formataddr((config.from_name or "", config.from_address))
    mail["To"] = message.recipient or ""
    mail["Subject"] = str(message.content.get("subject", ""))
    mail["Date"] = formatdate(localtime=False)
    domain = config.from_address.rpartition("@")[2]
    mail["Message-ID"] = f"<{message.id}@{domain}>"
    if config.reply_to:
        mail["Reply-To"] = config.reply_to
    for name, value in message.headers.items():
        mail[name] = value
    mail["X-Touchpath-Message-Id"] = message.id
    text = message.content.get("text")
    html = message.content.get("html")
    mail.set_content(str(text) if text else "")
    if html:
        mail.add_alternative(str(html), subtype="html")
    return mail


def _pinned(base: type[smtplib.SMTP], address: str) -> type[smtplib.SMTP]:
    """An SMTP class that connects to `address` whatever host name it is given (TLS still checks
    the name)."""

    class Pinned(base):  # type: ignore[valid-type,misc]
        def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
            sock = socket.create_connection((address, port), timeout)
            if isinstance(self, smtplib.SMTP_SSL):
                return self.context.wrap_socket(sock, server_hostname=self._host)  # type: ignore[no-any-return]
            return sock

    return Pinned


class SmtpDestination:
    """Sends email through one SMTP server."""

    def __init__(
        self,
        name: str,
        config: SmtpConfig,
        *,
        password: str | None,
        allow: Iterable[str] = (),
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._password = password
        self._allow = frozenset(allow)
        self._timeout = timeout
        self._tls = tls_context or ssl.create_default_context()
        if config.ca_cert:
            self._tls.load_verify_locations(cadata=config.ca_cert)

    def _send_blocking(self, address: str, mail: EmailMessage, to: str) -> None:
        c = self.config
        base: type[smtplib.SMTP] = smtplib.SMTP_SSL if c.security == "tls" else smtplib.SMTP
        cls = _pinned(base, address)
        kwargs: dict[str, Any] = {"timeout": self._timeout}
        if c.security == "tls":
            kwargs["context"] = self._tls
        with cls(c.host, c.port, **kwargs) as smtp:
            if c.security == "starttls":
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, self._password or "")
            smtp.send_message(mail, from_addr=c.from_address, to_addrs=[to])

    async def send(self, message: Outgoing) -> DeliveryResult:
        start = time.perf_counter()
        if not message.recipient or "@" not in message.recipient:
            return DeliveryResult("failed", error=f"not an email address: {message.recipient!r}")
        try:
            addr = await pin_host(self.config.host, self.config.port, self._allow)
        except Refused as exc:
            return DeliveryResult("failed", error=str(exc))
        mail = build_email(self.config, message)
        try:
            await asyncio.to_thread(self._send_blocking, str(addr), mail, message.recipient)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _refused(int(code), text, start, bounce=500 <= int(code) < 600)
        except smtplib.SMTPResponseException as exc:
            return _refused(int(exc.smtp_code), exc.smtp_error, start)
        except (OSError, smtplib.SMTPException) as exc:
            return DeliveryResult("retry", error=f"SMTP: {type(exc).__name__}: {exc}")
        ms = (time.perf_counter() - start) * 1000
        return DeliveryResult("sent", status=250, provider_id=mail["Message-ID"], duration_ms=ms)

    async def aclose(self) -> None:
        pass


def _refused(code: int, text: bytes | str, start: float, bounce: bool = False) -> DeliveryResult:
    detail = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    ms = (time.perf_counter() - start) * 1000
    outcome: Outcome = "failed" if 500 <= code < 600 else "retry"
    return DeliveryResult(
        outcome, status=code, error=f"SMTP {code}: {detail}", duration_ms=ms, bounce=bounce
    )
