"""User-configured addresses cannot reach the inside: each kind of non-public address is refused
before any connection, the request goes to the address that was checked, and the allow setting
lets named local hosts through."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from tests.test_destinations_support import Env

from touchpath.demo.receivers import HttpReceiver
from touchpath.destinations import OutboxMessage
from touchpath.destinations.ssrf import Refused, blocked, pin

pytest_plugins = ("tests.test_destinations_support",)
T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a loop of its own thread (the browser tests leave one running in this)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.9.9.9", "loopback"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "unique-local"),
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped)"),
        ("::ffff:169.254.169.254", "link-local (IPv4-mapped)"),
        ("2002:a00:1::", "private (6to4)"),
    ],
)
def test_every_non_public_range_is_refused(address: str, reason: str) -> None:
    assert blocked(ipaddress.ip_address(address)) == reason
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(Refused, match="destinations may only reach public addresses"):
        _run(pin(f"http://{host}/hook", allow=()))


def test_public_addresses_pass() -> None:
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert blocked(ipaddress.ip_address(address)) is None


def test_names_are_resolved_and_pinned_to_the_checked_address() -> None:
    with pytest.raises(Refused, match=r"localhost: resolves to .* a loopback address"):
        _run(pin("http://localhost:8080/x", allow=()))
    pinned = _run(pin("http://localhost:8080/x?y=1", allow={"localhost"}))
    assert pinned.url in ("http://127.0.0.1:8080/x?y=1", "http://[::1]:8080/x?y=1")
    assert (pinned.host_header, pinned.sni_hostname) == ("localhost:8080", "localhost")


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "http://user:pw@example.com/", "file:///etc/passwd", "http:///x"],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(Refused):
        _run(pin(url, allow=()))


@pytest.mark.parametrize("host", ["169.254.169.254", "10.0.0.7", "[::ffff:127.0.0.1]", "[::1]"])
def test_a_webhook_to_the_inside_is_refused_at_send(env: Env, host: str) -> None:
    env.put("inside", {"kind": "webhook", "url": f"http://{host}:9/hook"})
    env.send(
        OutboxMessage(
            idempotency_key="k", destination="inside", channel="webhook", content={"payload": {}}
        )
    )
    row = env.row("k")
    assert row["state"] == "dead" and "public addresses" in row["last_error"]
    assert row["attempts_log"][0]["status"] is None  # refused before any connection


def test_the_allow_setting_admits_a_named_local_host(env: Env, receiver: HttpReceiver) -> None:
    env.put("local", {"kind": "webhook", "url": f"http://127.0.0.1:{receiver.port}/hooks/ok"})
    env.send(
        OutboxMessage(
            idempotency_key="ok", destination="local", channel="webhook", content={"payload": {}}
        )
    )
    assert env.row("ok")["state"] == "delivered"
    assert receiver.of("webhook")[0].headers["host"] == f"127.0.0.1:{receiver.port}"


class _Rebinding(asyncio.SelectorEventLoop):
    """DNS at the edge: a name that answers a public address, then a private one (rebinding)."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__()
        self.answers = answers

    async def getaddrinfo(self, host: Any, port: Any, **kw: Any) -> Any:
        import socket

        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (self.answers.pop(0), port))]


def test_rebinding_is_refused_at_the_next_send() -> None:
    """Each send resolves and checks again, and connects to the address it checked: a name that
    turns private after a first, public answer is refused, never connected to."""
    loop = _Rebinding(["93.184.216.34", "10.0.0.5"])

    def both() -> tuple[Any, Any]:
        first = loop.run_until_complete(pin("https://hooks.example:8443/in?x=1", allow=()))
        try:
            loop.run_until_complete(pin("https://hooks.example:8443/in?x=1", allow=()))
        except Refused as exc:
            return first, exc
        return first, None

    try:
        with ThreadPoolExecutor(1) as pool:
            first, refused = pool.submit(both).result()
    finally:
        loop.close()
    assert first.url == "https://93.184.216.34:8443/in?x=1"  # the checked address, not the name
    assert (first.host_header, first.sni_hostname) == ("hooks.example:8443", "hooks.example")
    assert refused is not None and "resolves to 10.0.0.5, a private address" in str(refused)
