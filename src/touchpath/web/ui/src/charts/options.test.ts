import { describe, expect, it } from "vitest";
import { barsOption, hoursOption, trendOption } from "./options";

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

describe("hoursOption", () => {
  it("has the day's 24 hours, empty ones at zero, each count in its UTC hour", () => {
    const o = hoursOption([
      { hour: "2026-12-06T17:00:00Z", count: 205 },
      { hour: "2026-12-06T03:00:00+00:00", count: 4 },
    ]) as { xAxis: { data: string[] }; series: { data: number[] }[] };
    expect(o.xAxis.data).toHaveLength(24);
    expect(o.xAxis.data[17]).toBe("17:00");
    expect(o.series[0]!.data[17]).toBe(205);
    expect(o.series[0]!.data[3]).toBe(4);
    expect(o.series[0]!.data.reduce((a, b) => a + b, 0)).toBe(209);
  });
});
