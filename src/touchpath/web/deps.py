"""Typed FastAPI dependencies shared by the routers (the collector defines the store's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from touchpath.collect.http import StoreDep, get_store
from touchpath.system import Touchpath

__all__ = ["StoreDep", "TouchpathDep", "get_store", "get_touchpath"]


async def get_touchpath(request: Request) -> Touchpath:
    """The app's composition root: its store, settings and the services its components expose."""
    tp: Touchpath = request.app.state.touchpath
    return tp


TouchpathDep = Annotated[Touchpath, Depends(get_touchpath)]
