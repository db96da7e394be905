// The builder's canvas (React Flow): the entry, every node as a card with its live counts and
// problems, and one handle per exit (next, on_event / on_timeout, each path of a branch, each
// variant of a split and its holdout). Dragging from a handle to a node connects it; selecting
// an edge or a node and pressing Delete removes it.
import {
  Background,
  type Connection,
  Controls,
  type Edge,
  Handle,
  type Node,
  type NodeChange,
  type NodeProps,
  Position,
  ReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import type { Schemas } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { type JNode, type JourneyDoc, connect, entryText, exitsOf, kindLabel, layout, removeNode, summary } from "./model";

type Counts = Schemas["NodeNumbers"];
type Problem = Schemas["Problem"];
export const ENTRY = "__entry";

interface CardData extends Record<string, unknown> {
  id: string;
  node: JNode;
  counts?: Counts;
  problems: Problem[];
  start: boolean;
}

function NodeCard({ data, selected }: NodeProps<Node<CardData>>) {
  const exits = exitsOf(data.node);
  const c = data.counts;
  return (
    <div className={`jnode kind-${data.node.kind}${selected ? " selected" : ""}${data.problems.length ? " has-problems" : ""}`} aria-label={`Node ${data.id}`}>
      <Handle type="target" position={Position.Left} />
      <div className="jnode-kind">{kindLabel(data.node.kind)}</div>
      <div className="jnode-label">{data.node.label || data.id}</div>
      <div className="jnode-summary">{summary(data.node)}</div>
      {c && (
        <dl className="jnode-counts" aria-label={`People at ${data.id}`}>
          <dt>entered</dt>
          <dd>{fmtInt(c.entered ?? 0)}</dd>
          <dt>waiting</dt>
          <dd>{fmtInt(c.waiting ?? 0)}</dd>
          <dt>converted</dt>
          <dd>{fmtInt(c.converted ?? 0)}</dd>
          <dt>exited</dt>
          <dd>{fmtInt(c.exited ?? 0)}</dd>
        </dl>
      )}
      {data.problems.map((p) => (
        <div key={p.path + p.message} className="jnode-problem" role="note">
          {p.path.replace(`nodes.${data.id}.`, "")}: {p.message}
        </div>
      ))}
      <div className="jnode-exits">
        {exits.map((e) => (
          <div key={e.handle} className="jnode-exit">
            {e.handle === "next" ? "then" : e.handle}
            <Handle type="source" id={e.handle} position={Position.Right} />
          </div>
        ))}
      </div>
    </div>
  );
}

function EntryCard({ data }: NodeProps<Node<{ text: string }>>) {
  return (
    <div className="jnode jnode-entry">
      <div className="jnode-kind">Entry</div>
      <div className="jnode-summary">People enter when they {data.text}</div>
      <Handle type="source" id="start" position={Position.Right} />
    </div>
  );
}

const TYPES = { card: NodeCard, entry: EntryCard };

interface Props {
  doc: JourneyDoc;
  onChange: (d: JourneyDoc) => void;
  selected: string | null;
  onSelect: (id: string | null) => void;
  counts: Record<string, Counts>;
  edgeCounts: Record<string, number>;
  problems: Problem[];
  editable: boolean;
}

export function JourneyCanvas({ doc, onChange, selected, onSelect, counts, edgeCounts, problems, editable }: Props) {
  const positions = useMemo(() => layout(doc), [doc]);
  const start = doc.start && doc.nodes[doc.start] ? doc.start : Object.keys(doc.nodes)[0];
  const nodes: Node[] = [
    { id: ENTRY, type: "entry", position: { x: -230, y: positions[start ?? ""]?.y ?? 40 }, data: { text: entryText(doc.entry) }, deletable: false, selectable: false },
    ...Object.entries(doc.nodes).map(([id, node]) => ({
      id,
      type: "card",
      position: positions[id]!,
      selected: id === selected,
      data: { id, node, counts: counts[id], problems: problems.filter((p) => p.node === id), start: id === start },
    })),
  ];
  const edges: Edge[] = [];
  if (start) edges.push({ id: `${ENTRY}:start`, source: ENTRY, sourceHandle: "start", target: start, deletable: false });
  for (const [id, node] of Object.entries(doc.nodes)) {
    for (const e of exitsOf(node)) {
      if (!e.target || !doc.nodes[e.target]) continue;
      const n = edgeCounts[`${id}:${e.handle}`];
      const words = [e.handle === "next" ? "" : e.handle, n ? `${fmtInt(n)} people` : ""].filter(Boolean).join(" · ");
      edges.push({ id: `${id}:${e.handle}`, source: id, sourceHandle: e.handle, target: e.target, label: words || undefined, animated: !!n });
    }
  }
  const onNodesChange = (changes: NodeChange[]) => {
    let next = doc;
    for (const ch of changes) {
      const was = ch.type === "position" ? positions[ch.id] : undefined;
      const moved = ch.type === "position" && ch.position && was && (Math.abs(ch.position.x - was.x) >= 1 || Math.abs(ch.position.y - was.y) >= 1);
      if (ch.type === "position" && ch.position && moved && next.nodes[ch.id]) {
        next = { ...next, nodes: { ...next.nodes, [ch.id]: { ...next.nodes[ch.id]!, position: { x: Math.round(ch.position.x), y: Math.round(ch.position.y) } } } };
      }
      if (ch.type === "remove" && next.nodes[ch.id]) next = removeNode(next, ch.id);
    }
    if (next !== doc) onChange(next);
  };
  const onConnect = (c: Connection) => {
    if (!c.target || c.target === ENTRY) return;
    if (c.source === ENTRY) return onChange({ ...doc, start: c.target });
    const node = doc.nodes[c.source];
    if (node && c.sourceHandle) onChange({ ...doc, nodes: { ...doc.nodes, [c.source]: connect(node, c.sourceHandle, c.target) } });
  };
  const onEdgesDelete = (gone: Edge[]) => {
    let next = doc;
    for (const e of gone) {
      const node = next.nodes[e.source];
      if (node && e.sourceHandle) next = { ...next, nodes: { ...next.nodes, [e.source]: connect(node, e.sourceHandle, null) } };
    }
    onChange(next);
  };
  return (
    <div className="jcanvas" aria-label="Journey canvas">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={TYPES}
        onNodesChange={editable ? onNodesChange : undefined}
        onConnect={editable ? onConnect : undefined}
        onEdgesDelete={editable ? onEdgesDelete : undefined}
        onNodeClick={(_, n) => onSelect(n.id === ENTRY ? null : n.id)}
        onPaneClick={() => onSelect(null)}
        nodesDraggable={editable}
        nodesConnectable={editable}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
        minZoom={0.3}
      >
        <Background gap={20} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
