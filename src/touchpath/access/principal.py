"""Who is asking: a signed-in user (session) or an API token, with the role that applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from touchpath.access.roles import Role, at_least

__all__ = ["LOCAL", "Principal"]


@dataclass(frozen=True)
class Principal:
    kind: Literal["session", "token", "local"]
    """`local`: a command run on the machine that holds the store file (the CLI)."""
    role: Role
    user_id: str | None = None
    email: str | None = None
    token_id: str | None = None
    token_prefix: str | None = None
    csrf: str | None = None
    """The session's CSRF token (sessions only)."""

    def may(self, needed: str) -> bool:
        return at_least(self.role, needed)

    @property
    def label(self) -> str:
        """How the audit log names it."""
        if self.kind == "token":
            return f"token {self.token_prefix}" + (f" ({self.email})" if self.email else "")
        return self.email or "cli"


LOCAL = Principal(kind="local", role="owner")
