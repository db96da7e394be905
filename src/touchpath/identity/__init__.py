"""Identity resolution: identifiers of each message joined into stable profiles by merge rules."""

from __future__ import annotations

from touchpath.identity.graph import (
    Resolution,
    extract_sql,
    profile_id_for,
    rebuild,
    resolve,
    resolved_through,
)
from touchpath.identity.rules import IdentityRules, Limit

__all__ = [
    "IdentityRules",
    "Limit",
    "Resolution",
    "extract_sql",
    "profile_id_for",
    "rebuild",
    "resolve",
    "resolved_through",
]
