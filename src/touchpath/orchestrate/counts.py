"""How many people each node of a journey has seen, and the journey as a canvas draws it.

Per node: `entered` (people who reached it), `waiting` (people at it now), `converted` (of those
who reached it, how many reached the goal), `exited` (people whose journey ended there). Per
edge: how many people took it. One grouped query over `journey_steps` and one over
`journey_state`, whatever the number of people.
"""

from __future__ import annotations

from typing import Any

import duckdb
from pydantic import BaseModel

from touchpath.maps.journeys import NodeNumbers, count_nodes
from touchpath.orchestrate.document import Journey, Problem
from touchpath.orchestrate.sql import lit

__all__ = ["CanvasEdge", "CanvasNode", "JourneyCanvas", "NodeCounts", "canvas", "node_counts"]


NodeCounts = NodeNumbers
"""People a node has seen: entered, waiting, converted, exited (`touchpath.maps.journeys`)."""


class CanvasNode(BaseModel):
    id: str
    kind: str
    label: str
    position: dict[str, float] | None = None
    config: dict[str, Any]
    """The node as written in the document (without kind, label and position)."""
    counts: NodeCounts
    problems: list[Problem] = []


class CanvasEdge(BaseModel):
    id: str
    """`<source>:<label>`."""
    source: str
    target: str
    label: str
    """The field that makes the link: next, on_event, on_timeout, a branch or variant name."""
    count: int = 0
    """People who took it."""


class JourneyCanvas(BaseModel):
    """What the builder draws: nodes with their counts, edges with theirs, problems by node."""

    name: str
    version: int
    status: str
    start: str
    entry: dict[str, Any]
    nodes: list[CanvasNode]
    edges: list[CanvasEdge]
    entered: int = 0
    converted: int = 0
    problems: list[Problem] = []
    """Problems that belong to no node (entry, goal, exit rules)."""


def node_counts(
    con: duckdb.DuckDBPyConnection, journey: str, version: int | None = None
) -> tuple[dict[str, NodeCounts], dict[tuple[str, str, str], int], tuple[int, int]]:
    """Counts per node, people per edge (source, label, target), and (entered, converted) of a
    journey (one version, or all)."""
    nodes, total = count_nodes(con, journey, version)
    scope = f"journey = {lit(journey)}" + ("" if version is None else f" AND version = {version}")
    edges = {
        (str(src), str(via), str(node)): int(n)
        for src, via, node, n in con.execute(
            f"""
            SELECT came_from, via, node, count(*) FROM journey_steps
            WHERE {scope} AND came_from IS NOT NULL AND via IS NOT NULL AND node NOT LIKE '@%'
            GROUP BY ALL
            """
        ).fetchall()
    }
    return nodes, edges, (total.entered, total.converted)


def canvas(
    con: duckdb.DuckDBPyConnection,
    doc: Journey,
    version: int,
    status: str,
    problems: list[Problem] | None = None,
    counted: int | None = None,
) -> JourneyCanvas:
    """The canvas of `doc`, with the counts of version `counted` (None: every version)."""
    counts, edge_counts, (entered, converted) = node_counts(con, doc.name, counted)
    by_node: dict[str, list[Problem]] = {}
    loose: list[Problem] = []
    for p in problems or []:
        (by_node.setdefault(p.node, []) if p.node in doc.nodes else loose).append(p)
    nodes = []
    for nid, node in doc.nodes.items():
        config = node.model_dump(
            mode="json", exclude={"kind", "label", "position"}, exclude_none=True
        )
        nodes.append(
            CanvasNode(
                id=nid,
                kind=node.kind,
                label=node.label or nid,
                position=node.position.model_dump() if node.position else None,
                config=config,
                counts=counts.get(nid, NodeCounts()),
                problems=by_node.get(nid, []),
            )
        )
    edges = [
        CanvasEdge(
            id=f"{src}:{label}",
            source=src,
            target=dst,
            label=label,
            count=edge_counts.get((src, label, dst), 0),
        )
        for src, label, dst in doc.edges()
    ]
    return JourneyCanvas(
        name=doc.name,
        version=version,
        status=status,
        start=doc.first_node(),
        entry=doc.entry.model_dump(mode="json", exclude_none=True),
        nodes=nodes,
        edges=edges,
        entered=entered,
        converted=converted,
        problems=loose,
    )
