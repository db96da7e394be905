// Process discovery's state in the URL, its specs (dfg and variants share the scope) and the
// directly-follows graph as an ECharts graph laid out left to right (pure; Vitest checks them).
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { fmtDuration } from "../../format";

export type DfgResult = Schemas["DfgResult"];
export type View = "frequency" | "time";

export interface DiscoveryState {
  view: View;
  case: "profile" | "session";
  /** Show the K busiest transitions. */
  top: number;
  /** Drop transitions taken fewer times. */
  min: number;
  exclude: string[];
  collapse: boolean;
}

const int = (v: string | null, dflt: number, lo: number, hi: number) => {
  const n = Number(v ?? dflt);
  return Number.isFinite(n) && v !== "" ? Math.min(hi, Math.max(lo, Math.round(n))) : dflt;
};

export function readDiscovery(p: URLSearchParams): DiscoveryState {
  return {
    view: p.get("view") === "time" ? "time" : "frequency",
    case: p.get("case") === "profile" ? "profile" : "session",
    top: int(p.get("top"), 25, 1, 200),
    min: int(p.get("min"), 1, 1, 1_000_000),
    exclude: p.getAll("x").filter(Boolean),
    collapse: p.get("collapse") === "1",
  };
}

export function writeDiscovery(s: DiscoveryState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.view !== "frequency") p.set("view", s.view);
  if (s.case !== "session") p.set("case", s.case);
  if (s.top !== 25) p.set("top", String(s.top));
  if (s.min !== 1) p.set("min", String(s.min));
  s.exclude.filter(Boolean).forEach((x) => p.append("x", x));
  if (s.collapse) p.set("collapse", "1");
  return p;
}

function scope(s: DiscoveryState) {
  return {
    case: s.case,
    exclude: s.exclude.filter(Boolean),
    ...(s.collapse ? { collapse_repeats: true } : {}),
  };
}

export function dfgSpec(s: DiscoveryState) {
  return { kind: "dfg" as const, ...scope(s), top_k: s.top, min_frequency: s.min };
}

export function variantsSpec(s: DiscoveryState) {
  return { kind: "variants" as const, ...scope(s), limit: 15 };
}

export const START = "▶ start";
export const END = "■ end";

export interface Arrow {
  source: string;
  target: string;
  frequency: number;
  time: number | null;
}

/** What the graph draws: the activities on a kept transition (not counting repeats in a row),
 * the kept transitions, and the arrows from the start and to the end that are at least as busy
 * as the least busy kept transition (so the threshold prunes them too). */
export function visible(r: DfgResult): { nodes: DfgResult["nodes"]; arrows: Arrow[]; loops: Map<string, number> } {
  const kept = r.edges.filter((e) => e.source !== e.target);
  const names = new Set(kept.flatMap((e) => [e.source, e.target]));
  const nodes = r.nodes.filter((n) => names.has(n.activity)).sort((a, b) => b.frequency - a.frequency);
  const floor = Math.min(...kept.map((e) => e.frequency));
  const arrows: Arrow[] = [
    ...nodes.filter((n) => n.starts >= floor).map((n) => ({ source: START, target: n.activity, frequency: n.starts, time: null })),
    ...kept.map((e) => ({ source: e.source, target: e.target, frequency: e.frequency, time: e.median_seconds as number | null })),
    ...nodes.filter((n) => n.ends >= floor).map((n) => ({ source: n.activity, target: END, frequency: n.ends, time: null })),
  ];
  const loops = new Map(r.edges.filter((e) => e.source === e.target).map((e) => [e.source, e.frequency]));
  return { nodes, arrows, loops };
}

/** Each activity's column: its shortest distance from the start over the drawn arrows (busiest
 * first), so the graph reads left to right as journeys do; the end is right of all. */
export function layers(arrows: Arrow[], nodes: string[]): Map<string, number> {
  const out = new Map<string, number>([[START, 0]]);
  const next = new Map<string, string[]>();
  for (const e of [...arrows].sort((a, b) => b.frequency - a.frequency)) {
    if (e.target !== END) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  }
  let frontier = [START];
  while (frontier.length) {
    const after: string[] = [];
    for (const a of frontier) {
      for (const t of next.get(a) ?? []) {
        if (!out.has(t)) {
          out.set(t, out.get(a)! + 1);
          after.push(t);
        }
      }
    }
    frontier = after;
  }
  for (const n of nodes) if (!out.has(n)) out.set(n, 1);
  out.set(END, Math.max(...out.values()) + 1);
  return out;
}

/** The share `x` of the way between the fastest and the slowest median (log scale), as a colour
 * from green to red. */
function timeColour(seconds: number, lo: number, hi: number): string {
  const f = hi > lo ? (Math.log1p(seconds) - Math.log1p(lo)) / (Math.log1p(hi) - Math.log1p(lo)) : 0;
  const mix = (a: number, b: number) => Math.round(a + (b - a) * Math.min(1, Math.max(0, f)));
  return `rgb(${mix(47, 224)}, ${mix(158, 49)}, ${mix(68, 49)})`;
}

/** The graph: a start and an end node, one box per activity (its count), one arrow per
 * transition, as wide as it is frequent, labelled with its count or its median time. */
export function dfgOption(r: DfgResult, view: View): ChartOption {
  const { nodes, arrows: links, loops } = visible(r);
  const col = layers(links, nodes.map((n) => n.activity));
  const rows = new Map<number, number>();
  const pos = new Map<string, [number, number]>();
  for (const a of [START, ...nodes.map((n) => n.activity), END]) {
    const c = col.get(a)!;
    const row = rows.get(c) ?? 0;
    rows.set(c, row + 1);
    pos.set(a, [c * 260, row * 70]);
  }
  const middle = (a: string) => ((rows.get(col.get(a)!) ?? 1) - 1) * 35;
  const top = Math.max(...[...rows.values()].map((n) => (n - 1) * 35));
  for (const [a, [x, y]] of pos) pos.set(a, [x, y - middle(a) + top]);
  const maxF = Math.max(1, ...links.map((e) => e.frequency));
  const medians = links.flatMap((e) => (e.time == null ? [] : [e.time]));
  const [lo, hi] = [Math.min(...medians, 0), Math.max(...medians, 1)];
  const width = (f: number) => 1 + 9 * Math.sqrt(f / maxF);
  const labelled = new Set([...links].sort((a, b) => b.frequency - a.frequency).slice(0, 14));
  const box = (a: string) => [Math.max(90, 7.2 * a.length + 24), 40];
  return {
    tooltip: { trigger: "item", confine: true },
    series: [
      {
        type: "graph",
        layout: "none",
        roam: true,
        nodeScaleRatio: 1,
        top: 40,
        bottom: 40,
        left: 100,
        right: 100,
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: 9,
        data: [START, ...nodes.map((n) => n.activity), END].map((a) => {
          const n = nodes.find((x) => x.activity === a);
          const [x, y] = pos.get(a)!;
          const loop = loops.get(a);
          return {
            name: a,
            x,
            y,
            symbol: n ? "roundRect" : "circle",
            symbolSize: n ? box(a) : 18,
            itemStyle: n ? { color: "#edf2ff", borderColor: "#3b5bdb", borderWidth: 1 } : { color: "#495057" },
            label: {
              show: true,
              position: n ? "inside" : "top",
              color: "#1f2430",
              fontSize: 11,
              lineHeight: 15,
              formatter: n ? `{b|${a}}\n${fmtInt(n.frequency)}${loop ? ` · ↻${fmtInt(loop)}` : ""}` : a,
              rich: { b: { fontWeight: "bold", fontSize: 11, lineHeight: 15 } },
            },
            tooltip: {
              formatter: n
                ? `${a}<br/>${fmtInt(n.frequency)} times in ${fmtInt(n.cases)} journeys<br/>started ${fmtInt(n.starts)}, ended ${fmtInt(n.ends)}${loop ? `<br/>repeated in a row ${fmtInt(loop)} times` : ""}`
                : a,
            },
          };
        }),
        links: links.map((l) => {
          const back = (col.get(l.target) ?? 0) <= (col.get(l.source) ?? 0);
          const text = view === "time" ? (l.time == null ? "" : fmtDuration(l.time)) : fmtInt(l.frequency);
          return {
            source: l.source,
            target: l.target,
            value: l.frequency,
            lineStyle: {
              width: width(l.frequency),
              color: view === "time" && l.time != null ? timeColour(l.time, lo, hi) : "#868e96",
              opacity: l.time == null ? 0.35 : 0.75,
              curveness: back ? 0.35 : 0.08,
            },
            label: { show: text !== "" && labelled.has(l), formatter: text, fontSize: 10, color: "#343a40" },
            tooltip: {
              formatter: `${l.source} → ${l.target}<br/>${fmtInt(l.frequency)} times${l.time == null ? "" : `<br/>median ${fmtDuration(l.time)}`}`,
            },
          };
        }),
      },
    ],
  };
}

/** The chart's size at one pixel per unit of the layout (columns 260 apart, rows 70), so
 * boxes never overlap; the page scrolls it sideways when it is wider than the screen. */
export function dfgSize(r: DfgResult): { width: number; height: number } {
  const { nodes, arrows } = visible(r);
  const counts = new Map<number, number>();
  for (const c of layers(arrows, nodes.map((n) => n.activity)).values()) counts.set(c, (counts.get(c) ?? 0) + 1);
  return { width: 260 * (counts.size - 1) + 200, height: 70 * (Math.max(...counts.values()) - 1) + 80 };
}
