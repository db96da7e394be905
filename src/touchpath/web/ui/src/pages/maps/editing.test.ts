import { describe, expect, it } from "vitest";
import { addTouchpoint, bindable, blankMap, freshName, lines, moveTouchpoint, type Doc } from "./editing";

const names = (d: Doc) => (d.stages ?? []).map((s) => (s.touchpoints ?? []).map((t) => t.name));

describe("map editing", () => {
  const doc = addTouchpoint(addTouchpoint(addTouchpoint(blankMap(), 0, "Ad", "Ad Clicked"), 0, "Home", "Home"), 1, "Viewed", "Product Viewed");
  it("moves a touchpoint to another stage, or within one", () => {
    expect(names(moveTouchpoint(doc, [0, 0], 1)).slice(0, 2)).toEqual([["Home"], ["Viewed", "Ad"]]);
    expect(names(moveTouchpoint(doc, [0, 1], 1, 0)).slice(0, 2)).toEqual([["Ad"], ["Home", "Viewed"]]);
    expect(names(moveTouchpoint(doc, [0, 0], 0, 2))[0]).toEqual(["Home", "Ad"]);
    expect(moveTouchpoint(doc, [5, 0], 1)).toBe(doc);
  });
  it("keeps touchpoint names unique", () => {
    expect(freshName(doc, "Home")).toBe("Home 2");
    expect(freshName(doc, "Cart")).toBe("Cart");
  });
  it("reads lists from text areas and knows when a draft can bind", () => {
    expect(lines(" a \n\n b")).toEqual(["a", "b"]);
    expect(bindable(blankMap())).toBe(false);
    expect(bindable(doc)).toBe(true);
  });
});
