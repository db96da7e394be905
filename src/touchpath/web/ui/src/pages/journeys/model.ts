// The journey document as the builder edits it, and the pure steps of editing: which exits a
// node has, connecting and disconnecting them, adding, renaming and removing nodes, laying out
// nodes that have no position yet. The canvas (React Flow) is drawn from these.

export type Json = Record<string, unknown>;

export interface JNode extends Json {
  kind: string;
  label?: string | null;
  position?: { x: number; y: number } | null;
}

export interface JourneyDoc extends Json {
  name: string;
  title?: string | null;
  entry: Json & { kind: string };
  re_entry?: Json;
  exit?: Json;
  goal?: Json | null;
  start?: string | null;
  nodes: Record<string, JNode>;
}

export const KINDS: { kind: string; label: string; help: string }[] = [
  { kind: "wait", label: "Wait", help: "Wait a duration, then go on." },
  { kind: "wait_until", label: "Wait until time of day", help: "Wait until a time on chosen weekdays, in the person's time zone." },
  { kind: "wait_for_event", label: "Wait for event", help: "Go one way if the person does an event in time, the other way if not." },
  { kind: "branch", label: "Branch", help: "Send people down the first path whose condition holds." },
  { kind: "split", label: "Random split", help: "Split people at random by weight, with an optional holdout." },
  { kind: "send", label: "Send message", help: "Send an email, SMS or push through a destination." },
  { kind: "update_trait", label: "Update trait", help: "Set a trait on the person." },
  { kind: "webhook", label: "Call webhook", help: "Call a webhook destination with a JSON body." },
  { kind: "exit", label: "Exit", help: "Leave the journey here." },
];

export const kindLabel = (kind: string) => KINDS.find((k) => k.kind === kind)?.label ?? kind;

/** A new node of a kind, with what the server requires filled in with a sensible default. */
export function blankNode(kind: string): JNode {
  switch (kind) {
    case "wait":
      return { kind, duration: "1d" };
    case "wait_until":
      return { kind, at: "09:00", weekdays: ["mon", "tue", "wed", "thu", "fri"], timezone_trait: "timezone", fallback_timezone: "UTC" };
    case "wait_for_event":
      return { kind, event: { event: "" }, timeout: "4h" };
    case "branch":
      return { kind, branches: [{ name: "yes", when: { kind: "trait", trait: "", op: "eq", value: "" } }] };
    case "split":
      return { kind, variants: [{ name: "a", weight: 50 }, { name: "b", weight: 50 }], holdout: 0 };
    case "send":
      return { kind, destination: "", template: "" };
    case "update_trait":
      return { kind, trait: "", value: "" };
    case "webhook":
      return { kind, destination: "", body: {} };
    default:
      return { kind: "exit", reason: "exit_node" };
  }
}

/** The exits of a node: the field (or branch / variant name) and where it leads. */
export function exitsOf(node: JNode): { handle: string; target: string | null }[] {
  const t = (v: unknown) => (typeof v === "string" && v ? v : null);
  switch (node.kind) {
    case "exit":
      return [];
    case "wait_for_event":
      return [
        { handle: "on_event", target: t(node.on_event) },
        { handle: "on_timeout", target: t(node.on_timeout) },
      ];
    case "branch": {
      const branches = (node.branches as Json[] | undefined) ?? [];
      return [
        ...branches.map((b) => ({ handle: String(b.name), target: t(b.next) })),
        { handle: "otherwise", target: t(node.otherwise) },
      ];
    }
    case "split": {
      const variants = (node.variants as Json[] | undefined) ?? [];
      const out = variants.map((v) => ({ handle: String(v.name), target: t(v.next) }));
      if (Number(node.holdout ?? 0) > 0) out.push({ handle: "holdout", target: t(node.holdout_next) });
      return out;
    }
    default:
      return [{ handle: "next", target: t(node.next) }];
  }
}

/** The node with its exit `handle` leading to `target` (null: the journey ends there). */
export function connect(node: JNode, handle: string, target: string | null): JNode {
  const v = target ?? undefined;
  const set = (o: Json, key: string): Json => {
    const copy = { ...o };
    if (v === undefined) delete copy[key];
    else copy[key] = v;
    return copy;
  };
  if (node.kind === "branch" && handle !== "otherwise") {
    const branches = ((node.branches as Json[]) ?? []).map((b) => (b.name === handle ? set(b, "next") : b));
    return { ...node, branches };
  }
  if (node.kind === "split" && handle !== "holdout") {
    const variants = ((node.variants as Json[]) ?? []).map((x) => (x.name === handle ? set(x, "next") : x));
    return { ...node, variants };
  }
  const field = node.kind === "split" ? "holdout_next" : handle;
  return set(node, field) as JNode;
}

/** A node id not used yet: `send_1`, `send_2`… */
export function freshId(doc: JourneyDoc, kind: string): string {
  for (let i = 1; ; i++) if (!(`${kind}_${i}` in doc.nodes)) return `${kind}_${i}`;
}

/** Add a node of `kind` at `position`; when `after` names a node, its first free exit leads to it. */
export function addNode(doc: JourneyDoc, kind: string, position: { x: number; y: number }, after?: string | null): [JourneyDoc, string] {
  const id = freshId(doc, kind);
  const nodes = { ...doc.nodes, [id]: { ...blankNode(kind), position } };
  if (after && nodes[after]) {
    const free = exitsOf(nodes[after]).find((e) => e.target === null);
    if (free) nodes[after] = connect(nodes[after], free.handle, id);
  }
  return [{ ...doc, nodes }, id];
}

/** Remove a node and every link to it. The start moves to the next node when it was the start. */
export function removeNode(doc: JourneyDoc, id: string): JourneyDoc {
  const nodes: Record<string, JNode> = {};
  for (const [nid, node] of Object.entries(doc.nodes)) {
    if (nid === id) continue;
    let n = node;
    for (const e of exitsOf(node)) if (e.target === id) n = connect(n, e.handle, null);
    nodes[nid] = n;
  }
  const start = doc.start === id ? (Object.keys(nodes)[0] ?? null) : doc.start;
  return { ...doc, nodes, start };
}

/** Rename a node's id, following every link and the start. */
export function renameNode(doc: JourneyDoc, from: string, to: string): JourneyDoc {
  if (from === to || to in doc.nodes) return doc;
  const nodes: Record<string, JNode> = {};
  for (const [nid, node] of Object.entries(doc.nodes)) {
    let n = node;
    for (const e of exitsOf(node)) if (e.target === from) n = connect(n, e.handle, to);
    nodes[nid === from ? to : nid] = n;
  }
  return { ...doc, nodes, start: doc.start === from ? to : doc.start };
}

/** Positions for every node: its own, else a layered layout from the start (columns by depth). */
export function layout(doc: JourneyDoc): Record<string, { x: number; y: number }> {
  const depth: Record<string, number> = {};
  const start = doc.start && doc.nodes[doc.start] ? doc.start : Object.keys(doc.nodes)[0];
  const queue: string[] = start ? [start] : [];
  if (start) depth[start] = 0;
  while (queue.length) {
    const id = queue.shift()!;
    for (const e of exitsOf(doc.nodes[id]!)) {
      if (e.target && doc.nodes[e.target] && depth[e.target] === undefined) {
        depth[e.target] = depth[id]! + 1;
        queue.push(e.target);
      }
    }
  }
  const rows: Record<number, number> = {};
  const out: Record<string, { x: number; y: number }> = {};
  for (const id of Object.keys(doc.nodes)) {
    const d = depth[id] ?? 0;
    const row = (rows[d] = (rows[d] ?? -1) + 1);
    const own = doc.nodes[id]!.position;
    out[id] = own ? { x: own.x, y: own.y } : { x: 40 + d * 260, y: 40 + row * 170 };
  }
  return out;
}

/** A new journey: entered through the API, one wait and an exit. */
export function blankJourney(name: string): JourneyDoc {
  return {
    name,
    title: "",
    entry: { kind: "event", event: { event: "" } },
    re_entry: { mode: "never" },
    exit: {},
    start: "wait_1",
    nodes: {
      wait_1: { kind: "wait", duration: "1d", next: "exit_1", position: { x: 40, y: 40 } },
      exit_1: { kind: "exit", reason: "done", position: { x: 300, y: 40 } },
    },
  };
}

/** A duration in seconds as the document writes it (`4h`, `1d12h`); text passes through. */
export function fmtDuration(v: unknown): string {
  if (typeof v !== "number") return String(v ?? "");
  let s = v;
  let out = "";
  for (const [unit, size] of [["w", 604800], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return out || "0s";
}

/** One line that says what a node does, for its card on the canvas. */
export function summary(node: JNode): string {
  const ev = (m: unknown) => ((m as Json | undefined)?.event as string | undefined) || "any event";
  switch (node.kind) {
    case "wait":
      return `for ${fmtDuration(node.duration)}`;
    case "wait_until":
      return `until ${String(node.at)} (${((node.weekdays as string[]) ?? []).join(", ")})`;
    case "wait_for_event":
      return `for ${ev(node.event)}, up to ${fmtDuration(node.timeout)}`;
    case "branch":
      return `${((node.branches as Json[]) ?? []).length} path(s) + otherwise`;
    case "split": {
      const vs = (node.variants as Json[]) ?? [];
      const total = vs.reduce((a, v) => a + Number(v.weight ?? 0), 0) + Number(node.holdout ?? 0);
      const pct = (w: unknown) => (total ? `${Math.round((Number(w) / total) * 100)}%` : "?");
      const parts = vs.map((v) => `${String(v.name)} ${pct(v.weight)}`);
      if (Number(node.holdout ?? 0) > 0) parts.push(`holdout ${pct(node.holdout)}`);
      return parts.join(" · ");
    }
    case "send":
      return `${String(node.template || "inline content")} via ${String(node.destination || "?")}`;
    case "update_trait":
      return `${String(node.trait || "?")} = ${node.from_property ? `entry.${String(node.from_property)}` : JSON.stringify(node.value ?? null)}`;
    case "webhook":
      return `call ${String(node.destination || "?")}`;
    case "exit":
      return `reason: ${String(node.reason ?? "exit_node")}`;
    default:
      return "";
  }
}

/** The entry in words, after "People enter when they". */
export function entryText(entry: Json): string {
  switch (entry.kind) {
    case "event":
      return `do ${((entry.event as Json | undefined)?.event as string) || "any event"}`;
    case "audience":
      return `join audience ${String(entry.audience)}`;
    case "touchpoint":
      return `reach ${String(entry.touchpoint) || "a touchpoint (choose one)"} on map ${String(entry.map) || "(choose one)"}`;
    case "schedule":
      return `are due on the schedule from ${String(entry.start)}`;
    default:
      return "are entered through the API";
  }
}
