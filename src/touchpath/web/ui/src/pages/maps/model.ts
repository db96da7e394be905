// Pure helpers of the journey map pages (Vitest checks them): which events a map names that the
// store has never seen, the emotion curve, and the differences table of a comparison.
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";

export type BoundMap = Schemas["BoundMap"];
export type MapDocument = Schemas["JourneyMap-Output"];

/** Event names a map's touchpoints and goal use that no event in the store has. */
export function missingEvents(doc: MapDocument, known: Set<string>): string[] {
  const used = new Set<string>();
  for (const s of doc.stages ?? []) for (const t of s.touchpoints ?? []) used.add(t.match.event);
  if (doc.goal) used.add(doc.goal.event);
  return [...used].filter((e) => !known.has(e)).sort();
}

export const STAGE_TYPES: Record<string, string> = {
  current_state: "Current state",
  future_state: "Future state",
  day_in_the_life: "Day in the life",
  blueprint: "Service blueprint",
};

/** The emotion curve: one point per touchpoint in map order (null where there is none). */
export function emotionOption(bound: BoundMap): ChartOption {
  const points = bound.stages.flatMap((s) =>
    (s.touchpoints ?? []).map((t) => ({ stage: s.title, name: t.name, emotion: t.emotion ?? null, source: t.emotion_source })),
  );
  return {
    grid: { left: 40, right: 16, top: 12, bottom: 28 },
    tooltip: {
      trigger: "axis",
      valueFormatter: (v: number | null) => (v == null ? "no data" : v.toFixed(2)),
    },
    xAxis: { type: "category", data: points.map((p) => p.name), axisLabel: { interval: 0, fontSize: 10, rotate: points.length > 10 ? 30 : 0 } },
    yAxis: { type: "value", min: -1, max: 1, splitNumber: 2, axisLabel: { formatter: (v: number) => (v > 0 ? "😊" : v < 0 ? "☹" : "😐") } },
    visualMap: { show: false, dimension: 1, pieces: [{ lt: -0.15, color: "#c92a2a" }, { gte: -0.15, lte: 0.15, color: "#868e96" }, { gt: 0.15, color: "#2b8a3e" }] },
    series: [
      {
        type: "line",
        connectNulls: true,
        smooth: true,
        symbolSize: 9,
        data: points.map((p) => p.emotion),
        markLine: { silent: true, symbol: "none", data: [{ yAxis: 0 }], lineStyle: { color: "#ced4da" } },
      },
    ],
  };
}

/** A share as `62%`, or a dash. */
export function pct(v: number | null | undefined): string {
  return v == null ? "–" : `${Math.round(v * 100)}%`;
}

/** Hours as `3 h` / `2.5 d`. */
export function hours(h: number | null | undefined): string {
  if (h == null) return "–";
  if (h < 1) return `${Math.round(h * 60)} min`;
  if (h < 48) return `${h < 10 ? h.toFixed(1) : Math.round(h)} h`;
  return `${(h / 24).toFixed(1)} d`;
}

/** `name` or `name@3` (a version) in compare addresses. */
export function parseRef(ref: string): { name: string; version: number | null } {
  const m = ref.match(/^(.*)@(\d+)$/);
  return m ? { name: m[1]!, version: Number(m[2]) } : { name: ref, version: null };
}

/** What the map page says about how current the numbers are: "Numbers as of 14:32:05 UTC",
 * how long ago (from `now`), and whether newer events wait for the next background bind (map
 * numbers are analytics, re-bound on a CPU budget: docs/maps.md). */
export function freshnessLine(bound: BoundMap, now: Date): { asOf: string; age: string; state: string; stale: boolean } {
  const f = bound.freshness;
  const iso = f?.numbers_as_of ?? bound.as_of ?? bound.bound_at;
  const clock = (s: string) => s.match(/T(\d{2}:\d{2}:\d{2})/)?.[1] ?? s;
  const day = iso.slice(0, 10);
  const today = now.toISOString().slice(0, 10);
  const secs = Math.max(0, (now.getTime() - Date.parse(iso.endsWith("Z") || /[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`)) / 1000);
  const age = secs < 90 ? `${Math.round(secs)} s ago` : secs < 5400 ? `${Math.round(secs / 60)} min ago` : `${(secs / 3600).toFixed(1)} h ago`;
  const stale = f != null && !f.fresh;
  let state = "up to date with the events";
  if (stale) {
    state = f.next_refresh ? `newer events arrived; next refresh from ${clock(f.next_refresh)} UTC` : "newer events arrived; a refresh is under way";
  } else if (f == null) state = "";
  return { asOf: `${clock(iso)} UTC${day === today ? "" : ` on ${day}`}`, age, state, stale };
}
