import { describe, expect, it } from "vitest";
import { barsOption, trendOption } from "./options";

describe("barsOption", () => {
  it("sorts largest first and colours channels", () => {
    const o = barsOption(
      [
        { label: "email", value: 3 },
        { label: "direct", value: 10 },
      ],
      { colourByChannel: true },
    ) as { yAxis: { data: string[] }; series: { data: { value: number; itemStyle: { color: string } }[] }[] };
    expect(o.yAxis.data).toEqual(["direct", "email"]);
    expect(o.series[0]!.data.map((d) => d.value)).toEqual([10, 3]);
    expect(o.series[0]!.data[1]!.itemStyle.color).toBe("#1971c2");
  });
});

describe("trendOption", () => {
  it("has one line per series and a legend only when there are several", () => {
    const one = trendOption([{ name: "all", points: [{ t: "2026-01-01", value: 2 }] }]) as {
      legend?: unknown;
      series: { data: unknown[] }[];
    };
    expect(one.legend).toBeUndefined();
    expect(one.series[0]!.data).toEqual([["2026-01-01", 2]]);
    const two = trendOption([
      { name: "web", points: [] },
      { name: "app", points: [] },
    ]) as { legend?: unknown; series: unknown[] };
    expect(two.legend).toBeDefined();
    expect(two.series).toHaveLength(2);
  });
});
