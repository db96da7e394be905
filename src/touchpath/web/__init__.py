"""The web layer: REST API and UI over the packages below it.

`create_app` is loaded when first asked for, so importing a small part of the web layer (the
server's address file, the CLI's client of a running server) does not build every router.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from touchpath.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from touchpath.web.app import create_app

        return create_app
    raise AttributeError(name)
