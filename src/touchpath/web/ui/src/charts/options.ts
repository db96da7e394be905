// Pure builders of ECharts options: data in, option out, so Vitest checks what a chart shows.
import type { ChartOption } from "./EChart";
import { channelColour, PALETTE } from "./palette";

const AXIS_TEXT = { color: "#495057" };
const GRID = { left: 8, right: 16, top: 24, bottom: 8, containLabel: true };

export const fmtInt = (n: number) => n.toLocaleString("en-US");

/** Horizontal bars, largest first, e.g. events by channel. */
export function barsOption(
  rows: { label: string; value: number }[],
  opts: { colourByChannel?: boolean } = {},
): ChartOption {
  const sorted = [...rows].sort((a, b) => b.value - a.value);
  return {
    grid: GRID,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", axisLabel: AXIS_TEXT },
    yAxis: {
      type: "category",
      inverse: true,
      data: sorted.map((r) => r.label),
      axisLabel: AXIS_TEXT,
    },
    series: [
      {
        type: "bar",
        data: sorted.map((r, i) => ({
          value: r.value,
          itemStyle: { color: opts.colourByChannel ? channelColour(r.label, i) : PALETTE[0] },
        })),
        label: { show: true, position: "right", formatter: (p: { value: number }) => fmtInt(p.value) },
      },
    ],
  };
}

export interface TrendSeries {
  name: string;
  points: { t: string; value: number }[];
}

/** Lines over time, one per series, on a shared time axis. */
export function trendOption(
  series: TrendSeries[],
  opts: { stacked?: boolean; bars?: boolean } = {},
): ChartOption {
  return {
    grid: { ...GRID, top: series.length > 1 ? 40 : 24 },
    tooltip: { trigger: "axis" },
    legend: series.length > 1 ? { top: 0, type: "scroll" } : undefined,
    xAxis: { type: "time", axisLabel: AXIS_TEXT },
    yAxis: { type: "value", axisLabel: AXIS_TEXT, minInterval: 1 },
    series: series.map((s, i) => ({
      name: s.name,
      type: opts.bars ? "bar" : "line",
      showSymbol: s.points.length < 40,
      stack: opts.stacked ? "total" : undefined,
      areaStyle: opts.stacked && !opts.bars ? {} : undefined,
      color: PALETTE[i % PALETTE.length],
      data: s.points.map((p) => [p.t, p.value]),
    })),
  };
}

/** The 24 hours of one day as bars (00-23, empty hours at zero), so one busy hour is one
 * narrow bar rather than a block stretched across the axis. `hours` are ISO times (UTC). */
export function hoursOption(hours: { hour: string; count: number }[]): ChartOption {
  const counts = new Array<number>(24).fill(0);
  for (const h of hours) counts[new Date(h.hour).getUTCHours()]! += h.count;
  return {
    grid: GRID,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: {
      type: "category",
      data: counts.map((_, i) => `${String(i).padStart(2, "0")}:00`),
      axisLabel: { ...AXIS_TEXT, interval: 2 },
    },
    yAxis: { type: "value", axisLabel: AXIS_TEXT, minInterval: 1 },
    series: [{ name: "events", type: "bar", color: PALETTE[0], data: counts }],
  };
}
