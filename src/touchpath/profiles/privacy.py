"""Privacy requests: delete everything about a user in one transaction; suppress and lift."""

from __future__ import annotations

from typing import Literal

import duckdb

from touchpath.errors import NotFound, SpecError
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = ["delete_user", "suppress", "suppressions", "unsuppress"]

Kind = Literal["user_id", "anonymous_id"]


def delete_user(store: Store, user_id: str, and_suppress: bool = False) -> dict[str, int]:
    """Remove the person with `user_id`: events, rejected payloads, identifiers, profile,
    traits, memberships and merges. Returns the rows removed per table."""
    if not user_id:
        raise SpecError("user_id: must not be empty")

    def run(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gone_p AS SELECT DISTINCT profile_id FROM identifiers "
            "WHERE kind = 'user_id' AND value = ?",
            [user_id],
        )
        # Every profile ever merged into it, too (their ids live on in merges).
        con.execute(
            """
            INSERT INTO _gone_p
            WITH RECURSIVE chain(p) AS (
                SELECT profile_id FROM _gone_p
                UNION SELECT m.merged_profile_id FROM merges m JOIN chain c ON m.kept_profile_id = c.p)
            SELECT p FROM chain WHERE p NOT IN (SELECT profile_id FROM _gone_p)
            """
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gone_i AS SELECT kind, value FROM identifiers "
            "WHERE profile_id IN (SELECT profile_id FROM _gone_p) "
            "UNION SELECT 'user_id', ?",
            [user_id],
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _gone_e AS SELECT seq, message_id FROM resolved_events "
            "WHERE profile_id IN (SELECT profile_id FROM _gone_p) OR user_id = ?",
            [user_id],
        )
        counts: dict[str, int] = {}

        def delete(table: str, where: str, params: list[object] | None = None) -> None:
            row = con.execute(f"DELETE FROM {table} WHERE {where}", params or []).fetchall()[0]
            counts[table] = int(row[0]) if row else 0

        pids = "profile_id IN (SELECT profile_id FROM _gone_p)"
        delete("events", "seq IN (SELECT seq FROM _gone_e)")
        delete(
            "rejected",
            "CASE WHEN json_valid(payload) THEN "
            "json_extract_string(payload, '$.userId') = ? OR json_extract_string(payload, "
            "'$.anonymousId') IN (SELECT value FROM _gone_i WHERE kind = 'anonymous_id') "
            "ELSE contains(payload, ?) END",
            [user_id, user_id],
        )
        delete("identifiers", pids)
        delete("profiles", pids)
        delete("profile_traits", pids)
        delete("computed_trait_values", pids)
        delete("audience_members", pids)
        delete(
            "merges",
            "kept_profile_id IN (SELECT profile_id FROM _gone_p) "
            "OR merged_profile_id IN (SELECT profile_id FROM _gone_p)",
        )
        delete(
            "identity_drops",
            "seq IN (SELECT seq FROM _gone_e) OR (kind, value) IN (SELECT kind, value FROM _gone_i)",
        )
        if and_suppress:
            con.execute(
                "INSERT OR IGNORE INTO suppressions VALUES ('user_id', ?, ?, 'deleted')",
                [user_id, utcnow()],
            )
        for t in ("_gone_p", "_gone_i", "_gone_e"):
            con.execute(f"DROP TABLE {t}")
        return counts

    counts = store.write_sync(run)
    if not any(counts.values()):
        raise NotFound(f"user_id {user_id!r}: nothing is stored about this user")
    return counts


def suppress(store: Store, value: str, kind: Kind = "user_id", reason: str | None = None) -> None:
    """Acknowledge and drop every future message of this user (200, as Segment does)."""
    _check(value, kind)
    store.write_sync(
        lambda con: con.execute(
            "INSERT OR REPLACE INTO suppressions VALUES (?, ?, ?, ?)",
            [kind, value, utcnow(), reason],
        )
    )


def unsuppress(store: Store, value: str, kind: Kind = "user_id") -> None:
    """Lift a suppression: later messages are stored again."""
    _check(value, kind)
    (n,) = store.write_sync(
        lambda con: con.execute(
            "DELETE FROM suppressions WHERE kind = ? AND value = ?", [kind, value]
        ).fetchall()[0]
    ) or (0,)
    if not n:
        raise NotFound(f"{kind} {value!r}: not suppressed")


def suppressions(store: Store) -> list[dict[str, object]]:
    """Every suppression, newest first."""
    return store.query_dicts(
        "SELECT kind, value, created_at, reason FROM suppressions ORDER BY created_at DESC"
    )


def _check(value: str, kind: str) -> None:
    if not value:
        raise SpecError(f"{kind}: must not be empty")
    if kind not in ("user_id", "anonymous_id"):
        raise SpecError(f"kind: must be user_id or anonymous_id, not {kind!r}")
