// The audience condition tree the builder edits (the engine's own spec types), and pure helpers:
// a sentence for each condition, typed values from text boxes, and the draft in the URL.
import type { paths } from "../../api/schema";

/** The condition tree as the preview route takes it (the engine's Condition union; named from
 * the route so the schema's model names, e.g. `AllOf-Input`, do not matter). */
type Draft = paths["/api/explore/audience-preview"]["post"]["requestBody"]["content"]["application/json"];
export type Cond = Draft["condition"];
export type AllOf = Extract<Cond, { kind: "and" }>;
export type AnyOf = Extract<Cond, { kind: "or" }>;
export type NotCond = Extract<Cond, { kind: "not" }>;
export type Performed = Extract<Cond, { kind: "performed" }>;
export type TraitCond = Extract<Cond, { kind: "trait" }>;
export type Group = AllOf | AnyOf;
export type CompareOp = NonNullable<TraitCond["op"]>;

export const COMPARE_OPS: { op: CompareOp; label: string }[] = [
  { op: "eq", label: "is" },
  { op: "neq", label: "is not" },
  { op: "gt", label: ">" },
  { op: "gte", label: "≥" },
  { op: "lt", label: "<" },
  { op: "lte", label: "≤" },
  { op: "contains", label: "contains" },
  { op: "in", label: "is one of (a, b)" },
  { op: "regex", label: "matches regex" },
  { op: "is_set", label: "is set" },
  { op: "is_not_set", label: "is not set" },
];

/** Leaves a builder offers: audiences test events, traits and computed traits; decisions test
 * audience membership, traits, computed traits and the page or screen context. */
export type LeafKind = "performed" | "trait" | "computed" | "audience" | "context";
export const AUDIENCE_LEAVES: LeafKind[] = ["performed", "trait", "computed"];
export const DECISION_LEAVES: LeafKind[] = ["audience", "trait", "computed", "context"];

/** A new leaf of a kind, as the builder's "+" buttons add it. */
export function newLeaf(kind: LeafKind): Cond {
  switch (kind) {
    case "performed":
      return newPerformed();
    case "trait":
      return { kind: "trait", trait: "", op: "eq", value: "" };
    case "computed":
      return { kind: "computed", trait: "", op: "gte", value: 1 };
    case "audience":
      return { kind: "audience", audience: "" } as unknown as Cond;
    case "context":
      return { kind: "context", path: "page.path", op: "eq", value: "" } as unknown as Cond;
  }
}

export function emptyGroup(kind: "and" | "or" = "and"): Group {
  return kind === "and" ? { kind: "and", all: [] } : { kind: "or", any: [] };
}

export function children(g: Group): Cond[] {
  return (g.kind === "or" ? (g as AnyOf).any : (g as AllOf).all) as Cond[];
}

export function withChildren(g: Group, list: Cond[]): Group {
  return g.kind === "or" ? { kind: "or", any: list as AnyOf["any"] } : { kind: "and", all: list as AllOf["all"] };
}

export function newPerformed(): Performed {
  return { kind: "performed", event: { event: null, where: [] }, at_least: 1 };
}

/** Text typed in a value box, as the engine compares it: numbers, booleans, lists for `in`. */
export function typedValue(op: string, text: string): unknown {
  if (op === "is_set" || op === "is_not_set") return null;
  if (op === "in" || op === "not_in") return text.split(",").map((s) => s.trim()).filter(Boolean);
  if (op === "contains" || op === "regex") return text;
  if (text === "true") return true;
  if (text === "false") return false;
  if (text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;
}

export function valueText(v: unknown): string {
  if (v == null) return "";
  if (Array.isArray(v)) return v.join(", ");
  return String(v);
}

const opLabel = (op: string | undefined) => COMPARE_OPS.find((o) => o.op === (op ?? "eq"))?.label ?? op;

/** A window (`within`: seconds, or text such as `30d` as typed) in days, for a days box. */
export function days(within: number | string | null | undefined): string {
  if (within == null || within === "") return "";
  if (typeof within === "number") return String(Math.round((within / 86400) * 100) / 100);
  const m = within.match(/^(\d+(?:\.\d+)?)d$/);
  return m ? m[1]! : within;
}

/** A condition in words, e.g. `did Order Completed at least 2 times in the last 30 days`. */
export function describe(c: Cond): string {
  switch (c.kind) {
    default:
      return "";
    case "and":
    case "or": {
      const parts = children(c as Group).map((x) => (x.kind === "and" || x.kind === "or" ? `(${describe(x)})` : describe(x)));
      return parts.join(c.kind === "and" ? " and " : " or ") || "(empty)";
    }
    case "not":
      return `not ${describe((c as NotCond).cond as Cond)}`;
    case "performed": {
      const p = c as Performed;
      const name = p.event.event || "any event";
      const where = (p.event.where ?? []).map((w) => ` where ${w.property} ${opLabel(w.op)} ${valueText(w.value)}`).join("");
      const times =
        p.at_most === 0 ? "did not do" : p.at_most != null && p.at_least != null
          ? `did ${p.at_least}–${p.at_most} times`
          : p.at_most != null ? `did at most ${p.at_most} times` : `did at least ${p.at_least ?? 1} time${(p.at_least ?? 1) === 1 ? "" : "s"}`;
      const within = p.within ? ` in the last ${days(p.within)} days` : "";
      return p.at_most === 0 ? `${times} ${name}${where}${within}` : `${times.replace(/^did/, `did ${name}${where}`)}${within}`;
    }
    case "audience" as string:
      return `is in audience ${(c as unknown as { audience: string }).audience || "…"}`;
    case "context" as string: {
      const x = c as unknown as { path: string; op?: string; value?: unknown };
      const value = x.op === "is_set" || x.op === "is_not_set" ? "" : ` ${valueText(x.value)}`;
      return `${x.path} ${opLabel(x.op)}${value}`;
    }
    case "trait":
    case "computed": {
      const t = c as TraitCond;
      const value = t.op === "is_set" || t.op === "is_not_set" ? "" : ` ${valueText(t.value)}`;
      return `${c.kind === "computed" ? "computed trait" : "trait"} ${t.trait} ${opLabel(t.op)}${value}`;
    }
  }
}

/** Whether every leaf has what the engine requires (an event name may be empty: any event). */
export function complete(c: Cond): boolean {
  switch (c.kind) {
    case "and":
    case "or":
      return children(c as Group).length > 0 && children(c as Group).every(complete);
    case "not":
      return complete((c as NotCond).cond as Cond);
    case "performed":
      return ((c as Performed).event.where ?? []).every((w) => w.property.length > 0);
    case "audience" as string:
      return (c as unknown as { audience: string }).audience.length > 0;
    case "context" as string:
      return (c as unknown as { path: string }).path.length > 0;
    default:
      return (c as TraitCond).trait.length > 0;
  }
}

/** The draft as a URL-safe string, and back (unreadable text gives null). */
export function encodeDraft(c: Cond): string {
  const bytes = new TextEncoder().encode(JSON.stringify(c));
  let s = "";
  bytes.forEach((b) => (s += String.fromCharCode(b)));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeDraft(text: string | null): Cond | null {
  if (!text) return null;
  try {
    const b = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const json = new TextDecoder().decode(Uint8Array.from(b, (ch) => ch.charCodeAt(0)));
    const c = JSON.parse(json) as Cond;
    return c && typeof c === "object" && "kind" in c ? c : null;
  } catch {
    return null;
  }
}
