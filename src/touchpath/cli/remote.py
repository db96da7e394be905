"""The CLI beside a running server: when `touchpath serve` (or `demo`) holds the store file, a
command goes through that server's REST API instead, with the same output.

The server leaves its address next to the store (`<db>.server.json`, touchpath.web.server). The
CLI authenticates with a personal API token from `TOUCHPATH_TOKEN`, or the first line of
`$XDG_CONFIG_HOME/touchpath/token` (`~/.config/touchpath/token`). Commands that have no route
yet say so and name the server, instead of the lock error DuckDB gives.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from touchpath.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    SpecError,
    StoreUnavailable,
    TouchpathError,
    Unauthorized,
)
from touchpath.system import Touchpath
from touchpath.web.server import server_file

__all__ = [
    "Remote",
    "analyse",
    "held_by_server",
    "jsonable",
    "session",
    "store_or_server",
    "token_file",
]


def jsonable(value: Any) -> Any:
    """`value` as the REST API answers it (JSON types, times in ISO 8601), so a command prints
    the same whether it read the store here or through the server."""
    return orjson.loads(orjson.dumps(value, default=str))


def token_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "touchpath" / "token"


def _token() -> str | None:
    value = os.environ.get("TOUCHPATH_TOKEN", "").strip()
    if value:
        return value
    path = token_file()
    if path.is_file():
        lines = path.read_text().splitlines()
        return lines[0].strip() if lines and lines[0].strip() else None
    return None


@dataclass
class Remote:
    """A server's REST API, called as the token's owner."""

    url: str
    token: str

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request; the server's error message, unchanged, as Touchpath's own error."""
        import httpx  # here, not at the top: a command on the store here never needs it

        try:
            r = httpx.request(
                method,
                self.url + path,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=300,
                **kwargs,
            )
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"{self.url}: the server holding the store does not answer: {exc}"
            ) from None
        if r.status_code < 400:
            return r.json() if r.content else None
        try:
            body = r.json()
            message = body["error"]["message"] if "error" in body else str(body.get("detail"))
        except (ValueError, KeyError, TypeError):
            message = r.text[:300]
        kind: type[TouchpathError] = {401: Unauthorized, 403: Forbidden, 404: NotFound}.get(
            r.status_code, BadRequest if r.status_code < 500 else StoreUnavailable
        )
        if r.status_code in (401, 403):
            message += " (the token from TOUCHPATH_TOKEN or " + str(token_file()) + ")"
        raise kind(message)


def held_by_server(db: Path) -> str | None:
    """The URL of the live server that announced it holds `db`, or None."""
    path = server_file(db)
    try:
        info = json.loads(path.read_text())
        pid, url = int(info["pid"]), str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid():
        return None  # this process serves it: it can open the store itself (tests, the demo)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a server that died without withdrawing
    except PermissionError:
        pass
    return url


def remote_for(db: Path) -> Remote | None:
    """The server holding `db` with the CLI's token; Unauthorized when there is no token."""
    url = held_by_server(db)
    if url is None:
        return None
    token = _token()
    if token is None:
        raise Unauthorized(
            f"{db}: the server at {url} holds the store; to go through it, set TOUCHPATH_TOKEN "
            f"(or write it to {token_file()}) to a personal API token: POST /api/tokens, or "
            "`touchpath tokens create --role admin` while the server is stopped"
        )
    return Remote(url, token)


@contextmanager
def store_or_server(db: Path, **opened_kwargs: Any) -> Iterator[Touchpath | Remote]:
    """The store opened here, or, when a server holds it, that server's API."""
    remote = remote_for(db)
    if remote is not None:
        yield remote
        return
    from touchpath.cli.base import opened

    with opened(db, **opened_kwargs) as tp:
        yield tp


def session(db: Path | None, **opened_kwargs: Any) -> AbstractContextManager[Touchpath | Remote]:
    """`store_or_server` for a command's `--db` (or TOUCHPATH_DB): every command that reads or
    changes the store opens it this way, so it works beside a running server."""
    from touchpath.cli.base import settings_for

    return store_or_server(settings_for(db).db, **opened_kwargs)


def analyse(tp: Touchpath | Remote, spec: Any) -> Any:
    """Run an analysis spec (any registered kind) on the store opened here, or on the server
    holding it (`POST /api/analyses/{kind}`): the same typed result either way."""
    from touchpath.analytics import registry

    if isinstance(tp, Remote):
        found = tp.call("POST", f"/api/analyses/{spec.kind}", json=spec.model_dump(mode="json"))
        return registry.get(spec.kind).result.model_validate(found)
    return registry.run(tp.store, spec, kind=spec.kind)


def refuse_held(db: Path) -> None:
    """For a command with no route yet: say which server holds the store."""
    url = held_by_server(db)
    if url is not None:
        raise SpecError(
            f"{db}: the server at {url} holds the store, and this command does not go through "
            f"it yet; stop the server, or use the REST API ({url}/docs)"
        )
