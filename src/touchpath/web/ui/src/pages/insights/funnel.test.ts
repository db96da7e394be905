import { describe, expect, it } from "vitest";
import { funnelOption, funnelSpec, readFunnel, ready, timeToConvertOption, writeFunnel, type FunnelResult } from "./funnel";

describe("funnel insight", () => {
  it("round-trips its state through the URL", () => {
    const q = new URLSearchParams("s=Product+Viewed&s=Order+Completed&window=7d&by=channel&x=Refund&trend=day");
    const f = readFunnel(q);
    expect(f.steps).toEqual(["Product Viewed", "Order Completed"]);
    expect(readFunnel(writeFunnel(f))).toEqual(f);
    expect(ready(readFunnel(new URLSearchParams()))).toBe(false);
  });
  it("builds the engine's spec", () => {
    const f = readFunnel(new URLSearchParams("s=A&s=B&by=event_property&x=C"));
    expect(funnelSpec(f)).toEqual({ steps: [{ event: "A" }, { event: "B" }], window: "14d", order: "ordered", exclusions: [{ event: "C" }] });
    const g = { ...f, property: "plan" };
    expect(funnelSpec(g, 2)).toMatchObject({ breakdown: { by: "event_property", property: "plan" }, dropped_at: 2 });
  });
  it("charts every group but everyone when broken down", () => {
    const step = (count: number) => ({ index: 0, name: "", count, conversion: 1, step_conversion: 1, dropped: 0 });
    const r = {
      steps: ["A", "B"],
      groups: [
        { value: null, entered: 3, converted: 1, conversion: 0.3, steps: [step(3), step(1)] },
        { value: "web", entered: 2, converted: 1, conversion: 0.5, steps: [step(2), step(1)] },
        { value: "app", entered: 1, converted: 0, conversion: 0, steps: [step(1), step(0)] },
      ],
    } as unknown as FunnelResult;
    const o = funnelOption(r) as { series: { name: string; data: number[] }[] };
    expect(o.series.map((s) => s.name)).toEqual(["web", "app"]);
    expect(o.series[1]!.data).toEqual([1, 0]);
  });
});

describe("funnel step conditions and time to convert", () => {
  it("keeps each step's property conditions in the URL and sends them typed", () => {
    const f = readFunnel(new URLSearchParams("s=A&s=B&w=2:revenue:gt:50&w=2:channel:eq:web&w=9:x:eq:y"));
    expect(f.where).toEqual([[], [{ property: "revenue", op: "gt", value: "50" }, { property: "channel", op: "eq", value: "web" }]]);
    expect(readFunnel(writeFunnel(f))).toEqual(f);
    expect(funnelSpec(f).steps).toEqual([
      { event: "A" },
      { event: "B", where: [{ property: "revenue", op: "gt", value: 50 }, { property: "channel", op: "eq", value: "web" }] },
    ]);
  });
  it("draws the last step's time from the start as one bar per bucket", () => {
    const step = (n: number, hist?: Record<string, number>) => ({
      index: 0, name: "", count: n, conversion: 1, step_conversion: 1, dropped: 0,
      time_from_start: hist ? { median_s: 60, p90_s: 600, histogram: hist } : null,
    });
    const r = { steps: ["A", "B"], groups: [{ value: null, entered: 3, converted: 2, conversion: 0.6, steps: [step(3), step(2, { "<1m": 1, "1-5m": 1 })] }] } as unknown as FunnelResult;
    const o = timeToConvertOption(r) as { series: { data: number[] }[]; xAxis: { data: string[] } };
    expect(o.xAxis.data).toEqual(["<1m", "1-5m"]);
    expect(o.series[0]!.data).toEqual([1, 1]);
    expect(timeToConvertOption({ ...r, groups: [{ ...r.groups[0]!, steps: [step(3), step(0, { "<1m": 0 })] }] } as unknown as FunnelResult)).toBeNull();
  });
});
