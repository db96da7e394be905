"""Signed tokens for the public links in messages: the open pixel, click redirects and
unsubscribe pages (`/v1/m/open/{token}`, `/v1/m/click/{token}`, `/v1/m/unsubscribe/{token}`).

A token carries what it is for, the message id and, for a click, the target URL, with an
HMAC-SHA256 over all of it. A click link therefore redirects only to the URL it was made for:
changing the URL breaks the signature, so the link cannot be used as an open redirect.

>>> t = Tokens(b"k" * 32)
>>> tok = t.make("c", "msg_1", "https://shop.example/sale")
>>> t.read(tok, "c")
('msg_1', 'https://shop.example/sale')
>>> t.read(tok[:-2] + "xx", "c") is None
True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import orjson

__all__ = ["Tokens", "rewrite_links"]

_KINDS = {"o": "open", "c": "click", "u": "unsubscribe"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Tokens:
    """Makes and reads signed link tokens with one key."""

    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"touchpath-tracking\x00" + key).digest()

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18])

    def make(self, kind: str, message_id: str, url: str | None = None) -> str:
        if kind not in _KINDS:
            raise ValueError(f"kind: one of {', '.join(_KINDS)}")
        fields = [kind, message_id] + ([url] if url is not None else [])
        body = _b64(orjson.dumps(fields))
        return f"{body}.{self._mac(body)}"

    def read(self, token: str, kind: str) -> tuple[str, str | None] | None:
        """(message id, url) of a valid token of `kind`, else None."""
        body, _, mac = token.partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            fields = orjson.loads(_unb64(body))
        except (ValueError, orjson.JSONDecodeError):
            return None
        if not isinstance(fields, list) or len(fields) < 2 or fields[0] != kind:
            return None
        return str(fields[1]), (str(fields[2]) if len(fields) > 2 else None)


_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


def rewrite_links(html: str, wrap: object) -> str:
    """Every `<a href="http(s)://...">` in `html` through `wrap(url) -> tracked url`."""
    assert callable(wrap)

    def repl(m: re.Match[str]) -> str:
        url = m.group(3).replace("&amp;", "&")
        return f"{m.group(1)}{m.group(2)}{wrap(url)}{m.group(2)}"

    return _HREF.sub(repl, html)
