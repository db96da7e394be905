// The paths insight's state in the URL and its Sankey (pure; Vitest checks them).
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";
import { PALETTE } from "../../charts/palette";

export type PathsResult = Schemas["PathsResult"];

export interface PathsState {
  anchor: string;
  direction: "from" | "to";
  steps: number;
  collapse: boolean;
}

export function readPaths(p: URLSearchParams): PathsState {
  const steps = Number(p.get("steps") ?? 5);
  return {
    anchor: p.get("event") ?? "",
    direction: p.get("dir") === "to" ? "to" : "from",
    steps: Number.isFinite(steps) ? Math.min(20, Math.max(2, steps)) : 5,
    collapse: p.get("collapse") === "1",
  };
}

export function writePaths(s: PathsState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.anchor) p.set("event", s.anchor);
  if (s.direction === "to") p.set("dir", "to");
  if (s.steps !== 5) p.set("steps", String(s.steps));
  if (s.collapse) p.set("collapse", "1");
  return p;
}

export function pathsSpec(s: PathsState) {
  const anchor = s.anchor ? { event: s.anchor } : null;
  return {
    start: s.direction === "from" ? anchor : null,
    end: s.direction === "to" ? anchor : null,
    steps: s.steps,
    collapse_repeats: s.collapse,
    top_edges: 60,
  };
}

/** A Sankey of the nodes (one per step and event) and the weighted edges between them. */
export function sankeyOption(r: PathsResult): ChartOption {
  const names = [...new Set(r.nodes.map((n) => n.name))];
  const colour = (name: string) => PALETTE[names.indexOf(name) % PALETTE.length];
  return {
    tooltip: { trigger: "item" },
    series: [
      {
        type: "sankey",
        nodeAlign: "left",
        emphasis: { focus: "adjacency" },
        data: r.nodes.map((n) => ({ name: n.id, value: n.count, itemStyle: { color: colour(n.name) } })),
        links: r.edges.map((e) => ({ source: e.source, target: e.target, value: e.weight })),
        label: { formatter: (p: { name: string }) => r.nodes.find((n) => n.id === p.name)?.name ?? p.name, fontSize: 11 },
        lineStyle: { color: "gradient", opacity: 0.35 },
      },
    ],
  };
}
