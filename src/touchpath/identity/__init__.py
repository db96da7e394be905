"""Identity resolution: identifiers of each message joined into stable profiles by merge rules.

`extract` reads each message's identifiers (set-wise, in SQL); `graph` is the part of the graph
a batch touches, in memory, and the walk of one message's identifiers through it; `resolve`
brings the graph up to date with a range of the log (`resolve.resolve`) or rebuilds it
(`rebuild`); `persist` writes what a batch resolved. `rules` holds the merge rules.
"""

from __future__ import annotations

from touchpath.identity.extract import extract_sql, profile_id_for
from touchpath.identity.graph import Resolution
from touchpath.identity.resolve import rebuild, resolved_through
from touchpath.identity.rules import IdentityRules, Limit

__all__ = [
    "IdentityRules",
    "Limit",
    "Resolution",
    "extract_sql",
    "profile_id_for",
    "rebuild",
    "resolved_through",
]
