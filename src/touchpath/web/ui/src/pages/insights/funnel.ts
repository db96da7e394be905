// The funnel insight's state in the URL, the spec it sends, and its chart (pure; Vitest checks).
import type { Schemas } from "../../api/client";
import type { paths } from "../../api/schema";

type FunnelBody = paths["/api/analyses/funnel"]["post"]["requestBody"]["content"]["application/json"];
type BreakdownSpec = NonNullable<FunnelBody["breakdown"]>;
import type { ChartOption } from "../../charts/EChart";
import { type Cond, condValue, parseCond } from "../events/filters";
import { PALETTE } from "../../charts/palette";

export type FunnelResult = Schemas["FunnelResult"];
export type Order = "ordered" | "strict" | "any";
export type BreakdownBy = "" | "channel" | "first_touch_channel" | "event_property" | "profile_property";

export interface FunnelState {
  steps: string[];
  /** Each step's property conditions (all must hold), by step. */
  where: Cond[][];
  window: string;
  order: Order;
  breakdown: BreakdownBy;
  property: string;
  exclude: string[];
  trend: "" | "day" | "week";
}

export const WINDOWS = ["1h", "1d", "7d", "14d", "30d", "90d"];

export function readFunnel(p: URLSearchParams): FunnelState {
  const steps = p.getAll("s");
  const order = p.get("order");
  const trend = p.get("trend");
  const n = steps.length ? steps.length : 2;
  const where: Cond[][] = Array.from({ length: n }, () => []);
  for (const w of p.getAll("w")) {
    // `2:revenue:gt:50`: step 2's condition revenue > 50.
    const at = w.indexOf(":");
    const i = Number(w.slice(0, at)) - 1;
    const c = parseCond(w.slice(at + 1));
    if (at > 0 && c && i >= 0 && i < n) where[i]!.push(c);
  }
  return {
    steps: steps.length ? steps : ["", ""],
    where,
    window: WINDOWS.includes(p.get("window") ?? "") ? p.get("window")! : "14d",
    order: order === "strict" || order === "any" ? order : "ordered",
    breakdown: (p.get("by") as BreakdownBy) ?? "",
    property: p.get("prop") ?? "",
    exclude: p.getAll("x"),
    trend: trend === "day" || trend === "week" ? trend : "",
  };
}

export function writeFunnel(f: FunnelState): URLSearchParams {
  const p = new URLSearchParams();
  f.steps.forEach((s) => p.append("s", s));
  f.where.forEach((cs, i) => cs.forEach((c) => p.append("w", `${i + 1}:${c.property}:${c.op}:${c.value}`)));
  if (f.window !== "14d") p.set("window", f.window);
  if (f.order !== "ordered") p.set("order", f.order);
  if (f.breakdown) p.set("by", f.breakdown);
  if (f.property) p.set("prop", f.property);
  f.exclude.forEach((x) => p.append("x", x));
  if (f.trend) p.set("trend", f.trend);
  return p;
}

export function ready(f: FunnelState): boolean {
  return f.steps.length >= 2 && f.steps.every((s) => s.trim().length > 0);
}

/** The funnel spec (analytics' FunnelSpec) for this state. */
export function funnelSpec(f: FunnelState, droppedAt?: number): FunnelBody {
  const needsProperty = f.breakdown === "event_property" || f.breakdown === "profile_property";
  return {
    steps: f.steps.map((event, i) => {
      const where = (f.where[i] ?? []).filter((c) => c.property).map((c) => ({ property: c.property, op: c.op, value: condValue(c) }));
      return where.length ? { event, where } : { event };
    }),
    window: f.window,
    order: f.order,
    ...(f.breakdown && (!needsProperty || f.property)
      ? { breakdown: { by: f.breakdown as BreakdownSpec["by"], ...(needsProperty ? { property: f.property } : {}) } }
      : {}),
    ...(f.exclude.filter(Boolean).length ? { exclusions: f.exclude.filter(Boolean).map((event) => ({ event })) } : {}),
    ...(f.trend ? { trend: f.trend } : {}),
    ...(droppedAt ? { dropped_at: droppedAt } : {}),
  };
}

/** Bars per step: everyone, or one series per breakdown group (the first group is everyone). */
export function funnelOption(r: FunnelResult): ChartOption {
  const groups = r.groups.length > 1 ? r.groups.slice(1) : r.groups;
  return {
    grid: { left: 8, right: 16, top: groups.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
    legend: groups.length > 1 ? { top: 0, type: "scroll" } : undefined,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: r.steps, axisLabel: { interval: 0, color: "#495057" } },
    yAxis: { type: "value", axisLabel: { color: "#495057" } },
    series: groups.map((g, i) => ({
      name: g.value ?? "everyone",
      type: "bar",
      color: PALETTE[i % PALETTE.length],
      data: g.steps.map((s) => s.count),
      label: {
        show: groups.length === 1,
        position: "top",
        formatter: (p: { dataIndex: number }) => `${Math.round((g.steps[p.dataIndex]?.conversion ?? 0) * 100)}%`,
      },
    })),
  };
}

/** How long converters took from the first step to the last, as bars per bucket (< 1 min, 1-5
 * min, ..., 30 d and more); null when nobody converted. */
export function timeToConvertOption(r: FunnelResult): ChartOption | null {
  const last = r.groups[0]?.steps.at(-1)?.time_from_start;
  if (!last || !Object.values(last.histogram).some((n) => n > 0)) return null;
  const buckets = Object.entries(last.histogram);
  return {
    grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "category", data: buckets.map(([b]) => b), axisLabel: { interval: 0, color: "#495057" } },
    yAxis: { type: "value", minInterval: 1, axisLabel: { color: "#495057" } },
    series: [{ type: "bar", name: "people", color: PALETTE[2], data: buckets.map(([, n]) => n), label: { show: true, position: "top" } }],
  };
}
