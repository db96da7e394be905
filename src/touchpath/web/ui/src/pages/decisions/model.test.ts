import { describe as suite, expect, it } from "vitest";
import { blankDecision, type DecisionDoc, describeRule, freshName, pageContext, problems, removeVariant, renameVariant, shares, windowDays } from "./model";

const hero: DecisionDoc = {
  name: "home-hero",
  variants: { generic: { t: "New season" }, returning: { t: "More {{ computed.last_category }}" }, vip: { t: "Hi" } },
  default: "generic",
  rules: [
    { name: "vips", when: { kind: "audience", audience: "vip" } as never, variant: "vip" },
    { name: "returning", when: { kind: "computed", trait: "last_category", op: "is_set" }, split: { returning: 3, generic: 1 } },
  ],
  holdout: 0.1,
};

suite("decisions", () => {
  it("read rules as sentences", () => {
    expect(describeRule(hero.rules[0]!)).toBe("If is in audience vip, show vip");
    expect(describeRule(hero.rules[1]!)).toBe("If computed trait last_category is set, split 75% returning / 25% generic");
    expect(describeRule({ name: "p", when: { kind: "context", path: "page.path", op: "eq", value: "/sale" } as never, variant: "x" })).toBe(
      "If page.path is /sale, show x",
    );
  });
  it("rename a variant everywhere it is named", () => {
    const d = renameVariant(hero, "generic", "plain");
    expect(d.default).toBe("plain");
    expect(Object.keys(d.variants)).toEqual(["plain", "returning", "vip"]);
    expect(d.rules[1]!.split).toEqual({ returning: 3, plain: 1 });
    expect(problems(d)).toEqual([]);
  });
  it("remove a variant and fall back to the default", () => {
    const d = removeVariant(hero, "vip");
    expect(d.rules[0]!.variant).toBe("generic");
    const e = removeVariant(removeVariant(hero, "returning"), "generic");
    expect(e.default).toBe("vip");
    expect(e.rules[1]!.split).toBeNull();
    expect(e.rules[1]!.variant).toBe("vip");
  });
  it("name what to fix before saving", () => {
    expect(problems(hero)).toEqual([]);
    const bad: DecisionDoc = { ...hero, default: "nope", holdout: 1, rules: [{ ...hero.rules[0]!, variant: "gone" }, { ...hero.rules[0]! }] };
    expect(problems(bad)).toEqual([
      "default: choose one of the variants",
      "rule 1: choose the variant it shows",
      'rule 2: the name "vips" is used twice',
      "holdout: a share from 0 to 99%",
    ]);
    expect(problems(blankDecision("has space"))).toEqual(["name: use letters, digits and - _ . (it appears in URLs)"]);
  });
  it("compute shares, fresh names, windows and page contexts", () => {
    expect(shares({ a: 1, b: 1, c: 2 })).toEqual([["a", 25], ["b", 25], ["c", 50]]);
    expect(freshName("variant", ["variant", "variant-2"])).toBe("variant-3");
    expect(windowDays("30d")).toBe(30);
    expect(windowDays(604800)).toBe(7);
    expect(pageContext(" ")).toBeNull();
    expect(pageContext("/shop?x=1")).toEqual({ page: { path: "/shop" } });
    expect(pageContext("https://shop.example/help")).toEqual({ page: { url: "https://shop.example/help", path: "/help" } });
  });
});
