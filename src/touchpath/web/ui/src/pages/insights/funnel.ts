// The funnel insight's state in the URL, the spec it sends, and its chart (pure; Vitest checks).
import type { Schemas } from "../../api/client";
import type { paths } from "../../api/schema";

type FunnelBody = paths["/api/analyses/funnel"]["post"]["requestBody"]["content"]["application/json"];
type BreakdownSpec = NonNullable<FunnelBody["breakdown"]>;
import type { ChartOption } from "../../charts/EChart";
import { PALETTE } from "../../charts/palette";

export type FunnelResult = Schemas["FunnelResult"];
export type Order = "ordered" | "strict" | "any";
export type BreakdownBy = "" | "channel" | "first_touch_channel" | "event_property" | "profile_property";

export interface FunnelState {
  steps: string[];
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
  return {
    steps: steps.length ? steps : ["", ""],
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
    steps: f.steps.map((event) => ({ event })),
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
