// The timeline grouped into sessions: a new session starts after 30 minutes without an event
// (the common web-analytics rule), newest session first. Pure, so Vitest checks it.
import type { TimelineEvent } from "./types";

export const SESSION_GAP_SECONDS = 30 * 60;

export interface Session {
  start: string;
  end: string;
  channels: string[];
  devices: string[];
  events: TimelineEvent[];
}

export function groupSessions(events: TimelineEvent[], gap = SESSION_GAP_SECONDS): Session[] {
  const sorted = [...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.seq - b.seq);
  const out: Session[] = [];
  let last = -Infinity;
  for (const e of sorted) {
    const t = Date.parse(e.timestamp.endsWith("Z") || e.timestamp.includes("+") ? e.timestamp : `${e.timestamp}Z`);
    let s = out[out.length - 1];
    if (!s || t - last > gap * 1000) {
      s = { start: e.timestamp, end: e.timestamp, channels: [], devices: [], events: [] };
      out.push(s);
    }
    s.events.push(e);
    s.end = e.timestamp;
    if (e.channel && !s.channels.includes(e.channel)) s.channels.push(e.channel);
    const device = e.anonymous_id ?? "";
    if (device && !s.devices.includes(device)) s.devices.push(device);
    last = t;
  }
  return out.reverse();
}

/** The identifier a person is best known by: user id, then email, then any. */
export function displayName(ids: { kind: string; value: string }[], fallback: string): string {
  return (
    ids.find((i) => i.kind === "user_id")?.value ??
    ids.find((i) => i.kind === "email")?.value ??
    ids[0]?.value ??
    fallback
  );
}
