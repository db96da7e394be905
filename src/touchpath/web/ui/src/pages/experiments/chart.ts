// The lift of each arm against control over time, with its interval as a band: a pure builder
// of the ECharts option (tested by Vitest).
import type { ChartOption } from "../../charts/EChart";
import { PALETTE } from "../../charts/palette";

export interface LiftPoint {
  day: string;
  arm: string;
  lift: number | null;
  lift_ci: [number, number] | null;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function liftOption(points: LiftPoint[]): ChartOption {
  const days = [...new Set(points.map((p) => p.day.slice(0, 10)))].sort();
  const arms = [...new Set(points.map((p) => p.arm))];
  const at = (arm: string, day: string) => points.find((p) => p.arm === arm && p.day.slice(0, 10) === day);
  // Early days have very wide intervals: the axis follows the lifts, and bands are cut at it.
  const maxLift = Math.max(0, ...points.map((p) => Math.abs(p.lift ?? 0)));
  const cap = Math.ceil(Math.max(0.5, 2.5 * maxLift) * 2) / 2;
  const clip = (v: number) => Math.min(cap, Math.max(-Math.min(1, cap), v));
  const series: unknown[] = [];
  arms.forEach((arm, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const lows = days.map((d) => {
      const ci = at(arm, d)?.lift_ci;
      return ci ? clip(ci[0]) : null;
    });
    const widths = days.map((d) => {
      const ci = at(arm, d)?.lift_ci;
      return ci ? clip(ci[1]) - clip(ci[0]) : null;
    });
    series.push(
      { name: `${arm} low`, type: "line", data: lows, stack: `band-${arm}`, lineStyle: { opacity: 0 }, symbol: "none", silent: true, tooltip: { show: false } },
      { name: `${arm} interval`, type: "line", data: widths, stack: `band-${arm}`, lineStyle: { opacity: 0 }, symbol: "none", areaStyle: { color: colour, opacity: 0.15 }, silent: true, tooltip: { show: false } },
      { name: arm, type: "line", data: days.map((d) => at(arm, d)?.lift ?? null), itemStyle: { color: colour }, lineStyle: { width: 2 }, symbolSize: 5, connectNulls: true },
    );
  });
  series.push({ name: "no change", type: "line", data: days.map(() => 0), lineStyle: { color: "#868e96", type: "dashed", width: 1 }, symbol: "none", silent: true, tooltip: { show: false } });
  return {
    grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
    legend: { data: arms, top: 0 },
    tooltip: {
      trigger: "axis",
      formatter: (items: { seriesName: string; dataIndex: number; value: number | null }[]) => {
        const day = days[items[0]?.dataIndex ?? 0] ?? "";
        const lines = arms.map((arm) => {
          const p = at(arm, day);
          if (!p || p.lift == null) return `${arm}: not enough people yet`;
          return `${arm}: ${pct(p.lift)}${p.lift_ci ? ` (${pct(p.lift_ci[0])} to ${pct(p.lift_ci[1])})` : ""}`;
        });
        return [day, ...lines].join("<br/>");
      },
    },
    xAxis: { type: "category", data: days, axisLabel: { color: "#495057" } },
    yAxis: { type: "value", min: -Math.min(1, cap), max: cap, axisLabel: { color: "#495057", formatter: pct } },
    series,
  };
}
