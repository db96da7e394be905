// A decision as the page edits it (the server's Decision spec), and pure helpers: a blank one,
// renaming and removing variants with their references, rules in words, split shares, the
// problems to fix before saving, and the preview's page context.
import { type Cond, describe } from "../audiences/conditions";

export interface RuleDoc {
  name: string;
  when: Cond;
  variant?: string | null;
  split?: Record<string, number> | null;
}

export interface DecisionDoc {
  name: string;
  description?: string;
  variants: Record<string, Record<string, unknown>>;
  default: string;
  rules: RuleDoc[];
  holdout?: number;
  seed?: string | null;
  goal?: { event?: string | null; where?: unknown[] } | null;
  goal_window?: number | string;
  touchpoints?: { map: string; touchpoint: string }[];
}

export const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

export function blankDecision(name: string): DecisionDoc {
  return {
    name,
    description: "",
    variants: { default: { headline: "Welcome" } },
    default: "default",
    rules: [],
    holdout: 0,
    goal: null,
    goal_window: 7 * 86400,
  };
}

/** A name not yet used, `base`, `base-2`, ... */
export function freshName(base: string, taken: string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base}-${i}`)) return `${base}-${i}`;
}

/** Rename a variant everywhere it is named (the default, rules' variants and splits). */
export function renameVariant(d: DecisionDoc, from: string, to: string): DecisionDoc {
  if (from === to) return d;
  const variants = Object.fromEntries(Object.entries(d.variants).map(([k, v]) => [k === from ? to : k, v]));
  const rules = d.rules.map((r) => ({
    ...r,
    variant: r.variant === from ? to : r.variant,
    split: r.split ? Object.fromEntries(Object.entries(r.split).map(([k, w]) => [k === from ? to : k, w])) : r.split,
  }));
  return { ...d, variants, rules, default: d.default === from ? to : d.default };
}

/** Remove a variant and every reference to it: a rule that showed it shows the default; a
 * split loses that arm (a split left empty shows the default). */
export function removeVariant(d: DecisionDoc, name: string): DecisionDoc {
  const variants = { ...d.variants };
  delete variants[name];
  const fallback = d.default === name ? (Object.keys(variants)[0] ?? "") : d.default;
  const rules = d.rules.map((r) => {
    if (r.split) {
      const split = Object.fromEntries(Object.entries(r.split).filter(([k]) => k !== name));
      return Object.keys(split).length ? { ...r, split } : { ...r, split: null, variant: fallback };
    }
    return r.variant === name ? { ...r, variant: fallback } : r;
  });
  return { ...d, variants, rules, default: fallback };
}

/** Each arm's share of a split, as whole percentages in the split's order. */
export function shares(split: Record<string, number>): [string, number][] {
  const total = Object.values(split).reduce((a, b) => a + (b > 0 ? b : 0), 0);
  return Object.entries(split).map(([k, w]) => [k, total > 0 ? Math.round(((w > 0 ? w : 0) / total) * 100) : 0]);
}

/** A rule in words: `If is in audience vip, show gold`. */
export function describeRule(r: RuleDoc): string {
  const then = r.split
    ? `split ${shares(r.split).map(([k, p]) => `${p}% ${k}`).join(" / ")}`
    : `show ${r.variant ?? "?"}`;
  return `If ${describe(r.when)}, ${then}`;
}

/** What must be fixed before the server would accept it, each with where. */
export function problems(d: DecisionDoc): string[] {
  const out: string[] = [];
  const names = Object.keys(d.variants);
  if (!NAME.test(d.name)) out.push("name: use letters, digits and - _ . (it appears in URLs)");
  if (names.length === 0) out.push("variants: add at least one");
  for (const n of names) {
    if (!NAME.test(n)) out.push(`variant ${JSON.stringify(n)}: use letters, digits and - _ .`);
    if (n === "holdout") out.push(`variant "holdout": reserved for the held-out people`);
  }
  if (!names.includes(d.default)) out.push("default: choose one of the variants");
  const seen = new Set<string>();
  d.rules.forEach((r, i) => {
    const where = `rule ${i + 1}`;
    if (!NAME.test(r.name)) out.push(`${where}: give it a name (letters, digits, - _ .)`);
    if (seen.has(r.name)) out.push(`${where}: the name ${JSON.stringify(r.name)} is used twice`);
    seen.add(r.name);
    if (r.split) {
      if (Object.keys(r.split).length === 0) out.push(`${where}: the split needs at least one variant`);
      for (const [k, w] of Object.entries(r.split)) {
        if (!names.includes(k)) out.push(`${where}: ${JSON.stringify(k)} is not one of the variants`);
        if (!(w > 0)) out.push(`${where}: ${k}'s weight must be more than 0`);
      }
    } else if (!r.variant || !names.includes(r.variant)) out.push(`${where}: choose the variant it shows`);
  });
  const h = d.holdout ?? 0;
  if (!(h >= 0 && h < 1)) out.push("holdout: a share from 0 to 99%");
  return out;
}

/** The page context a preview imagines, from a path typed like `/shop?x=1`. */
export function pageContext(path: string): Record<string, unknown> | null {
  const p = path.trim();
  if (!p) return null;
  if (/^https?:\/\//.test(p)) {
    try {
      return { page: { url: p, path: new URL(p).pathname } };
    } catch {
      return { page: { url: p } };
    }
  }
  return { page: { path: p.split("?")[0] } };
}

/** A goal window in days, for a days box (seconds or `7d` text). */
export function windowDays(w: number | string | undefined): number {
  if (w == null) return 7;
  if (typeof w === "number") return Math.round((w / 86400) * 100) / 100;
  const m = w.match(/^(\d+(?:\.\d+)?)\s*d$/);
  if (m) return Number(m[1]);
  const h = w.match(/^(\d+(?:\.\d+)?)\s*h$/);
  return h ? Number(h[1]) / 24 : 7;
}
