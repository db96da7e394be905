"""Deleting a person removes their journeys: every instance (who was where, the entry event's
properties, their identifiers) and every step it took. Registered as a person deleter
(`tp.services["person_deleters"]`, touchpath.profiles.privacy) by the journeys component, so it
runs in the deletion's one transaction."""

from __future__ import annotations

import duckdb

__all__ = ["delete_journey_state"]


def delete_journey_state(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Remove the journey rows of the people in `_gone_p` / `_gone_i`; rows removed per table."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _gone_j AS
        SELECT id FROM journey_state
        WHERE profile_id IN (SELECT profile_id FROM _gone_p)
            OR user_id IN (SELECT value FROM _gone_i WHERE kind = 'user_id')
            OR anonymous_id IN (SELECT value FROM _gone_i WHERE kind = 'anonymous_id')
        """
    )
    counts = {}
    for table, where in (
        ("journey_steps", "instance IN (SELECT id FROM _gone_j)"),
        ("journey_state", "id IN (SELECT id FROM _gone_j)"),
    ):
        row = con.execute(f"DELETE FROM {table} WHERE {where}").fetchone()
        counts[table] = int(row[0]) if row else 0
    con.execute("DROP TABLE _gone_j")
    return counts
