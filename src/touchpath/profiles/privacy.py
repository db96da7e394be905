"""Privacy requests: delete a person by any identifier, everywhere, in one transaction; rewrite
the store file so their bytes go too (`compact`); suppress and lift.

Deleting finds the person's profiles (the identifier's, and every profile merged into them) and
all of their identifiers, then removes, in the writer's one transaction: their events, rejected
messages and tracking-plan violations (payloads that name any of their identifiers, including
non-object payloads and import rows), the journey copy's rows, sentiment scores, traits, computed traits, audience memberships,
the identity graph's identifiers, profiles, merges and drops. Areas with per-profile tables of
their own (destinations, journeys, ...) add a `PersonDelete` to `tp.services["person_deleters"]`
(see `person_deleters`); each runs in the same transaction over the temp tables `_gone_p`
(profile_id), `_gone_i` (kind, value) and `_gone_e` (seq, message_id).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

import duckdb

from touchpath.errors import NotFound, SpecError, StoreUnavailable
from touchpath.store import Store
from touchpath.store.store import utcnow

__all__ = [
    "PersonDelete",
    "compact",
    "delete_person",
    "delete_user",
    "person_deleters",
    "suppress",
    "suppressions",
    "unsuppress",
]

Kind = Literal["user_id", "anonymous_id"]

PersonDelete = Callable[[duckdb.DuckDBPyConnection], dict[str, int]]
"""An area's per-profile delete: runs inside the deletion's transaction, reads `_gone_p`,
`_gone_i` and `_gone_e`, and returns the rows it removed per table."""


def person_deleters(services: dict[str, Any]) -> list[PersonDelete]:
    """The per-profile deletes components registered (`tp.services["person_deleters"]`)."""
    found: list[PersonDelete] = services.get("person_deleters", [])
    return found


def _find(con: duckdb.DuckDBPyConnection, value: str, kind: str | None) -> None:
    """Fill `_gone_p`, `_gone_i`, `_gone_e` for the person `value` names."""
    match = "value = ?" + (" AND kind = ?" if kind else "")
    params: list[object] = [value, kind] if kind else [value]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _gone_p AS SELECT DISTINCT profile_id FROM identifiers "
        f"WHERE ({match}) OR (? AND profile_id = ?)",
        [*params, kind is None, value],
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
    given = (
        "SELECT ?, ?" if kind else "SELECT k, ? FROM (VALUES ('user_id'), ('anonymous_id')) v(k)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _gone_i AS SELECT kind, value FROM identifiers "
        f"WHERE profile_id IN (SELECT profile_id FROM _gone_p) UNION {given}",
        [kind, value] if kind else [value],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _gone_e AS SELECT seq, message_id FROM resolved_events "
        "WHERE profile_id IN (SELECT profile_id FROM _gone_p) "
        "UNION SELECT seq, message_id FROM events WHERE user_id IN (SELECT value FROM _gone_i "
        "WHERE kind = 'user_id') OR anonymous_id IN (SELECT value FROM _gone_i "
        "WHERE kind = 'anonymous_id')"
    )


_NAMES_THEM = (
    "EXISTS (SELECT 1 FROM _gone_i g WHERE CASE WHEN length(g.value) >= 4 "
    "THEN contains(payload, g.value) ELSE json_valid(payload) AND g.value IN "
    "(json_extract_string(payload, '$.userId'), "
    "json_extract_string(payload, '$.anonymousId')) END)"
)
"""A `payload` (a message as sent) that names one of the person's identifiers: JSON or not
(import rows, arrays); short values only where they are the message's ids."""


def delete_person(
    store: Store,
    value: str,
    kind: str | None = None,
    *,
    and_suppress: bool = False,
    deleters: Iterable[PersonDelete] = (),
    actor: str = "cli",
) -> dict[str, int]:
    """Remove everything about the person `value` identifies (a user id, email, anonymous id,
    any identifier of their profile, or the profile id; `kind` narrows it). Returns the rows
    removed per table; NotFound when nothing is stored about them. Run `compact` afterwards so
    the bytes leave the file too."""
    if not value or not value.strip():
        raise SpecError("value: must not be empty")
    extra = list(deleters)

    def run(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        _find(con, value, kind)
        counts: dict[str, int] = {}

        def delete(table: str, where: str, params: list[object] | None = None) -> None:
            row = con.execute(f"DELETE FROM {table} WHERE {where}", params or []).fetchall()[0]
            counts[table] = counts.get(table, 0) + (int(row[0]) if row else 0)

        pids = "profile_id IN (SELECT profile_id FROM _gone_p)"
        seqs = "seq IN (SELECT seq FROM _gone_e)"
        delete("sentiment", seqs)
        delete("journey_events", f"pno IN (SELECT pno FROM journey_profiles WHERE {pids})")
        delete("journey_profiles", pids)
        delete("events", seqs)
        delete("rejected", _NAMES_THEM)
        delete("plan_violations", _NAMES_THEM)  # the examples of what tracking plans found
        delete(
            "identity_drops",
            f"{seqs} OR (kind, value) IN (SELECT kind, value FROM _gone_i)",
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
        for fn in extra:
            for table, n in fn(con).items():
                counts[table] = counts.get(table, 0) + n
        if and_suppress:
            now = utcnow()
            for k, v in con.execute(
                "SELECT kind, value FROM _gone_i WHERE kind IN ('user_id', 'anonymous_id')"
            ).fetchall():
                con.execute(
                    "INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, 'deleted')", [k, v, now]
                )
        if any(counts.values()):
            # The audit log keeps that a deletion happened, never whom it named.
            digest = "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]
            con.execute(
                "INSERT INTO audit_log VALUES (?, ?, 'privacy.delete', ?, NULL)",
                [utcnow(), actor, digest],
            )
        for t in ("_gone_p", "_gone_i", "_gone_e"):
            con.execute(f"DROP TABLE {t}")
        return counts

    counts = store.write_sync(run)
    if not any(counts.values()):
        raise NotFound(f"{kind or 'identifier'} {value!r}: nothing is stored about this person")
    return counts


def delete_user(store: Store, user_id: str, and_suppress: bool = False) -> dict[str, int]:
    """`delete_person` by user id (kept for callers of the first version)."""
    return delete_person(store, user_id, "user_id", and_suppress=and_suppress)


def compact(path: str | Path) -> tuple[int, int]:
    """Rewrite a store file that no process holds into a new file with only its live rows, then
    put it in the old one's place: deleted rows' bytes stay in a DuckDB file (and its WAL) until
    their blocks are reused, so after a deletion this is what makes them go. Returns the file's
    size before and after."""
    src = Path(path)
    if not src.exists():
        raise NotFound(f"{src}: no such store")
    tmp = src.with_name(src.name + ".compact")
    tmp.unlink(missing_ok=True)
    before = (
        src.stat().st_size + _wal(src).stat().st_size if _wal(src).exists() else src.stat().st_size
    )
    try:
        con = duckdb.connect(str(src))
    except duckdb.Error as exc:
        raise StoreUnavailable(
            f"{src}: cannot compact while another process holds it: {exc}"
        ) from exc
    try:
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{_quote(tmp)}' AS fresh")
        (name,) = con.execute("SELECT current_database()").fetchone() or ("",)
        con.execute(f'COPY FROM DATABASE "{name}" TO fresh')
        con.execute("DETACH fresh")
    finally:
        con.close()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    _wal(src).unlink(missing_ok=True)
    os.replace(tmp, src)
    _wal(tmp).unlink(missing_ok=True)
    return before, src.stat().st_size


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


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
