import { describe, expect, it } from "vitest";
import { parseCond, readFilters, toRequest, writeFilters } from "./filters";

describe("event filters in the URL", () => {
  it("round-trips through the query string", () => {
    const q = new URLSearchParams(
      "event=Order+Completed&channel=web,app&start=2026-10-01&end=2026-10-31&w=revenue:gt:50&w=context.page.url:contains:a:b&breakdown=channel&tab=events",
    );
    const f = readFilters(q);
    expect(f.event).toBe("Order Completed");
    expect(f.channels).toEqual(["web", "app"]);
    expect(f.where[1]).toEqual({ property: "context.page.url", op: "contains", value: "a:b" });
    const back = writeFilters(f, q);
    expect(back.get("tab")).toBe("events");
    expect(readFilters(back)).toEqual(f);
  });

  it("drops conditions it cannot read", () => {
    expect(parseCond("revenue:nope:1")).toBeNull();
    expect(parseCond(":eq:1")).toBeNull();
    expect(parseCond("plan:is_set")).toEqual({ property: "plan", op: "is_set", value: "" });
  });

  it("builds the request with an inclusive end day and typed values", () => {
    const f = readFilters(new URLSearchParams("end=2026-10-31&w=revenue:gt:50&w=plan:in:a, b&w=x:is_set"));
    const r = toRequest(f);
    expect(r.range!.end).toBe("2026-11-01T00:00:00Z");
    expect(r.match!.where!.map((w) => w.value)).toEqual([50, ["a", "b"], null]);
    expect(r.match!.event).toBeNull();
  });
});
