// Pure edits of a journey map document (Vitest checks them): move a touchpoint between stages,
// add or remove stages and touchpoints, and text areas as lists.
import type { Schemas } from "../../api/client";

export type Doc = Schemas["JourneyMap-Output"];
export type DocStage = Schemas["Stage"];
export type DocTouchpoint = Schemas["Touchpoint"];

export const DEFAULT_STAGES = ["awareness", "consideration", "decision", "experience", "retention", "advocacy"];

export function blankMap(): Doc {
  return {
    name: "",
    title: "",
    type: "current_state",
    persona: { name: "Everyone" },
    stages: DEFAULT_STAGES.map((name) => ({ name, touchpoints: [] })),
  };
}

/** Move the touchpoint at `from` (stage, index) to the end of stage `toStage`, or before `toIndex`. */
export function moveTouchpoint(doc: Doc, from: [number, number], toStage: number, toIndex?: number): Doc {
  const stages = (doc.stages ?? []).map((s) => ({ ...s, touchpoints: [...(s.touchpoints ?? [])] }));
  const src = stages[from[0]];
  const dst = stages[toStage];
  if (!src || !dst) return doc;
  const [tp] = src.touchpoints.splice(from[1], 1);
  if (!tp) return doc;
  let at = toIndex ?? dst.touchpoints.length;
  if (from[0] === toStage && toIndex !== undefined && from[1] < toIndex) at -= 1;
  dst.touchpoints.splice(Math.max(0, Math.min(at, dst.touchpoints.length)), 0, tp);
  return { ...doc, stages };
}

export function updateTouchpoint(doc: Doc, at: [number, number], patch: Partial<DocTouchpoint>): Doc {
  return {
    ...doc,
    stages: (doc.stages ?? []).map((s, i) =>
      i !== at[0] ? s : { ...s, touchpoints: (s.touchpoints ?? []).map((t, j) => (j === at[1] ? { ...t, ...patch } : t)) },
    ),
  };
}

export function addTouchpoint(doc: Doc, stage: number, name: string, event: string): Doc {
  return {
    ...doc,
    stages: (doc.stages ?? []).map((s, i) =>
      i !== stage ? s : { ...s, touchpoints: [...(s.touchpoints ?? []), { name, match: { event } }] },
    ),
  };
}

export function removeTouchpoint(doc: Doc, at: [number, number]): Doc {
  return {
    ...doc,
    stages: (doc.stages ?? []).map((s, i) => (i !== at[0] ? s : { ...s, touchpoints: (s.touchpoints ?? []).filter((_, j) => j !== at[1]) })),
  };
}

/** A name not yet used by any touchpoint (names are unique across a map). */
export function freshName(doc: Doc, base: string): string {
  const used = new Set((doc.stages ?? []).flatMap((s) => (s.touchpoints ?? []).map((t) => t.name)));
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) if (!used.has(`${base} ${i}`)) return `${base} ${i}`;
}

export const lines = (text: string): string[] => text.split("\n").map((l) => l.trim()).filter(Boolean);
export const unlines = (list: string[] | undefined): string => (list ?? []).join("\n");

/** Whether the document is complete enough to bind (the server says the rest, with a path). */
export function bindable(doc: Doc): boolean {
  const tps = (doc.stages ?? []).flatMap((s) => s.touchpoints ?? []);
  return tps.length > 0 && tps.every((t) => t.name.trim() && t.match.event.trim());
}
