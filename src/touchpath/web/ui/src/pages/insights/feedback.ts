// Feedback's state in the URL, its spec and its chart (pure; Vitest checks them).
import type { Schemas } from "../../api/client";
import type { ChartOption } from "../../charts/EChart";

export type FeedbackResult = Schemas["FeedbackResult"];
export type FeedbackRow = Schemas["FeedbackRow"];

export interface FeedbackState {
  /** The survey property naming the touchpoint a response is about. */
  property: string;
  phrases: number;
}

export function readFeedback(p: URLSearchParams): FeedbackState {
  const n = Number(p.get("phrases") ?? 5);
  return {
    property: p.get("touchpoint") ?? "touchpoint",
    phrases: Number.isFinite(n) ? Math.min(20, Math.max(0, Math.round(n))) : 5,
  };
}

export function writeFeedback(s: FeedbackState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.property !== "touchpoint") p.set("touchpoint", s.property);
  if (s.phrases !== 5) p.set("phrases", String(s.phrases));
  return p;
}

export function feedbackSpec(s: FeedbackState) {
  return { kind: "feedback" as const, touchpoint_property: s.property.trim() || null, phrases: s.phrases };
}

/** NPS (-100..100) and CSAT (% satisfied) per touchpoint, on one points axis; a touchpoint
 * without a score has no bar. Touchpoints by their number of responses. */
export function feedbackOption(r: FeedbackResult): ChartOption {
  const rows = [...r.touchpoints].sort((a, b) => b.responses - a.responses);
  const bar = (v: number | null | undefined) => (v == null ? null : Math.round(v * 10) / 10);
  return {
    grid: { left: 8, right: 40, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    xAxis: { type: "value", min: -100, max: 100, axisLabel: { color: "#495057" } },
    yAxis: { type: "category", inverse: true, data: rows.map((x) => x.name), axisLabel: { color: "#495057" } },
    series: [
      {
        name: "NPS",
        type: "bar",
        color: "#3b5bdb",
        data: rows.map((x) => bar(x.nps)),
        label: { show: true, position: "right", formatter: (p: { value: number | null }) => (p.value == null ? "" : String(Math.round(p.value))) },
      },
      {
        name: "CSAT (% satisfied)",
        type: "bar",
        color: "#2b8a3e",
        data: rows.map((x) => bar(x.csat)),
        label: { show: true, position: "right", formatter: (p: { value: number | null }) => (p.value == null ? "" : `${Math.round(p.value)}%`) },
      },
    ],
  };
}

/** A sentiment score -1..1 as a signed number with a word. */
export function fmtSentiment(v: number | null | undefined): string {
  if (v == null) return "–";
  const word = v > 0.2 ? "positive" : v < -0.2 ? "negative" : "neutral";
  return `${v > 0 ? "+" : ""}${v.toFixed(2)} ${word}`;
}
