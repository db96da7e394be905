"""Local receivers for the demo and the tests: an SMTP server (aiosmtpd, STARTTLS and AUTH) and
an HTTP server on 127.0.0.1 that takes webhooks (verifying every Standard Webhooks signature with
the `standardwebhooks` library, as a real receiver would), Twilio Messages API requests and FCM
HTTP v1 requests (checking their shapes and credentials), and an OAuth token endpoint for FCM.

Everything they receive is kept in memory (`received`), so `touchpath demo` can show messages
arriving and tests can check them. Answers can be scripted per path (`script`) to test retries.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import ipaddress
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = [
    "DemoReceivers",
    "HttpReceiver",
    "Received",
    "SmtpReceiver",
    "demo_destinations",
    "self_signed",
    "send_samples",
    "wait_sent",
]


@dataclass
class Received:
    """One request or email a receiver took."""

    kind: str
    """webhook, sms, push, token, email"""
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)
    verified: bool | None = None
    """Webhooks: whether a signature matched one of the receiver's secrets."""
    data: Any = None
    """The parsed body (JSON, form fields or the parsed email)."""


def self_signed(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """A self-signed certificate and its key (PEM) for `host`, for a local TLS server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


_Answer = tuple[int, dict[str, str], bytes]


async def _off_loop(fn: Callable[[Received], None], r: Received) -> None:
    """`fn(r)` on a daemon thread, awaited: a slow store write holds this request only, and a
    write that never returns (the store closed under it at a stop) cannot hold the process's
    exit, as the default executor's joined threads would."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def run() -> None:
        error: BaseException | None = None
        try:
            fn(r)
        except BaseException as e:  # handed to the awaiting request, as to_thread would
            error = e
        with contextlib.suppress(RuntimeError):  # the receiver stopped: no one is waiting
            loop.call_soon_threadsafe(_settle, done, error)

    threading.Thread(target=run, name="receiver-react", daemon=True).start()
    await done


def _settle(done: asyncio.Future[None], error: BaseException | None) -> None:
    if done.done():  # the request was cancelled (a stop)
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


def _quiet_cancel(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Python 3.11's stream server logs a traceback for each connection cancelled at shutdown
    before it began (its done-callback asks a cancelled task for its exception); a stop is not
    an error: say nothing for those, the default for the rest."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class HttpReceiver:
    """A small HTTP/1.1 server (keep-alive, Content-Length bodies) in its own thread.

    - `POST /hooks/...`: a webhook; verified with `standardwebhooks` against `secrets` (401 when
      no secret matches, if any are set);
    - `POST /2010-04-01/Accounts/{sid}/Messages.json`: Twilio's Messages API (Basic auth with
      `twilio_auth`, form fields To, Body and From or MessagingServiceSid; 201 with a `sid`);
    - `POST /v1/projects/{project}/messages:send`: FCM HTTP v1 (Bearer `fcm_token`; a message
      with a token; 200 with a `name`);
    - `POST /token`: an OAuth token endpoint checking a service account's RS256 JWT against
      `fcm_public_key`.
    """

    def __init__(
        self,
        secrets: list[str] | None = None,
        twilio_auth: tuple[str, str] | None = None,
        fcm_token: str = "fcm-test-token",
        fcm_public_key: bytes | None = None,
        keep: int = 10_000,
        verify: bool = True,
        on_receive: Callable[[Received], None] | None = None,
    ) -> None:
        self.on_receive = on_receive
        self.secrets = list(secrets or [])
        self.twilio_auth = twilio_auth
        self.fcm_token = fcm_token
        self.fcm_public_key = fcm_public_key
        self.verify = verify
        self.received: deque[Received] = deque(maxlen=keep)
        self.count = 0
        self._scripts: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self._delay: dict[str, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self.port = 0
        self._sids = 0
        self._kept: Received | None = None

    # ------------------------------------------------------------------ control
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, prefix: str, answers: list[tuple[int, dict[str, str]]]) -> None:
        """Answer the next requests whose path starts with `prefix` with these statuses."""
        self._scripts[prefix] = deque(answers)

    def delay(self, prefix: str, seconds: float) -> None:
        """Wait this long before answering requests under `prefix` (timeouts, kill tests)."""
        self._delay[prefix] = seconds

    def of(self, kind: str) -> list[Received]:
        return [r for r in list(self.received) if r.kind == kind]

    def start(self) -> HttpReceiver:
        self._thread = threading.Thread(target=self._run, name="http-receiver", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        if self._thread is not None:
            self._thread.join(5)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.get_running_loop().stop()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet_cancel)
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        loop.close()

    # ------------------------------------------------------------------ HTTP
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, extra, answer = await self._handle(method, path, headers, body)
                reason = {200: "OK", 201: "Created"}.get(status, "Status")
                out = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(answer)}"]
                out += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in extra.items())]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        for prefix, seconds in self._delay.items():
            if path.startswith(prefix):
                await asyncio.sleep(seconds)
        for prefix, answers in self._scripts.items():
            if path.startswith(prefix) and answers:
                status, extra = answers.popleft()
                self.received.append(Received("scripted", path, headers, body))
                return status, extra, b'{"scripted": true}'
        if method != "POST":
            return 405, {}, b'{"error": "POST only"}'
        route = self._route(path)
        if route is None:
            return 404, {}, b'{"error": "no such path"}'
        answer = route(path, headers, body)
        kept, self._kept = self._kept, None
        if kept is not None and self.on_receive is not None:
            # The simulation records the message before the receiver answers (a kill between
            # the two is a redelivery it recognises), on a worker thread: a slow store write
            # holds this request, never the loop and the other connections.
            await _off_loop(self.on_receive, kept)
        return answer

    def _route(self, path: str) -> Callable[[str, dict[str, str], bytes], _Answer] | None:
        if path.startswith("/hooks"):
            return self._webhook
        if path.startswith("/2010-04-01/Accounts/"):
            return self._twilio
        if path.startswith("/v1/projects/"):
            return self._fcm
        if path == "/token":
            return self._token
        return None

    def _keep(self, r: Received) -> None:
        self.received.append(r)
        self.count += 1
        self._kept = r

    def _webhook(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        verified: bool | None = None
        if self.secrets and self.verify:
            verified = False
            for secret in self.secrets:
                try:
                    Webhook(secret).verify(body, headers)
                except WebhookVerificationError:
                    continue
                verified = True
                break
        data = json.loads(body) if body else None
        self._keep(Received("webhook", path, headers, body, verified=verified, data=data))
        if verified is False:
            return 401, {}, b'{"error": "bad signature"}'
        return 200, {}, b'{"ok": true}'

    def _twilio(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        form = dict(parse_qsl(body.decode()))
        sid = path.split("/")[3]
        problems = []
        if self.twilio_auth is not None:
            want = base64.b64encode(":".join(self.twilio_auth).encode()).decode()
            if headers.get("authorization") != f"Basic {want}" or sid != self.twilio_auth[0]:
                return 401, {}, b'{"code": 20003, "message": "Authenticate"}'
        if not path.endswith("/Messages.json"):
            problems.append("path must end with /Messages.json")
        if "application/x-www-form-urlencoded" not in headers.get("content-type", ""):
            problems.append("Content-Type must be form-encoded")
        if not form.get("To", "").startswith("+"):
            problems.append("To must be E.164")
        if not form.get("Body"):
            problems.append("Body is required")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            problems.append("From or MessagingServiceSid is required")
        if problems:
            return 400, {}, json.dumps({"code": 21604, "message": "; ".join(problems)}).encode()
        self._sids += 1
        msid = f"SM{self._sids:032d}"
        self._keep(Received("sms", path, headers, body, data=form))
        answer = {"sid": msid, "status": "queued", "to": form["To"], "body": form["Body"]}
        return 201, {}, json.dumps(answer).encode()

    def _fcm(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if headers.get("authorization") != f"Bearer {self.fcm_token}":
            return 401, {}, b'{"error": {"code": 401, "status": "UNAUTHENTICATED"}}'
        try:
            msg = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            return 400, {}, b'{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}'
        data = msg.get("data", {})
        bad = not isinstance(msg.get("token"), str) or not all(
            isinstance(v, str) for v in data.values()
        )
        if bad or not path.endswith("/messages:send"):
            return 400, {}, b'{"error": {"code": 400, "status": "INVALID_ARGUMENT"}}'
        self._keep(Received("push", path, headers, body, data=msg))
        project = path.split("/")[3]
        return 200, {}, json.dumps({"name": f"projects/{project}/messages/{self.count}"}).encode()

    def _token(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        form = dict(parse_qsl(body.decode()))
        jwt = form.get("assertion", "")
        ok = form.get("grant_type") == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        if ok and self.fcm_public_key is not None:
            try:
                head, claims, sig = jwt.split(".")
                key = serialization.load_pem_public_key(self.fcm_public_key)
                assert isinstance(key, rsa.RSAPublicKey)
                key.verify(
                    base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)),
                    f"{head}.{claims}".encode(),
                    padding.PKCS1v15(),
                    hashes.SHA256(),
                )
            except Exception:
                ok = False
        if not ok:
            return 400, {}, b'{"error": "invalid_grant"}'
        self._keep(Received("token", path, headers, body, data=form))
        return 200, {}, json.dumps({"access_token": self.fcm_token, "expires_in": 3600}).encode()


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 with STARTTLS (a self-signed certificate, `cert_pem`) and,
    when `user` is given, AUTH required. Refuses recipients listed in `bounce` with 550; accepts
    those in `dsn` and then bounces them as a remote server would, with a delivery status
    notification (RFC 3464) handed to `on_dsn` (the bounce mailbox)."""

    def __init__(
        self,
        user: tuple[str, str] | None = None,
        bounce: set[str] | None = None,
        tls: bool = True,
        on_receive: Callable[[Received], None] | None = None,
        dsn: set[str] | None = None,
        on_dsn: Callable[[bytes], object] | None = None,
    ) -> None:
        self.on_receive = on_receive
        self.dsn = set(dsn or ())
        self.on_dsn = on_dsn
        self.dsn_sent: list[bytes] = []
        self.user = user
        self.bounce = set(bounce or ())
        self.tls = tls
        self.received: deque[Received] = deque(maxlen=10_000)
        self.cert_pem = b""
        self.port = 0
        self._controller: Any = None

    def start(self) -> SmtpReceiver:
        import logging
        import ssl
        import tempfile
        from email import message_from_bytes, policy

        from aiosmtpd.controller import Controller

        # aiosmtpd warns about its own deprecated attribute on every AUTH
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        from aiosmtpd.smtp import AuthResult, LoginPassword

        receiver = self

        class Handler:
            async def handle_RCPT(
                self, server: Any, session: Any, envelope: Any, address: str, options: Any
            ) -> str:
                if address in receiver.bounce:
                    return "550 5.1.1 no such user here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                raw = bytes(envelope.content)
                parsed = message_from_bytes(raw, policy=policy.default)
                headers = {k.lower(): str(v) for k, v in parsed.items()}
                got = Received("email", ",".join(envelope.rcpt_tos), headers, raw, data=parsed)
                receiver.received.append(got)
                if receiver.on_receive is not None:  # before answering, off the loop
                    await _off_loop(receiver.on_receive, got)
                for rcpt in envelope.rcpt_tos:
                    if rcpt in receiver.dsn and receiver.on_dsn is not None:
                        receiver._bounce_later(raw, rcpt)
                return "250 Message accepted"

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
        ) -> Any:
            ok = (
                isinstance(auth_data, LoginPassword)
                and receiver.user is not None
                and (auth_data.login.decode(), auth_data.password.decode()) == receiver.user
            )
            return AuthResult(success=ok, handled=False)

        kwargs: dict[str, Any] = {}
        if self.tls:
            self.cert_pem, key_pem = self_signed("127.0.0.1")
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            with tempfile.TemporaryDirectory() as d:
                with open(f"{d}/c.pem", "wb") as f:
                    f.write(self.cert_pem)
                with open(f"{d}/k.pem", "wb") as f:
                    f.write(key_pem)
                ctx.load_cert_chain(f"{d}/c.pem", f"{d}/k.pem")
            kwargs.update(tls_context=ctx, require_starttls=True)
        if self.user is not None:
            kwargs.update(authenticator=authenticator, auth_required=True)
        import socket

        with socket.socket() as probe:  # aiosmtpd needs a port it can connect to when ready
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self._controller.start()
        return self

    def _bounce_later(self, raw: bytes, rcpt: str) -> None:
        """Mail the DSN back after the session, off the server's loop (as a real server would)."""
        import threading

        from touchpath.destinations.bounces import make_dsn

        report = make_dsn(raw, rcpt, "5.1.1", "550 5.1.1 mailbox unavailable")
        on_dsn = self.on_dsn
        assert on_dsn is not None
        self.dsn_sent.append(report)
        threading.Thread(target=on_dsn, args=(report,), daemon=True).start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def __enter__(self) -> SmtpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class DemoReceivers:
    """The demo's receivers and what they got."""

    http: HttpReceiver
    smtp: SmtpReceiver

    def counts(self) -> dict[str, int]:
        """Messages received so far, by kind (email, sms, push, webhook)."""
        got = {"email": len(self.smtp.received)}
        for kind in ("sms", "push", "webhook"):
            got[kind] = len(self.http.of(kind))
        return got

    def summary(self) -> str:
        hooks = self.http.of("webhook")
        events = sum(len((r.data or {}).get("batch", [])) for r in hooks)
        return (
            f"{len(self.smtp.received)} emails, {len(self.http.of('sms'))} SMS, "
            f"{len(self.http.of('push'))} push notifications, {len(hooks)} webhooks "
            f"({events:,} forwarded events, every signature verified: "
            f"{all(r.verified for r in hooks)})"
        )

    def report(self, say: Callable[[str], None], every: float, until: threading.Event) -> None:
        """Every `every` seconds until `until` is set, say what came since the last report
        (nothing when nothing came): one line, not one per message."""
        last = self.counts()
        while not until.wait(every):
            now = self.counts()
            new = {k: now[k] - last[k] for k in now if now[k] > last[k]}
            if new:
                what = ", ".join(f"{n:,} {_PLURAL[k]}" for k, n in new.items())
                say(f"  demo receivers got {what} in the last {every:g} s ({self.summary()})")
            last = now


_PLURAL = {"email": "emails", "sms": "SMS", "push": "push notifications", "webhook": "webhooks"}


@contextmanager
def demo_destinations(
    store: Any,
    say: Callable[[str], None],
    every: float = 60.0,
    react: Callable[[Received], None] | None = None,
) -> Iterator[DemoReceivers]:
    """Start a local SMTP and HTTP receiver and configure the demo's destinations to reach them
    (`demo-email`, `demo-sms`, `demo-push`, `demo-webhook`), a welcome template, and a rule that
    forwards every Order Completed to the webhook. `say` is told what arrived every `every`
    seconds (`DemoReceivers.report`); `react` (the living demo's people) gets each message
    before the receiver answers. The store's settings must allow 127.0.0.1
    (TOUCHPATH_DESTINATIONS_ALLOW_HOSTS)."""
    from touchpath.destinations import api
    from touchpath.destinations.webhook import new_secret

    secret = new_secret()
    http = HttpReceiver(secrets=[secret], twilio_auth=("ACdemo", "demo-token"), on_receive=react)
    from touchpath.destinations.bounces import record_bounces

    smtp = SmtpReceiver(
        user=("demo", "demo-password"),
        dsn={"bounce@shop.example"},  # the demo's undeliverable address, bounced later
        on_dsn=lambda raw: record_bounces(store, raw),
        on_receive=react,
    )
    with http, smtp:
        local = "127.0.0.1"
        api.put_destination(store, "demo-webhook", {
            "config": {"kind": "webhook", "url": f"{http.url}/hooks/demo"},
            "secrets": {"signing_secret": secret}})  # fmt: skip
        api.put_destination(store, "demo-email", {
            "config": {"kind": "smtp", "host": local, "port": smtp.port, "username": "demo",
                       "from_address": "hello@shop.example", "from_name": "Demo Shop",
                       "ca_cert": smtp.cert_pem.decode()},
            "secrets": {"password": "demo-password"}})  # fmt: skip
        api.put_destination(store, "demo-sms", {
            "config": {"kind": "twilio", "account_sid": "ACdemo", "from_number": "+15005550006",
                       "base_url": http.url},
            "secrets": {"auth_token": "demo-token"}})  # fmt: skip
        api.put_destination(store, "demo-push", {
            "config": {"kind": "fcm", "project_id": "demo-shop", "base_url": http.url},
            "secrets": {"access_token": http.fcm_token}})  # fmt: skip
        api.put_template(store, "demo-welcome", {
            "channel": "email",
            "fields": {"subject": "Welcome to the shop, {{ traits.first_name }}",
                       "text": "Hi {{ traits.first_name }}, thanks for joining.",
                       "html": "<p>Hi {{ traits.first_name }}, thanks for joining.</p>"
                               "<p><a href='https://shop.example/new'>See what is new</a></p>"},
            "defaults": {"traits.first_name": "there"}})  # fmt: skip
        api.put_forwarding(store, "demo-orders", {
            "destination": "demo-webhook", "match": [{"event": "Order Completed"}]})  # fmt: skip
        receivers = DemoReceivers(http, smtp)
        stop = threading.Event()
        reporter = threading.Thread(
            target=receivers.report, args=(say, every, stop), name="demo-receivers", daemon=True
        )
        reporter.start()
        try:
            yield receivers
        finally:
            stop.set()
            reporter.join(5)


def send_samples(store: Any, n: int = 3, now: Any = None) -> int:
    """Welcome email, SMS and push to the `n` most recent demo customers with those traits,
    due at `now` (the demo's clock; the wall by default)."""
    from touchpath.destinations import OutboxMessage, enqueue

    rows = store.query(
        "SELECT profile_id, max(CASE WHEN name = 'phone' THEN value ->> '$' END), "
        "max(CASE WHEN name = 'email' THEN value ->> '$' END) FROM profile_traits "
        "WHERE name IN ('email', 'phone') GROUP BY profile_id "
        "HAVING count(*) = 2 ORDER BY max(updated_at) DESC, profile_id LIMIT ?",
        [n],
    )
    msgs = []
    for pid, phone, _ in rows:
        msgs += [
            OutboxMessage(idempotency_key=f"demo:welcome:{pid}", destination="demo-email",
                          channel="email", profile_id=pid, template="demo-welcome"),
            OutboxMessage(idempotency_key=f"demo:sms:{pid}", destination="demo-sms",
                          channel="sms", profile_id=pid, recipient=str(phone).replace(" ", ""),
                          content={"body": "Your order is on its way."}),
            OutboxMessage(idempotency_key=f"demo:push:{pid}", destination="demo-push",
                          channel="push", profile_id=pid, recipient=f"device-{pid[-8:]}",
                          content={"title": "Back in stock", "body": "Your wish-list item"}),
        ]  # fmt: skip
    return int(store.write_sync(lambda con: enqueue(con, msgs, now)))


def wait_sent(store: Any, timeout: float = 20.0) -> dict[str, int]:
    """Wait until the outbox has nothing pending or in flight; returns messages by state."""
    deadline = time.monotonic() + timeout
    while True:
        states = dict(store.query("SELECT state, count(*) FROM outbox GROUP BY 1"))
        if not states.get("pending") and not states.get("sending"):
            return {str(k): int(v) for k, v in states.items()}
        if time.monotonic() > deadline:
            return {str(k): int(v) for k, v in states.items()}
        time.sleep(0.1)
