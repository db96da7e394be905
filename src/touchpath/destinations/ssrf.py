"""Requests to user-configured addresses cannot reach the inside (no SSRF).

Before every send the host is resolved and refused when any of its addresses is not public:
private, loopback, link-local (169.254.169.254, the cloud metadata address, included), CGNAT
(100.64.0.0/10), unique-local (fc00::/7), multicast, reserved, unspecified, and IPv4-mapped IPv6
addresses of any of these. The request then goes to the address that was checked (the URL's host
stays in the Host header and TLS server name), so a second DNS answer cannot point it elsewhere
(no DNS rebinding). `TOUCHPATH_DESTINATIONS_ALLOW_HOSTS` names hosts allowed anyway, for local
receivers in tests and the demo.

>>> blocked(ipaddress.ip_address("169.254.169.254"))
'link-local'
>>> blocked(ipaddress.ip_address("::ffff:10.0.0.1"))
'private (IPv4-mapped)'
>>> blocked(ipaddress.ip_address("93.184.216.34")) is None
True
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from touchpath.errors import BadRequest

__all__ = ["Pinned", "Refused", "allowed_hosts", "blocked", "pin", "pin_host"]

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class Refused(BadRequest):
    """A destination address that may not be reached."""

    code = "address_refused"


def blocked(ip: IP) -> str | None:
    """Why `ip` may not be reached, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        inner = blocked(ip.ipv4_mapped)
        return f"{inner} (IPv4-mapped)" if inner else None
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        inner = blocked(ip.sixtofour)
        if inner:
            return f"{inner} (6to4)"
    for name, test in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("carrier-grade NAT", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        (
            "unique-local",
            isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.ip_network("fc00::/7"),
        ),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if test:
            return name
    if not ip.is_global:
        return "not global"
    return None


def allowed_hosts(setting: str) -> frozenset[str]:
    """The hosts of `TOUCHPATH_DESTINATIONS_ALLOW_HOSTS` (comma-separated), lower-cased."""
    return frozenset(h.strip().lower().strip("[]") for h in setting.split(",") if h.strip())


@dataclass(frozen=True)
class Pinned:
    """A URL rewritten to the address that was checked, with the Host header and TLS server name
    the original host needs."""

    url: str
    host_header: str
    sni_hostname: str
    address: str
    port: int
    path: str
    """The path and query to request."""
    tls: bool


async def _resolve(host: str, port: int) -> list[IP]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"{host}: cannot be resolved ({exc})") from exc
    out: list[IP] = []
    for info in infos:
        addr = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if addr not in out:
            out.append(addr)
    if not out:
        raise Refused(f"{host}: resolves to no address")
    return out


async def pin_host(host: str, port: int, allow: Iterable[str]) -> IP:
    """Resolve `host` and return the address to connect to; refuse when any address is not
    public, unless the host (or that address) is allowed."""
    addrs = await _resolve(host, port)
    allow = set(allow)
    if host.lower() in allow:
        return addrs[0]
    for addr in addrs:
        reason = blocked(addr)
        if reason is not None and str(addr) not in allow:
            raise Refused(
                f"{host}: resolves to {addr}, a {reason} address; destinations may only reach "
                "public addresses (TOUCHPATH_DESTINATIONS_ALLOW_HOSTS allows named hosts)"
            )
    return addrs[0]


async def pin(url: str, allow: Iterable[str]) -> Pinned:
    """Check `url`'s host and rewrite the URL to the checked address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{url}: only http and https URLs with a host can be reached")
    if parts.username or parts.password:
        raise Refused(f"{url}: credentials in the URL are not allowed; use headers or secrets")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addr = await pin_host(host, port, allow)
    literal = f"[{addr}]" if addr.version == 6 else str(addr)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = parts.netloc.rpartition("@")[2]
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Pinned(
        url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        host_header=host_header,
        sni_hostname=host,
        address=str(addr),
        port=port,
        path=path,
        tls=parts.scheme == "https",
    )
