import { describe, expect, it } from "vitest";
import { heatmapOption, readRetention, retentionFigures, retentionSpec, writeRetention, type RetentionResult } from "./retention";

describe("retention insight", () => {
  it("round-trips the URL and builds the spec", () => {
    const s = readRetention(new URLSearchParams("cohort=Signed+Up&return=Order+Completed&period=day&periods=14"));
    expect(readRetention(writeRetention(s))).toEqual(s);
    expect(retentionSpec(s)).toEqual({ cohort_event: { event: "Signed Up" }, return_event: { event: "Order Completed" }, period: "day", periods: 14 });
  });
  it("puts one cell per begun period, as a percentage", () => {
    const r = {
      period: "week",
      cohorts: [
        { cohort: "2026-10-05", size: 10, retained: [10, 4, null], rates: [1, 0.4, null] },
        { cohort: "2026-10-12", size: 5, retained: [5, null, null], rates: [1, null, null] },
      ],
    } as unknown as RetentionResult;
    const o = heatmapOption(r) as { series: { data: number[][] }[]; yAxis: { data: string[] } };
    expect(o.series[0]!.data).toEqual([[0, 0, 100], [1, 0, 40], [0, 1, 100]]);
    expect(o.yAxis.data[1]).toBe("2026-10-12 (5)");
  });
  it("gives the headline figures: people, and back one period later", () => {
    const r = {
      period: "week",
      cohorts: [
        { cohort: "2026-10-05", size: 10, retained: [10, 4, 2], rates: [1, 0.4, 0.2] },
        { cohort: "2026-10-12", size: 5, retained: [5, 1, null], rates: [1, 0.2, null] },
      ],
      groups: [{ value: null, size: 15, curve: [1, 0.333, 0.2, null] }],
    } as unknown as RetentionResult;
    expect(retentionFigures(r)).toEqual({ people: 15, first: 0.333 });
    expect(retentionFigures({ ...r, groups: [] }).first).toBeNull();
  });
});
