// The Events page's state lives in its URL; these pure functions turn the query string into the
// explorer's request and back (Vitest checks the round trip).
import type { Schemas } from "../../api/client";

export type Op = Schemas["Condition"]["op"];
export interface Cond {
  property: string;
  op: NonNullable<Op>;
  value: string;
}

export const OPS: { op: NonNullable<Op>; label: string; needsValue: boolean }[] = [
  { op: "eq", label: "is", needsValue: true },
  { op: "neq", label: "is not", needsValue: true },
  { op: "contains", label: "contains", needsValue: true },
  { op: "not_contains", label: "does not contain", needsValue: true },
  { op: "gt", label: ">", needsValue: true },
  { op: "gte", label: "≥", needsValue: true },
  { op: "lt", label: "<", needsValue: true },
  { op: "lte", label: "≤", needsValue: true },
  { op: "in", label: "is one of (a, b)", needsValue: true },
  { op: "regex", label: "matches regex", needsValue: true },
  { op: "is_set", label: "is set", needsValue: false },
  { op: "is_not_set", label: "is not set", needsValue: false },
];

export type Interval = "hour" | "day" | "week" | "month";

export interface EventFilters {
  event: string;
  channels: string[];
  start: string; // YYYY-MM-DD, inclusive
  end: string; // YYYY-MM-DD, inclusive
  where: Cond[];
  breakdown: string;
  interval: Interval;
}

const INTERVALS: Interval[] = ["hour", "day", "week", "month"];

/** `revenue:gt:50` -> a condition (the value is everything after the second colon). */
export function parseCond(text: string): Cond | null {
  const a = text.indexOf(":");
  const b = a < 0 ? -1 : text.indexOf(":", a + 1);
  if (a <= 0) return null;
  const property = text.slice(0, a);
  const op = (b < 0 ? text.slice(a + 1) : text.slice(a + 1, b)) as Cond["op"];
  if (!OPS.some((o) => o.op === op)) return null;
  return { property, op, value: b < 0 ? "" : text.slice(b + 1) };
}

export function condText(c: Cond): string {
  return `${c.property}:${c.op}:${c.value}`;
}

export function readFilters(params: URLSearchParams): EventFilters {
  const interval = params.get("interval") as Interval | null;
  return {
    event: params.get("event") ?? "",
    channels: (params.get("channel") ?? "").split(",").filter(Boolean),
    start: params.get("start") ?? "",
    end: params.get("end") ?? "",
    where: params.getAll("w").map(parseCond).filter((c): c is Cond => c !== null),
    breakdown: params.get("breakdown") ?? "",
    interval: interval && INTERVALS.includes(interval) ? interval : "day",
  };
}

/** The filters as query-string entries (empty ones left out, so URLs stay short). */
export function writeFilters(f: EventFilters, keep: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [k, v] of keep) {
    if (!["event", "channel", "start", "end", "w", "breakdown", "interval"].includes(k)) out.append(k, v);
  }
  if (f.event) out.set("event", f.event);
  if (f.channels.length) out.set("channel", f.channels.join(","));
  if (f.start) out.set("start", f.start);
  if (f.end) out.set("end", f.end);
  for (const c of f.where) out.append("w", condText(c));
  if (f.breakdown) out.set("breakdown", f.breakdown);
  if (f.interval !== "day") out.set("interval", f.interval);
  return out;
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** A value typed in a box, as the condition wants it: numbers for comparisons, lists for `in`. */
export function condValue(c: Cond): unknown {
  if (c.op === "is_set" || c.op === "is_not_set") return null;
  if (c.op === "in" || c.op === "not_in") return c.value.split(",").map((s) => s.trim()).filter(Boolean);
  if (["gt", "gte", "lt", "lte"].includes(c.op)) {
    const n = Number(c.value);
    return Number.isFinite(n) ? n : c.value;
  }
  return c.value;
}

/** The explorer's `match` and `range` for these filters (the end date is inclusive). */
export function toRequest(f: EventFilters): Pick<Schemas["TrendQuery"], "match" | "range"> {
  return {
    match: {
      event: f.event || null,
      channel: f.channels.length ? f.channels : null,
      where: f.where
        .filter((c) => c.property)
        .map((c) => ({ property: c.property, op: c.op, value: condValue(c) })),
    },
    range: {
      start: f.start ? `${f.start}T00:00:00Z` : null,
      end: f.end ? `${nextDay(f.end)}T00:00:00Z` : null,
    },
  };
}
