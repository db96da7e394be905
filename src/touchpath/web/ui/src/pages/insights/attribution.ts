// Attribution's state in the URL, its spec and the models side by side (pure; Vitest checks).
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { PALETTE } from "../../charts/palette";

export type AttributionResult = Schemas["AttributionResult"];
export type Metric = "conversions" | "revenue";

export const MODEL_LABELS: Record<string, string> = {
  first_touch: "First touch",
  last_touch: "Last touch",
  linear: "Linear",
  time_decay: "Time decay",
  position_based: "Position-based",
  markov: "Data-driven (Markov)",
};

export interface AttributionState {
  conversion: string;
  by: "channel" | "touchpoint";
  touch: "session" | "event";
  lookback: number;
  metric: Metric;
}

export function readAttribution(p: URLSearchParams): AttributionState {
  const days = Number(p.get("lookback") ?? 30);
  return {
    conversion: p.get("conversion") || "Order Completed",
    by: p.get("by") === "touchpoint" ? "touchpoint" : "channel",
    touch: p.get("touch") === "event" ? "event" : "session",
    lookback: Number.isFinite(days) ? Math.min(365, Math.max(1, Math.round(days))) : 30,
    metric: p.get("metric") === "revenue" ? "revenue" : "conversions",
  };
}

export function writeAttribution(s: AttributionState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.conversion !== "Order Completed") p.set("conversion", s.conversion);
  if (s.by !== "channel") p.set("by", s.by);
  if (s.touch !== "session") p.set("touch", s.touch);
  if (s.lookback !== 30) p.set("lookback", String(s.lookback));
  if (s.metric !== "conversions") p.set("metric", s.metric);
  return p;
}

export function attributionSpec(s: AttributionState) {
  return {
    kind: "attribution" as const,
    conversion: { event: s.conversion },
    by: s.by,
    touch: s.touch,
    lookback: `${s.lookback}d`,
  };
}

/** Rows by their linear credit, largest first (the neutral model orders the comparison). */
export function sortedRows(r: AttributionResult) {
  const key = r.models.includes("linear") ? "linear" : r.models[0]!;
  return [...r.rows].sort((a, b) => (b.credit[key]?.conversions ?? 0) - (a.credit[key]?.conversions ?? 0));
}

/** Grouped bars: one group per channel or touchpoint, one bar per model. */
export function attributionOption(r: AttributionResult, metric: Metric): ChartOption {
  const rows = sortedRows(r);
  const fmt = (v: number) => (metric === "revenue" ? fmtInt(Math.round(v)) : v.toFixed(1));
  return {
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    legend: { top: 0, type: "scroll" },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v: number) => fmt(v) },
    xAxis: { type: "category", data: rows.map((x) => x.key), axisLabel: { interval: 0, color: "#495057", rotate: rows.length > 8 ? 30 : 0 } },
    yAxis: { type: "value", axisLabel: { color: "#495057" } },
    series: r.models.map((m, i) => ({
      name: MODEL_LABELS[m] ?? m,
      type: "bar",
      color: PALETTE[i % PALETTE.length],
      data: rows.map((x) => Number((x.credit[m]?.[metric] ?? 0).toFixed(2))),
    })),
  };
}
