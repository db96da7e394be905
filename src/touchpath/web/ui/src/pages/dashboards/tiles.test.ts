import { describe, expect, it } from "vitest";
import { readFunnel } from "../insights/funnel";
import { durationLabel, pageUrl, tileChart, tileSummary } from "./tiles";

describe("insight tiles", () => {
  it("opens a saved funnel (its durations in seconds) in the funnel page with the same state", () => {
    const url = pageUrl({
      kind: "funnel",
      steps: [{ event: "Product Viewed" }, { event: "Order Completed" }],
      window: 604800,
      order: "strict",
      exclusions: [{ event: "Refund" }],
    })!;
    const s = readFunnel(new URLSearchParams(url.split("?")[1]));
    expect(s).toMatchObject({ steps: ["Product Viewed", "Order Completed"], window: "7d", order: "strict", exclude: ["Refund"] });
    expect(durationLabel(3600)).toBe("1h");
  });
  it("opens attribution with its look-back in days, and nothing for a kind without a page", () => {
    expect(pageUrl({ kind: "attribution", conversion: { event: "Signed Up" }, lookback: 14 * 86400 })).toBe(
      "/insights/attribution?conversion=Signed+Up&lookback=14",
    );
    expect(pageUrl({ kind: "experiment" })).toBeNull();
  });
  it("summarises and charts a result by its kind", () => {
    const f = { kind: "funnel", steps: ["A", "B"], groups: [{ value: null, entered: 10, converted: 4, conversion: 0.4, steps: [] }] };
    expect(tileSummary(f)).toBe("10 entered A, 4 reached B (40.0%)");
    expect(tileChart(f)).not.toBeNull();
    expect(tileChart({ kind: "conformance" })).toBeNull();
  });
});
