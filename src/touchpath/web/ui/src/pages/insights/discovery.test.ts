import { describe, expect, it } from "vitest";
import { dfgSpec, END, layers, readDiscovery, START, visible, writeDiscovery, type DfgResult } from "./discovery";

const r = {
  cases: 3,
  events: 9,
  nodes: [
    { activity: "Home", frequency: 3, cases: 3, starts: 3, ends: 0 },
    { activity: "Cart", frequency: 3, cases: 2, starts: 0, ends: 1 },
    { activity: "Order", frequency: 2, cases: 2, starts: 0, ends: 2 },
    { activity: "Lonely", frequency: 5, cases: 5, starts: 5, ends: 5 },
  ],
  edges: [
    { source: "Home", target: "Cart", frequency: 2, cases: 2, median_seconds: 30, p90_seconds: 60 },
    { source: "Cart", target: "Order", frequency: 2, cases: 2, median_seconds: 90, p90_seconds: 120 },
    { source: "Cart", target: "Cart", frequency: 1, cases: 1, median_seconds: 5, p90_seconds: 5 },
  ],
} as unknown as DfgResult;

describe("process discovery", () => {
  it("round-trips the URL and sends the pruning to the server", () => {
    const s = readDiscovery(new URLSearchParams("view=time&case=profile&top=8&min=3&x=Email+Delivered&collapse=1"));
    expect(readDiscovery(writeDiscovery(s))).toEqual(s);
    expect(dfgSpec(s)).toMatchObject({ kind: "dfg", case: "profile", top_k: 8, min_frequency: 3, exclude: ["Email Delivered"], collapse_repeats: true });
    expect(writeDiscovery(readDiscovery(new URLSearchParams())).toString()).toBe("");
  });
  it("draws only activities on a kept transition; repeats as a count, not an arrow", () => {
    const v = visible(r);
    expect(v.nodes.map((n) => n.activity)).toEqual(["Home", "Cart", "Order"]);
    expect(v.loops.get("Cart")).toBe(1);
    expect(v.arrows.filter((a) => a.source === a.target)).toEqual([]);
    expect(v.arrows.find((a) => a.source === START)).toMatchObject({ target: "Home", frequency: 3 });
    expect(v.arrows.filter((a) => a.target === END).map((a) => a.source)).toEqual(["Order"]);
  });
  it("lays activities out left to right by their distance from the start", () => {
    const v = visible(r);
    const col = layers(v.arrows, v.nodes.map((n) => n.activity));
    expect([col.get(START), col.get("Home"), col.get("Cart"), col.get("Order"), col.get(END)]).toEqual([0, 1, 2, 3, 4]);
  });
});
