import { describe, expect, it } from "vitest";
import { displayName, groupSessions } from "./sessions";
import type { TimelineEvent } from "./types";

const ev = (seq: number, timestamp: string, channel: string | null, anon = "a1"): TimelineEvent => ({
  seq, timestamp, channel, anonymous_id: anon, type: "track", event: `E${seq}`, source: "s",
  user_id: null, message_id: `m${seq}`, properties: null,
});

describe("groupSessions", () => {
  it("starts a session after 30 minutes of quiet, newest first, channels marked", () => {
    const s = groupSessions([
      ev(1, "2026-10-01T10:00:00", "email"),
      ev(2, "2026-10-01T10:29:59", "direct"),
      ev(3, "2026-10-01T11:00:00", "app", "a2"),
      ev(4, "2026-10-01T11:10:00", "app", "a2"),
    ]);
    expect(s).toHaveLength(2);
    expect(s[0]!.events.map((e) => e.seq)).toEqual([3, 4]);
    expect(s[1]!.channels).toEqual(["email", "direct"]);
    expect(s[0]!.devices).toEqual(["a2"]);
  });
  it("keeps exactly 30 minutes in one session", () => {
    expect(groupSessions([ev(1, "2026-10-01T10:00:00Z", null), ev(2, "2026-10-01T10:30:00Z", null)])).toHaveLength(1);
  });
});

describe("displayName", () => {
  it("prefers the user id, then the email", () => {
    expect(displayName([{ kind: "anonymous_id", value: "x" }, { kind: "email", value: "e@x" }], "p")).toBe("e@x");
    expect(displayName([], "p")).toBe("p");
  });
});
