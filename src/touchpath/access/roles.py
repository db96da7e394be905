"""Roles, in order: owner > admin > editor > viewer. A role may do what any lower one may.

>>> at_least("admin", "editor"), at_least("viewer", "editor")
(True, False)
"""

from __future__ import annotations

from typing import Literal, cast, get_args

from touchpath.errors import SpecError

__all__ = ["ROLES", "Role", "at_least", "parse_role"]

Role = Literal["viewer", "editor", "admin", "owner"]
"""viewer reads; editor changes audiences, traits, maps, journeys, templates, experiments and
decisions; admin manages sources, destinations, users, tokens and privacy; owner everything."""

ROLES: tuple[Role, ...] = get_args(Role)
"""Lowest first."""


def at_least(role: str, needed: str) -> bool:
    """Whether `role` may do what `needed` may."""
    return ROLES.index(cast(Role, role)) >= ROLES.index(cast(Role, needed))


def parse_role(value: str, where: str = "role") -> Role:
    """A role name, or a SpecError naming the choices."""
    v = value.strip().lower()
    if v not in ROLES:
        raise SpecError(f"{where}: {value!r} is not a role; choose one of {', '.join(ROLES)}")
    return v
