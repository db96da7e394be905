// Map touchpoints in the journey builder (Vitest checks these): the choices a map offers, grouped
// by stage; a touchpoint's event definition in words; the journey a map touchpoint opens the
// builder with ("Create a journey from here"), and a name for it no journey has yet.
import { type JourneyDoc, type Json, blankJourney } from "./model";

export interface TouchpointRef {
  map: string;
  touchpoint: string;
}

interface MatchDoc {
  event: string;
  type?: string | null;
  channel?: string | null;
  where?: { property: string; op?: string | null; value?: unknown }[] | null;
}

/** The part of a map document the picker reads. */
export interface MapDocLike {
  name: string;
  title?: string | null;
  goal?: { event: string } | null;
  stages?: { name: string; label?: string | null; touchpoints?: { name: string; match: MatchDoc; channel?: string | null }[] | null }[] | null;
}

export interface TouchpointChoice {
  stage: string;
  stageTitle: string;
  touchpoint: string;
  /** The touchpoint's event definition in words: `Checkout Started · channel app`. */
  event: string;
}

/** A stage's shown title, as the server writes it: the label, else the name capitalised. */
export function stageTitle(s: { name: string; label?: string | null }): string {
  if (s.label) return s.label;
  const n = s.name.replace(/_/g, " ");
  return n.charAt(0).toUpperCase() + n.slice(1);
}

const OPS: Record<string, string> = { eq: "=", neq: "≠", gt: ">", gte: "≥", lt: "<", lte: "≤", contains: "contains", in: "in", not_in: "not in", regex: "matches", is_set: "is set", is_not_set: "is not set" };

/** An event definition in words: the event, its type and channel, its property conditions. */
export function matchText(m: MatchDoc): string {
  const parts = [m.event];
  if (m.type) parts.push(`type ${m.type}`);
  if (m.channel) parts.push(`channel ${m.channel}`);
  for (const w of m.where ?? []) {
    const op = OPS[w.op ?? "eq"] ?? w.op ?? "=";
    parts.push(w.op === "is_set" || w.op === "is_not_set" ? `${w.property} ${op}` : `${w.property} ${op} ${JSON.stringify(w.value)}`);
  }
  return parts.join(" · ");
}

/** Every touchpoint of a map, in map order, with its stage. */
export function touchpointChoices(doc: MapDocLike): TouchpointChoice[] {
  return (doc.stages ?? []).flatMap((s) =>
    (s.touchpoints ?? []).map((t) => ({ stage: s.name, stageTitle: stageTitle(s), touchpoint: t.name, event: matchText(t.match) })),
  );
}

/** The choices grouped by stage, in map order (for `<optgroup>`s). */
export function byStage(choices: TouchpointChoice[]): { stage: string; title: string; touchpoints: TouchpointChoice[] }[] {
  const out: { stage: string; title: string; touchpoints: TouchpointChoice[] }[] = [];
  for (const c of choices) {
    const last = out[out.length - 1];
    if (last && last.stage === c.stage) last.touchpoints.push(c);
    else out.push({ stage: c.stage, title: c.stageTitle, touchpoints: [c] });
  }
  return out;
}

/** A document's touchpoint reference (entry or goal), when it is one and names both parts. */
export function refOf(v: unknown): TouchpointRef | null {
  if (!v || typeof v !== "object") return null;
  const o = v as Json;
  return typeof o.map === "string" && typeof o.touchpoint === "string" ? { map: o.map, touchpoint: o.touchpoint } : null;
}

/** A journey name from a touchpoint (`checkout-app`), not one of `taken` (`checkout-app-2`…). */
export function journeyName(touchpoint: string, taken: Iterable<string>): string {
  const base =
    touchpoint
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 80) || "journey";
  const used = new Set(taken);
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

/** The address of the builder opened on a new journey entered at a map touchpoint, its goal
 * the map's goal event when the map has one. */
export function fromHereLink(map: string, touchpoint: string, goalEvent?: string | null): string {
  const q = new URLSearchParams({ entry_map: map, entry_touchpoint: touchpoint, tab: "settings" });
  if (goalEvent) q.set("goal", goalEvent);
  return `/journeys/new?${q.toString()}`;
}

/** The new journey the builder opens with: from a map touchpoint when the address names one
 * (`entry_map`, `entry_touchpoint`, `goal`), else blank. `taken`: the journeys' names. */
export function newJourney(params: URLSearchParams, taken: Iterable<string>): JourneyDoc {
  const map = params.get("entry_map");
  const touchpoint = params.get("entry_touchpoint");
  if (!map || !touchpoint) return blankJourney(params.get("name") || "new-journey");
  const doc = blankJourney(params.get("name") || journeyName(touchpoint, taken));
  const goal = params.get("goal");
  return {
    ...doc,
    title: `From ${touchpoint}`,
    entry: { kind: "touchpoint", map, touchpoint },
    goal: goal ? { event: { event: goal }, within: "7d" } : null,
  };
}
