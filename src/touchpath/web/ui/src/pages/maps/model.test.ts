import { describe, expect, it } from "vitest";
import { emotionOption, freshnessLine, hours, missingEvents, parseRef, pct, type BoundMap, type MapDocument } from "./model";

const doc = {
  name: "m",
  goal: { event: "Order Completed" },
  stages: [
    { name: "a", touchpoints: [{ name: "Viewed", match: { event: "Product Viewed" } }] },
    { name: "b", touchpoints: [{ name: "Called", match: { event: "Call Center Contacted" } }] },
  ],
} as MapDocument;

describe("journey map helpers", () => {
  it("name the events the store has never seen", () => {
    expect(missingEvents(doc, new Set(["Product Viewed"]))).toEqual(["Call Center Contacted", "Order Completed"]);
    expect(missingEvents(doc, new Set(["Product Viewed", "Call Center Contacted", "Order Completed"]))).toEqual([]);
  });
  it("draw one emotion point per touchpoint, in map order", () => {
    const bound = {
      stages: [
        { title: "A", touchpoints: [{ name: "Viewed", emotion: 0.5 }, { name: "Cart", emotion: null }] },
        { title: "B", touchpoints: [{ name: "Called", emotion: -1 }] },
      ],
    } as unknown as BoundMap;
    const o = emotionOption(bound) as { xAxis: { data: string[] }; series: { data: unknown[] }[] };
    expect(o.xAxis.data).toEqual(["Viewed", "Cart", "Called"]);
    expect(o.series[0]!.data).toEqual([0.5, null, -1]);
  });
  it("format rates, times and references", () => {
    expect(pct(0.624)).toBe("62%");
    expect(pct(null)).toBe("–");
    expect(hours(0.5)).toBe("30 min");
    expect(hours(3.25)).toBe("3.3 h");
    expect(hours(72)).toBe("3.0 d");
    expect(parseRef("shop@3")).toEqual({ name: "shop", version: 3 });
    expect(parseRef("demo-first-purchase")).toEqual({ name: "demo-first-purchase", version: null });
  });
  it("say what time the numbers are as of and whether newer events wait", () => {
    const now = new Date("2026-12-07T14:34:05Z");
    const stale = {
      bound_at: "2026-12-07T14:32:09Z",
      freshness: { numbers_as_of: "2026-12-07T14:32:05Z", fresh: false, next_refresh: "2026-12-07T14:33:10Z" },
    } as unknown as BoundMap;
    expect(freshnessLine(stale, now)).toEqual({
      asOf: "14:32:05 UTC",
      age: "2 min ago",
      state: "newer events arrived; next refresh from 14:33:10 UTC",
      stale: true,
    });
    const fresh = {
      bound_at: "2026-12-06T09:00:00Z",
      freshness: { numbers_as_of: "2026-12-06T08:59:58Z", fresh: true },
    } as unknown as BoundMap;
    const line = freshnessLine(fresh, now);
    expect(line.asOf).toBe("08:59:58 UTC on 2026-12-06");
    expect(line.state).toBe("up to date with the events");
    expect(line.stale).toBe(false);
  });
});
