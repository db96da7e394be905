import { describe, expect, it } from "vitest";
import { attributionOption, attributionSpec, readAttribution, sortedRows, writeAttribution, type AttributionResult } from "./attribution";
import { feedbackSpec, fmtSentiment, readFeedback, writeFeedback } from "./feedback";

const c = (n: number) => ({ conversions: n, revenue: n * 10, share: 0 });
const r = {
  by: "channel",
  models: ["first_touch", "linear"],
  rows: [
    { key: "email", credit: { first_touch: c(5), linear: c(2) } },
    { key: "paid", credit: { first_touch: c(1), linear: c(4) } },
  ],
} as unknown as AttributionResult;

describe("attribution and feedback", () => {
  it("round-trips attribution's URL and sends the look-back as a duration", () => {
    const s = readAttribution(new URLSearchParams("conversion=Signed+Up&by=touchpoint&touch=event&lookback=14&metric=revenue"));
    expect(readAttribution(writeAttribution(s))).toEqual(s);
    expect(attributionSpec(s)).toMatchObject({ conversion: { event: "Signed Up" }, by: "touchpoint", touch: "event", lookback: "14d" });
  });
  it("orders channels by linear credit and draws one series per model", () => {
    expect(sortedRows(r).map((x) => x.key)).toEqual(["paid", "email"]);
    const o = attributionOption(r, "revenue") as { series: { name: string; data: number[] }[] };
    expect(o.series.map((s) => s.name)).toEqual(["First touch", "Linear"]);
    expect(o.series[1]!.data).toEqual([40, 20]);
  });
  it("round-trips feedback's URL and words sentiment", () => {
    const s = readFeedback(new URLSearchParams("touchpoint=page&phrases=3"));
    expect(readFeedback(writeFeedback(s))).toEqual(s);
    expect(feedbackSpec(s)).toMatchObject({ touchpoint_property: "page", phrases: 3 });
    expect(fmtSentiment(-0.5)).toBe("-0.50 negative");
    expect(fmtSentiment(0.05)).toBe("+0.05 neutral");
  });
});
