import { describe, expect, it } from "vitest";
import { liftOption } from "./chart";

describe("lift over time", () => {
  it("draws each arm's lift with its interval as a stacked band", () => {
    const option = liftOption([
      { day: "2026-11-02T00:00:00Z", arm: "remind", lift: 0.5, lift_ci: [0.1, 0.9] },
      { day: "2026-11-01T00:00:00Z", arm: "remind", lift: null, lift_ci: null },
    ]) as { xAxis: { data: string[] }; series: { name: string; data: (number | null)[] }[] };
    expect(option.xAxis.data).toEqual(["2026-11-01", "2026-11-02"]);
    const by = Object.fromEntries(option.series.map((s) => [s.name, s.data]));
    expect(by["remind"]).toEqual([null, 0.5]);
    expect(by["remind low"]).toEqual([null, 0.1]);
    expect(by["remind interval"]![1]).toBeCloseTo(0.8);
    expect(by["no change"]).toEqual([0, 0]);
  });
});
