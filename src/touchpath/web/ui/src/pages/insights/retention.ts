// The retention insight's state in the URL and its cohort heatmap (pure; Vitest checks them).
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";

export type RetentionResult = Schemas["RetentionResult"];
export type Period = "day" | "week" | "month";

export interface RetentionState {
  cohort: string;
  back: string;
  period: Period;
  periods: number;
}

export function readRetention(p: URLSearchParams): RetentionState {
  const period = p.get("period");
  const n = Number(p.get("periods") ?? 8);
  return {
    cohort: p.get("cohort") ?? "",
    back: p.get("return") ?? "",
    period: period === "day" || period === "month" ? period : "week",
    periods: Number.isFinite(n) ? Math.min(120, Math.max(1, n)) : 8,
  };
}

export function writeRetention(s: RetentionState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.cohort) p.set("cohort", s.cohort);
  if (s.back) p.set("return", s.back);
  if (s.period !== "week") p.set("period", s.period);
  if (s.periods !== 8) p.set("periods", String(s.periods));
  return p;
}

export function retentionSpec(s: RetentionState) {
  return {
    cohort_event: s.cohort ? { event: s.cohort } : {},
    return_event: s.back ? { event: s.back } : null,
    period: s.period,
    periods: s.periods,
  };
}

/** Cohorts as rows, periods as columns, each cell the share retained (empty while not begun). */
export function heatmapOption(r: RetentionResult): ChartOption {
  const rows = r.cohorts.map((c) => `${c.cohort} (${c.size})`);
  const cols = Array.from({ length: Math.max(0, ...r.cohorts.map((c) => c.rates.length)) }, (_, k) => `${r.period} ${k}`);
  const data: [number, number, number][] = [];
  r.cohorts.forEach((c, y) =>
    c.rates.forEach((rate, x) => {
      if (rate != null) data.push([x, y, Math.round(rate * 1000) / 10]);
    }),
  );
  return {
    tooltip: { position: "top", formatter: (p: { value: [number, number, number] }) => `${rows[p.value[1]]}, ${cols[p.value[0]]}: ${p.value[2]}%` },
    grid: { left: 8, right: 16, top: 8, bottom: 40, containLabel: true },
    xAxis: { type: "category", data: cols, splitArea: { show: true } },
    yAxis: { type: "category", data: rows, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: 100, calculable: false, orient: "horizontal", left: "center", bottom: 0, inRange: { color: ["#f1f3f5", "#3b5bdb"] } },
    series: [{ type: "heatmap", data, label: { show: cols.length <= 16, formatter: (p: { value: number[] }) => `${p.value[2]}%` } }],
  };
}

/** The headline figures: people in the cohorts and the share of them back one period later
 * (over the cohorts that have had that period; null where none has). */
export function retentionFigures(r: RetentionResult): { people: number; first: number | null } {
  return { people: r.cohorts.reduce((n, c) => n + c.size, 0), first: r.groups[0]?.curve[1] ?? null };
}
