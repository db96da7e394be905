import { describe, expect, it } from "vitest";
import { pathsSpec, readPaths, sankeyOption, writePaths, type PathsResult } from "./paths";

describe("paths insight", () => {
  it("round-trips the URL and anchors at the start or the end", () => {
    const s = readPaths(new URLSearchParams("event=Home&dir=to&steps=4"));
    expect(readPaths(writePaths(s))).toEqual(s);
    expect(pathsSpec(s)).toMatchObject({ start: null, end: { event: "Home" }, steps: 4 });
    expect(readPaths(new URLSearchParams("steps=99")).steps).toBe(20);
  });
  it("draws nodes by id, labelled by event, edges weighted", () => {
    const r = {
      total: 3,
      nodes: [
        { id: "1:Home", step: 1, name: "Home", count: 3 },
        { id: "2:Cart", step: 2, name: "Cart", count: 2 },
      ],
      edges: [{ source: "1:Home", target: "2:Cart", step: 1, weight: 2 }],
      top_paths: [],
    } as unknown as PathsResult;
    const o = sankeyOption(r) as { series: { data: { name: string; value: number }[]; links: { value: number }[] }[] };
    expect(o.series[0]!.data.map((d) => d.name)).toEqual(["1:Home", "2:Cart"]);
    expect(o.series[0]!.links[0]!.value).toBe(2);
  });
});
