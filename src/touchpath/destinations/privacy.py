"""Deleting a person removes what the destinations hold about them: their outbox messages (the
recipient, the rendered context, the triggering event), each message's delivery log, and their
subscription choices. Registered as a person deleter (`tp.services["person_deleters"]`,
touchpath.profiles.privacy), so it runs in the deletion's one transaction.

A message counts as theirs when it names one of their profiles, or its recipient is one of their
identifiers (an email address or phone number given explicitly)."""

from __future__ import annotations

import duckdb

__all__ = ["delete_outbox_person"]


def delete_outbox_person(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Remove the destination rows of the people in `_gone_p` / `_gone_i`; rows per table."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _gone_m AS
        SELECT id FROM outbox_messages
        WHERE profile_id IN (SELECT profile_id FROM _gone_p)
            OR recipient IN (SELECT value FROM _gone_i)
        """
    )
    counts = {}
    for table, where in (
        ("outbox_attempts", "message_id IN (SELECT id FROM _gone_m)"),
        ("outbox_queue", "id IN (SELECT id FROM _gone_m)"),
        ("outbox_done", "id IN (SELECT id FROM _gone_m)"),
        ("outbox_messages", "id IN (SELECT id FROM _gone_m)"),
        ("subscriptions", "profile_id IN (SELECT profile_id FROM _gone_p)"),
    ):
        row = con.execute(f"DELETE FROM {table} WHERE {where}").fetchone()
        counts["outbox" if table == "outbox_messages" else table] = int(row[0]) if row else 0
    con.execute("DROP TABLE _gone_m")
    return counts
