// A saved insight of any kind as a tile: its chart, a one-line summary and the address of the
// page that edits it (pure; Vitest checks them).
import type { ChartOption } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { fmtPct } from "../../format";
import { attributionOption, type AttributionResult } from "../insights/attribution";
import { type DfgResult, dfgOption } from "../insights/discovery";
import { feedbackOption, type FeedbackResult } from "../insights/feedback";
import { funnelOption, type FunnelResult } from "../insights/funnel";
import { type PathsResult, sankeyOption } from "../insights/paths";
import { heatmapOption, type RetentionResult } from "../insights/retention";

type Spec = { kind: string } & Record<string, unknown>;
type Result = { kind: string } & Record<string, unknown>;

export const KIND_LABELS: Record<string, string> = {
  funnel: "Funnel",
  paths: "Paths",
  retention: "Retention",
  dfg: "Process discovery",
  variants: "Variants",
  conformance: "Conformance",
  attribution: "Attribution",
  feedback: "Feedback",
  experiment: "Experiment",
};

/** The chart of a result, or null for a kind shown as text only. */
export function tileChart(r: Result): ChartOption | null {
  switch (r.kind) {
    case "funnel":
      return funnelOption(r as unknown as FunnelResult);
    case "paths":
      return sankeyOption(r as unknown as PathsResult);
    case "retention":
      return heatmapOption(r as unknown as RetentionResult);
    case "dfg":
      return dfgOption(r as unknown as DfgResult, "frequency");
    case "attribution":
      return attributionOption(r as unknown as AttributionResult, "conversions");
    case "feedback":
      return feedbackOption(r as unknown as FeedbackResult);
    default:
      return null;
  }
}

/** What the result says in one line. */
export function tileSummary(r: Result): string {
  switch (r.kind) {
    case "funnel": {
      const f = r as unknown as FunnelResult;
      const g = f.groups[0];
      return g ? `${fmtInt(g.entered)} entered ${f.steps[0]}, ${fmtInt(g.converted)} reached ${f.steps.at(-1)} (${fmtPct(g.conversion)})` : "";
    }
    case "paths":
      return `${fmtInt((r as unknown as PathsResult).total)} journeys`;
    case "retention":
      return `${fmtInt((r as unknown as RetentionResult).cohorts.length)} cohorts`;
    case "dfg": {
      const d = r as unknown as DfgResult;
      return `${fmtInt(d.cases)} journeys, ${fmtInt(d.edges.length)} transitions`;
    }
    case "attribution": {
      const a = r as unknown as AttributionResult;
      return `${fmtInt(a.conversions)} conversions, ${fmtInt(Math.round(a.revenue))} revenue`;
    }
    case "feedback": {
      const o = (r as unknown as FeedbackResult).overall;
      return `${fmtInt(o.responses)} responses, NPS ${o.nps == null ? "–" : Math.round(o.nps)}, CSAT ${o.csat == null ? "–" : `${Math.round(o.csat)}%`}`;
    }
    case "variants":
      return `${fmtInt(Number(r.cases ?? 0))} journeys, ${fmtInt(Number(r.distinct_variants ?? 0))} variants`;
    default:
      return "";
  }
}

/** Seconds as the shortest of `2h`, `7d`. */
export function durationLabel(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${seconds}s`;
}

const ev = (m: unknown) => (m && typeof m === "object" && "event" in m ? String((m as { event: unknown }).event ?? "") : "");

/** The page that shows (and edits) this spec, with the spec in its address; null when no page
 * edits the kind. */
export function pageUrl(s: Spec): string | null {
  const p = new URLSearchParams();
  switch (s.kind) {
    case "funnel": {
      (s.steps as unknown[]).forEach((x) => p.append("s", ev(x)));
      (s.steps as { where?: { property: string; op?: string; value?: unknown }[] }[]).forEach((x, i) =>
        (x.where ?? []).forEach((c) => {
          const v = Array.isArray(c.value) ? c.value.join(",") : c.value == null ? "" : String(c.value);
          p.append("w", `${i + 1}:${c.property}:${c.op ?? "eq"}:${v}`);
        }),
      );
      if (s.window) p.set("window", typeof s.window === "number" ? durationLabel(s.window) : String(s.window));
      if (s.order && s.order !== "ordered") p.set("order", String(s.order));
      const b = s.breakdown as { by?: string; property?: string } | null | undefined;
      if (b?.by) p.set("by", b.by);
      if (b?.property) p.set("prop", b.property);
      ((s.exclusions as unknown[]) ?? []).forEach((x) => p.append("x", ev(x)));
      if (s.trend) p.set("trend", String(s.trend));
      return `/insights/funnel?${p}`;
    }
    case "paths": {
      const start = ev(s.start);
      const end = ev(s.end);
      if (start || end) p.set("event", start || end);
      if (end && !start) p.set("dir", "to");
      if (s.steps) p.set("steps", String(s.steps));
      if (s.collapse_repeats) p.set("collapse", "1");
      return `/insights/paths?${p}`;
    }
    case "retention": {
      if (ev(s.cohort_event)) p.set("cohort", ev(s.cohort_event));
      if (ev(s.return_event)) p.set("return", ev(s.return_event));
      if (s.period) p.set("period", String(s.period));
      if (s.periods) p.set("periods", String(s.periods));
      return `/insights/retention?${p}`;
    }
    case "dfg": {
      p.set("case", String(s.case ?? "profile"));
      if (s.top_k) p.set("top", String(s.top_k));
      if (s.min_frequency && s.min_frequency !== 1) p.set("min", String(s.min_frequency));
      ((s.exclude as unknown[]) ?? []).forEach((x) => p.append("x", typeof x === "string" ? x : ev(x)));
      if (s.collapse_repeats) p.set("collapse", "1");
      return `/insights/discovery?${p}`;
    }
    case "attribution": {
      if (ev(s.conversion)) p.set("conversion", ev(s.conversion));
      if (s.by && s.by !== "channel") p.set("by", String(s.by));
      if (s.touch && s.touch !== "session") p.set("touch", String(s.touch));
      if (typeof s.lookback === "number") p.set("lookback", String(Math.round(s.lookback / 86400)));
      else if (typeof s.lookback === "string") p.set("lookback", s.lookback.replace(/d$/, ""));
      return `/insights/attribution?${p}`;
    }
    case "feedback": {
      if (s.touchpoint_property && s.touchpoint_property !== "touchpoint") p.set("touchpoint", String(s.touchpoint_property));
      if (s.phrases != null && s.phrases !== 5) p.set("phrases", String(s.phrases));
      return `/insights/feedback?${p}`;
    }
    default:
      return null;
  }
}

/** How tall a tile's chart is. */
export function tileHeight(kind: string): number {
  return kind === "paths" || kind === "dfg" ? 360 : 260;
}
