"""Access: users with roles, personal API tokens, browser sessions and the audit log.

Write keys authenticate `/v1` only (touchpath.collect). Everything else needs a user session or a
personal API token with a role: owner > admin > editor > viewer. The web layer
(`touchpath.web.auth`) turns these into FastAPI dependencies; the CLI calls them directly on the
machine that holds the store. Tables: `access/migrations/` (versions 100-199).
"""

from __future__ import annotations

from touchpath.access.audit import AuditEntry, audit_log, record
from touchpath.access.limits import LoginLimiter
from touchpath.access.principal import LOCAL, Principal
from touchpath.access.roles import ROLES, Role, at_least, parse_role
from touchpath.access.service import Access
from touchpath.access.sessions import create_session, end_session, lookup_session
from touchpath.access.tokens import Token, create_token, list_tokens, lookup_token, revoke_token
from touchpath.access.users import (
    User,
    authenticate,
    create_user,
    disable_user,
    get_user,
    list_users,
    set_password,
    set_role,
)

__all__ = [
    "LOCAL",
    "ROLES",
    "Access",
    "AuditEntry",
    "LoginLimiter",
    "Principal",
    "Role",
    "Token",
    "User",
    "at_least",
    "audit_log",
    "authenticate",
    "create_session",
    "create_token",
    "create_user",
    "disable_user",
    "end_session",
    "get_user",
    "list_tokens",
    "list_users",
    "lookup_session",
    "lookup_token",
    "parse_role",
    "record",
    "revoke_token",
    "set_password",
    "set_role",
]
