import { describe as suite, expect, it } from "vitest";
import { complete, days, decodeDraft, describe, encodeDraft, type Cond, typedValue } from "./conditions";

const buyers: Cond = {
  kind: "and",
  all: [
    { kind: "performed", event: { event: "Order Completed", where: [{ property: "revenue", op: "gt", value: 50 }] }, at_least: 2, within: 2592000 },
    { kind: "not", cond: { kind: "trait", trait: "plan", op: "eq", value: "pro" } },
  ],
};

suite("audience conditions", () => {
  it("read as a sentence", () => {
    expect(describe(buyers)).toBe(
      "did Order Completed where revenue > 50 at least 2 times in the last 30 days and not trait plan is pro",
    );
    expect(describe({ kind: "performed", event: { event: "Signed Up" }, at_most: 0 })).toBe("did not do Signed Up");
  });
  it("show windows in days", () => {
    expect(days(2592000)).toBe("30");
    expect(days("7d")).toBe("7");
    expect(days(null)).toBe("");
  });
  it("type values as the engine compares them", () => {
    expect(typedValue("gt", "50")).toBe(50);
    expect(typedValue("eq", "true")).toBe(true);
    expect(typedValue("in", "a, b")).toEqual(["a", "b"]);
    expect(typedValue("contains", "42")).toBe("42");
    expect(typedValue("is_set", "x")).toBeNull();
  });
  it("know when a draft is complete", () => {
    expect(complete(buyers)).toBe(true);
    expect(complete({ kind: "and", all: [] })).toBe(false);
    expect(complete({ kind: "trait", trait: "" })).toBe(false);
  });
  it("round-trip through the URL, unicode included", () => {
    const c: Cond = { kind: "trait", trait: "city", op: "eq", value: "Zürich" };
    expect(decodeDraft(encodeDraft(c))).toEqual(c);
    expect(decodeDraft("not-base64!")).toBeNull();
  });
});
