import { describe, expect, it } from "vitest";
import { fmtDuration, fmtPct, fmtTime } from "./format";

describe("format", () => {
  it("times", () => expect(fmtTime("2026-10-31T14:05:09.123456Z")).toBe("2026-10-31 14:05:09"));
  it("shares", () => {
    expect(fmtPct(0.1234)).toBe("12.3%");
    expect(fmtPct(null)).toBe("–");
  });
  it("durations", () => {
    expect(fmtDuration(30)).toBe("30 s");
    expect(fmtDuration(720)).toBe("12 min");
    expect(fmtDuration(3 * 3600 + 1800)).toBe("3.5 h");
    expect(fmtDuration(2 * 86400)).toBe("2.0 d");
  });
});
