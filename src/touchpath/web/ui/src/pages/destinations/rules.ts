// Forwarding rules and the send policy in words, and the pairs editors' helpers (pure, checked by
// Vitest): what a rule forwards, how it changes each event, and what the policy lets through.
import type { Schemas } from "../../api/client";
import { COMPARE_OPS, valueText } from "../audiences/conditions";

export type ForwardRule = Schemas["Rule-Input"];
export type Match = NonNullable<ForwardRule["match"]>[number];
export type Policy = Schemas["SendPolicy"];

const op = (o: string | undefined) => COMPARE_OPS.find((x) => x.op === (o ?? "eq"))?.label ?? o;

/** One event definition in words: `Order Completed where revenue ≥ 50`. */
export function describeMatch(m: Match): string {
  const where = (m.where ?? []).map((w) => `${w.property} ${op(w.op)}${w.op === "is_set" || w.op === "is_not_set" ? "" : ` ${valueText(w.value)}`}`);
  const channel = m.channel ? ` on ${Array.isArray(m.channel) ? m.channel.join(" or ") : m.channel}` : "";
  return `${m.event ?? "any event"}${channel}${where.length ? ` where ${where.join(" and ")}` : ""}`;
}

/** What a rule sends: `Order Completed where revenue ≥ 50, from web` or an audience sync. */
export function describeWhat(r: ForwardRule): string {
  if (r.format === "audience") return `people entering and leaving ${r.audiences?.length ? r.audiences.join(", ") : "every audience"}, as list updates`;
  const what = r.match?.length ? r.match.map(describeMatch).join("; or ") : "every event";
  return `${what}${r.sources?.length ? `, from ${r.sources.join(", ")}` : ", from every source"}`;
}

/** How a rule changes each event, in words (empty: sent as it arrived). */
export function describeMapping(r: ForwardRule): string[] {
  const m = r.mapping ?? {};
  return [
    ...Object.entries(m.rename ?? {}).map(([a, b]) => `renames ${a} to ${b}`),
    ...(m.drop ?? []).map((p) => `drops ${p}`),
    ...Object.entries(m.set ?? {}).map(([p, t]) => `sets ${p} to ${t}`),
  ];
}

/** Pairs edited as rows (rename, set) to the mapping's object, skipping half-typed rows. */
export function pairsToObject(rows: [string, string][]): Record<string, string> {
  return Object.fromEntries(rows.filter(([k, v]) => k.trim() && v.trim()).map(([k, v]) => [k.trim(), v]));
}

/** `21:00:00` as the server sends a time, to `21:00` for a time box. */
export const hhmm = (t: string | undefined, fallback: string) => (t ?? fallback).slice(0, 5);

const CHANNEL_WORD: Record<string, [string, string]> = { email: ["email", "emails"], sms: ["SMS", "SMS"], push: ["push notification", "push notifications"], webhook: ["webhook message", "webhook messages"] };
const plural = (ch: string, n: number) => (CHANNEL_WORD[ch] ?? [ch, ch])[n === 1 ? 0 : 1];

/** The policy as a marketer reads it. */
export function describePolicy(p: Policy): string[] {
  const out: string[] = [];
  const caps = Object.entries(p.caps ?? {});
  if (caps.length) out.push(`Each person gets at most ${caps.map(([ch, n]) => `${n} ${plural(ch, n)}`).join(", ")} a day (their own calendar day); one more is not sent.`);
  else out.push("No frequency caps: journeys may send a person any number of messages a day.");
  const q = p.quiet_hours;
  if (q) {
    const chans = (q.channels ?? []).map((c) => plural(c, 2)).join(" or ") || "nothing";
    out.push(`No ${chans} between ${hhmm(q.start, "21:00")} and ${hhmm(q.end, "08:00")} in the person's time zone: they wait until ${hhmm(q.end, "08:00")}, they are not dropped.`);
  } else out.push("No quiet hours: messages leave at any time of day.");
  out.push(`A person's time zone is their timezone trait, else the latest one their events sent, else ${p.fallback_timezone ?? "UTC"}.`);
  return out;
}
