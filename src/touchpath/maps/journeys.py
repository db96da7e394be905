"""Journeys attached to a map: which journey nodes stand for which touchpoints, with their counts.

A journey links to a touchpoint of a map in three ways (docs/journeys.md): its entry is the
touchpoint (`entry: {kind: touchpoint, map: ..., touchpoint: ...}`), its goal is
(`goal: {touchpoint: {map: ..., touchpoint: ...}}`), or one of its nodes stands for a
touchpoint of a future-state map (`touchpoint: {map: ..., touchpoint: ...}` on the node).
Binding a map reads those links from the published versions of the journeys that run, and each
linked node's numbers (people who entered it, are waiting at it, converted after it, ended
there) with one grouped query per journey, shown beside the touchpoint's own numbers.

The counts are the journeys' own (`touchpath.orchestrate` keeps them in `journey_state` and
`journey_steps`); they are live, not limited to the map's time range.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import duckdb
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from touchpath.maps.bound import BoundMap

__all__ = ["JourneyLink", "NodeNumbers", "count_nodes", "links", "with_journeys"]

_ACTIVE = "('run', 'wait', 'listen', 'heard')"


class NodeNumbers(BaseModel):
    """People a journey node has seen."""

    model_config = ConfigDict(frozen=True)

    entered: int = 0
    """People who reached it."""
    waiting: int = 0
    """People at it now."""
    converted: int = 0
    """People who reached it and then the journey's goal."""
    exited: int = 0
    """People whose journey ended there."""


class JourneyLink(NodeNumbers):
    """A journey node standing for a touchpoint (or the journey's entry or goal), with its
    numbers; for `entry` and `goal` they are the whole journey's."""

    journey: str
    version: int
    """The live version (the counts cover people of every version)."""
    role: Literal["entry", "goal", "node"]
    node: str | None = None


def count_nodes(
    con: duckdb.DuckDBPyConnection, journey: str, version: int | None = None
) -> tuple[dict[str, NodeNumbers], NodeNumbers]:
    """Numbers per node of a journey (one version, or all), and of the whole journey."""

    def where(alias: str = "") -> str:
        out = f"{alias}journey = $j"
        return out if version is None else f"{out} AND {alias}version = $v"

    params: dict[str, Any] = {"j": journey} if version is None else {"j": journey, "v": version}
    seen = {
        str(node): (int(entered), int(converted))
        for node, entered, converted in con.execute(
            f"""
            SELECT st.node, count(DISTINCT st.instance),
                count(DISTINCT st.instance) FILTER (WHERE s.converted_at IS NOT NULL)
            FROM journey_steps st JOIN journey_state s ON s.id = st.instance
            WHERE {where("st.")} AND st.node NOT LIKE '@%'
            GROUP BY st.node
            """,
            params,
        ).fetchall()
    }
    now = {
        str(node): (int(waiting), int(exited))
        for node, waiting, exited in con.execute(
            f"""
            SELECT node, count(*) FILTER (WHERE status IN {_ACTIVE}),
                count(*) FILTER (WHERE status = 'done')
            FROM journey_state WHERE {where()} GROUP BY node
            """,
            params,
        ).fetchall()
    }
    nodes = {
        n: NodeNumbers(
            entered=seen.get(n, (0, 0))[0],
            converted=seen.get(n, (0, 0))[1],
            waiting=now.get(n, (0, 0))[0],
            exited=now.get(n, (0, 0))[1],
        )
        for n in {*seen, *now}
    }
    row = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE status IN {_ACTIVE}), count(converted_at), "
        f"count(*) FILTER (WHERE status = 'done') FROM journey_state WHERE {where()}",
        params,
    ).fetchall()[0]
    total = NodeNumbers(entered=row[0], waiting=row[1], converted=row[2], exited=row[3])
    return nodes, total


def links(con: duckdb.DuckDBPyConnection, map_name: str) -> dict[str, list[JourneyLink]]:
    """The journey nodes linked to each touchpoint of map `map_name`, with their numbers."""
    rows = con.execute(
        """
        SELECT v.journey, v.version, v.plan FROM journey_versions v
        JOIN journeys j ON j.name = v.journey AND j.live_version = v.version
        WHERE j.status IN ('live', 'paused', 'archived') AND v.plan IS NOT NULL
        ORDER BY v.journey
        """
    ).fetchall()
    out: dict[str, list[JourneyLink]] = {}
    for journey, version, plan in rows:
        doc = json.loads(plan)["definition"]
        found: list[tuple[str, str, str | None]] = []  # (touchpoint, role, node)
        entry = doc.get("entry", {})
        if entry.get("kind") == "touchpoint" and entry.get("map") == map_name:
            found.append((entry["touchpoint"], "entry", None))
        goal_tp = (doc.get("goal") or {}).get("touchpoint") or {}
        if goal_tp.get("map") == map_name:
            found.append((goal_tp["touchpoint"], "goal", None))
        for nid, node in doc.get("nodes", {}).items():
            tp = node.get("touchpoint") or {}
            if tp.get("map") == map_name:
                found.append((tp["touchpoint"], "node", nid))
        if not found:
            continue
        nodes, total = count_nodes(con, str(journey))
        for touchpoint, role, nid in found:
            numbers = total if nid is None else nodes.get(nid, NodeNumbers())
            out.setdefault(touchpoint, []).append(
                JourneyLink(
                    journey=str(journey),
                    version=int(version),
                    role=role,
                    node=nid,
                    **numbers.model_dump(),
                )
            )
    return out


def with_journeys(con: duckdb.DuckDBPyConnection, bound: BoundMap) -> BoundMap:
    """`bound` with the journey nodes linked to its touchpoints."""
    found = links(con, bound.map.name)
    if not found:
        return bound
    stages = [
        s.model_copy(
            update={
                "touchpoints": [
                    t.model_copy(update={"journeys": found.get(t.name, [])}) for t in s.touchpoints
                ]
            }
        )
        for s in bound.stages
    ]
    return bound.model_copy(update={"stages": stages})
