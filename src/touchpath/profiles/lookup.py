"""Reading profiles: find one by any identifier, show it, explain its graph, list its timeline."""

from __future__ import annotations

import json
from typing import Any

from touchpath.errors import NotFound
from touchpath.store import Store

__all__ = ["PROFILE_EVENTS", "explain", "find_profile", "members", "show", "timeline"]

PROFILE_EVENTS = """
    SELECT * FROM resolved_events
    WHERE seq IN (
        SELECT seq FROM events WHERE user_id IN (
            SELECT value FROM identifiers WHERE profile_id = $1 AND kind = 'user_id')
        UNION
        SELECT seq FROM events WHERE anonymous_id IN (
            SELECT value FROM identifiers WHERE profile_id = $1 AND kind = 'anonymous_id'))
      AND profile_id = $1
"""
"""The resolved events of profile `$1`, found through its user and anonymous ids (an index-free
probe of two columns) rather than by resolving the whole log."""


def find_profile(store: Store, ref: str, kind: str | None = None) -> str:
    """The profile id for `ref`: a profile id, or an identifier value (of `kind` if given)."""
    if kind is None and store.query("SELECT 1 FROM profiles WHERE profile_id = ?", [ref]):
        return ref
    sql = "SELECT profile_id FROM identifiers WHERE value = ?"
    params: list[Any] = [ref]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    rows = store.query(sql + " ORDER BY kind = 'user_id' DESC, kind LIMIT 1", params)
    if not rows:
        # A merged-away id still finds the profile it was merged into.
        rows = store.query(
            "SELECT kept_profile_id FROM merges WHERE merged_profile_id = ? ORDER BY seq DESC",
            [ref],
        )
        if rows:
            return find_profile(store, rows[0][0])
        where = f" of kind {kind}" if kind else ""
        raise NotFound(f"profile {ref!r}: no profile has this id or identifier{where}")
    return str(rows[0][0])


def show(store: Store, ref: str, kind: str | None = None, consent: bool = True) -> dict[str, Any]:
    """A profile: identifiers, traits, computed traits, audiences and consent with its history
    (`consent=False`: without those two keys, which read the profile's events, most of the
    cost)."""
    pid = find_profile(store, ref, kind)
    created = store.query("SELECT created_at FROM profiles WHERE profile_id = ?", [pid])
    idents = store.query_dicts(
        "SELECT kind, value, first_seen, last_seen FROM identifiers WHERE profile_id = ? "
        "ORDER BY kind, value",
        [pid],
    )
    traits = {
        n: json.loads(v) if v is not None else None
        for n, v in store.query(
            "SELECT name, value FROM profile_traits WHERE profile_id = ? ORDER BY name", [pid]
        )
    }
    computed = {
        n: json.loads(v)
        for n, v in store.query(
            "SELECT name, value FROM computed_trait_values WHERE profile_id = ? ORDER BY name",
            [pid],
        )
    }
    auds = [
        {"audience": a, "entered_at": t}
        for a, t in store.query(
            "SELECT audience, entered_at FROM audience_members WHERE profile_id = ? "
            "ORDER BY audience",
            [pid],
        )
    ]
    out: dict[str, Any] = {
        "profile_id": pid,
        "created_at": created[0][0] if created else None,
        "identifiers": idents,
        "traits": traits,
        "computed_traits": computed,
        "audiences": auds,
    }
    if consent:
        history = _consent_history(store, pid)
        out["consent"] = history[-1]["preferences"] if history else None
        out["consent_history"] = history
    return out


def _consent_history(store: Store, pid: str) -> list[dict[str, Any]]:
    """Each change of the profile's consent preferences, oldest first."""
    consent = store.query_dicts(
        f"""
        SELECT timestamp, message_id, preferences FROM (
            SELECT timestamp, seq, message_id,
                json_extract(context, '$.consent.categoryPreferences') AS preferences,
                lag(json_extract(context, '$.consent.categoryPreferences')::VARCHAR)
                    OVER (ORDER BY timestamp, seq) AS before
            FROM ({PROFILE_EVENTS})
            WHERE json_extract(context, '$.consent.categoryPreferences') IS NOT NULL)
        WHERE before IS DISTINCT FROM preferences::VARCHAR
        ORDER BY timestamp, seq
        """,
        [pid],
    )
    for row in consent:
        row["preferences"] = json.loads(row["preferences"])
    return consent


def explain(store: Store, ref: str, kind: str | None = None) -> dict[str, Any]:
    """Why identifiers belong together: the message that linked each, the merges, the drops."""
    pid = find_profile(store, ref, kind)
    links = store.query_dicts(
        "SELECT kind, value, linked_seq, linked_by AS message_id, linked_at FROM identifiers "
        "WHERE profile_id = ? ORDER BY linked_seq, kind, value",
        [pid],
    )
    merges = store.query_dicts(
        """
        WITH RECURSIVE chain(p) AS (
            SELECT ?::VARCHAR UNION SELECT m.merged_profile_id FROM merges m JOIN chain c
            ON m.kept_profile_id = c.p)
        SELECT seq, message_id, merged_at, kept_profile_id, merged_profile_id, identifiers
        FROM merges WHERE kept_profile_id IN (SELECT p FROM chain) ORDER BY seq
        """,
        [pid],
    )
    for m in merges:
        m["identifiers"] = json.loads(m["identifiers"])
    drops = store.query_dicts(
        "SELECT d.seq, d.message_id, d.kind, d.value, d.reason FROM identity_drops d "
        "WHERE d.seq IN (SELECT seq FROM resolved_events WHERE profile_id = ?) ORDER BY d.seq",
        [pid],
    )
    return {"profile_id": pid, "links": links, "merges": merges, "drops": drops}


def timeline(
    store: Store, ref: str, kind: str | None = None, limit: int = 200, offset: int = 0
) -> dict[str, Any]:
    """Every event of the profile across devices and channels, with its anonymous history.

    An event with no user id that joined the profile through another identifier it carries (a
    till purchase with the loyalty card in `context.externalIds`) says so in `linked_by`:
    `[{"kind": "loyalty_id", "value": "L1234567"}]` (the store-to-online link).
    """
    pid = find_profile(store, ref, kind)
    rows = store.query_dicts(
        "SELECT seq, timestamp, type, event, channel, source, user_id, anonymous_id, message_id, "
        "properties, json_extract_string(context, '$.externalIds') AS external_ids, "
        f"count(*) OVER () AS total FROM ({PROFILE_EVENTS}) "
        "ORDER BY timestamp, seq LIMIT $2 OFFSET $3",
        [pid, limit, offset],
    )
    own = {(k, v) for k, v in store.query(
        "SELECT kind, value FROM identifiers WHERE profile_id = ?", [pid]
    )}  # fmt: skip
    for r in rows:
        r["properties"] = json.loads(r["properties"]) if r["properties"] else None
        external = r.pop("external_ids")
        r["linked_by"] = _linked_by(external, own) if r["user_id"] is None else []
    total = rows[0].pop("total") if rows else 0
    for r in rows[1:]:
        del r["total"]
    if not rows and offset:
        (total,) = store.query(f"SELECT count(*) FROM ({PROFILE_EVENTS})", [pid])[0]
    return {"profile_id": pid, "total": int(total), "events": rows}


def _linked_by(external: str | None, own: set[tuple[str, str]]) -> list[dict[str, str]]:
    """The profile's identifiers among a message's `context.externalIds`."""
    try:
        ids = json.loads(external) if external else []
    except ValueError:
        return []
    out = []
    for x in ids if isinstance(ids, list) else []:
        if isinstance(x, dict) and (str(x.get("type")), str(x.get("id"))) in own:
            out.append({"kind": str(x["type"]), "value": str(x["id"])})
    return out


def members(store: Store, audience: str) -> list[dict[str, Any]]:
    """Members of `audience` with their user id and email, for lists and CSV export."""
    if not store.query("SELECT 1 FROM audiences WHERE name = ?", [audience]):
        raise NotFound(f"audience {audience!r}: no such audience")
    return store.query_dicts(
        """
        SELECT m.profile_id,
            min(i.value) FILTER (WHERE i.kind = 'user_id') AS user_id,
            min(i.value) FILTER (WHERE i.kind = 'email') AS email,
            m.entered_at
        FROM audience_members m LEFT JOIN identifiers i USING (profile_id)
        WHERE m.audience = ? GROUP BY m.profile_id, m.entered_at ORDER BY m.entered_at, m.profile_id
        """,
        [audience],
    )
