import { describe, expect, it } from "vitest";
import { funnelOption, funnelSpec, readFunnel, ready, writeFunnel, type FunnelResult } from "./funnel";

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
