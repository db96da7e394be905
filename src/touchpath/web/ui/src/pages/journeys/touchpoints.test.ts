import { describe, expect, it } from "vitest";
import { byStage, fromHereLink, journeyName, matchText, newJourney, refOf, stageTitle, touchpointChoices } from "./touchpoints";

const MAP = {
  name: "demo-first-purchase",
  title: "Northwind Outfitters · first purchase",
  goal: { event: "Order Completed" },
  stages: [
    { name: "consideration", touchpoints: [{ name: "Product page (app)", match: { event: "Product Viewed", channel: "app" } }] },
    {
      name: "decision",
      label: "Deciding",
      touchpoints: [
        { name: "Checkout (web)", match: { event: "Checkout Started", where: [{ property: "channel", op: "neq", value: "app" }] } },
        { name: "Checkout (app)", match: { event: "Checkout Started", channel: "app" } },
      ],
    },
    { name: "after_sale", touchpoints: [] },
  ],
};

describe("map touchpoints in the journey builder", () => {
  it("lists every touchpoint in map order with its stage and event definition", () => {
    const c = touchpointChoices(MAP);
    expect(c.map((x) => `${x.stageTitle} › ${x.touchpoint}`)).toEqual(["Consideration › Product page (app)", "Deciding › Checkout (web)", "Deciding › Checkout (app)"]);
    expect(c[1]!.event).toBe('Checkout Started · channel ≠ "app"');
    expect(c[2]!.event).toBe("Checkout Started · channel app");
  });

  it("groups the choices by stage, keeping the order", () => {
    const g = byStage(touchpointChoices(MAP));
    expect(g.map((s) => [s.title, s.touchpoints.length])).toEqual([["Consideration", 1], ["Deciding", 2]]);
  });

  it("titles a stage as the server does", () => {
    expect(stageTitle({ name: "after_sale" })).toBe("After sale");
    expect(stageTitle({ name: "x", label: "Buying" })).toBe("Buying");
  });

  it("writes conditions without a value for is set", () => {
    expect(matchText({ event: "Signed Up", type: "track", where: [{ property: "plan", op: "is_set" }] })).toBe("Signed Up · type track · plan is set");
  });

  it("reads a touchpoint reference only when both parts are text", () => {
    expect(refOf({ kind: "touchpoint", map: "m", touchpoint: "t" })).toEqual({ map: "m", touchpoint: "t" });
    expect(refOf({ kind: "event", event: { event: "x" } })).toBeNull();
    expect(refOf(null)).toBeNull();
  });

  it("names a journey from a touchpoint, never one that is taken", () => {
    expect(journeyName("Checkout (app)", [])).toBe("checkout-app");
    expect(journeyName("Checkout (app)", ["checkout-app", "checkout-app-2"])).toBe("checkout-app-3");
    expect(journeyName("¿¡", [])).toBe("journey");
  });

  it("opens the builder from a touchpoint with the entry and the map's goal filled in", () => {
    const link = fromHereLink(MAP.name, "Checkout (app)", MAP.goal.event);
    const params = new URL(link, "http://x").searchParams;
    expect(link.startsWith("/journeys/new?")).toBe(true);
    const doc = newJourney(params, ["checkout-app"]);
    expect(doc.name).toBe("checkout-app-2");
    expect(doc.entry).toEqual({ kind: "touchpoint", map: "demo-first-purchase", touchpoint: "Checkout (app)" });
    expect(doc.goal).toEqual({ event: { event: "Order Completed" }, within: "7d" });
    expect(params.get("tab")).toBe("settings");
  });

  it("opens a blank journey without a touchpoint in the address", () => {
    const doc = newJourney(new URLSearchParams("name=welcome"), []);
    expect(doc.name).toBe("welcome");
    expect(doc.entry.kind).toBe("event");
  });
});
