import { describe, expect, it } from "vitest";
import { addNode, blankJourney, connect, entryText, exitsOf, fmtDuration, layout, removeNode, renameNode, summary } from "./model";

describe("journey editing", () => {
  it("lists the exits of each kind", () => {
    expect(exitsOf({ kind: "wait_for_event", on_event: "a" }).map((e) => [e.handle, e.target])).toEqual([
      ["on_event", "a"],
      ["on_timeout", null],
    ]);
    const split = { kind: "split", variants: [{ name: "a", weight: 1, next: "x" }], holdout: 1 };
    expect(exitsOf(split).map((e) => e.handle)).toEqual(["a", "holdout"]);
    expect(exitsOf({ kind: "exit" })).toEqual([]);
  });
  it("connects a branch path, a split's holdout and plain next", () => {
    const b = connect({ kind: "branch", branches: [{ name: "vip", when: {} }] }, "vip", "send_1");
    expect((b.branches as { next: string }[])[0]!.next).toBe("send_1");
    expect(connect({ kind: "split", variants: [], holdout: 5 }, "holdout", "z").holdout_next).toBe("z");
    expect(connect({ kind: "wait", next: "a" }, "next", null)).not.toHaveProperty("next");
  });
  it("adds after the chosen node, removes and renames with the links", () => {
    const [doc, id] = addNode(blankJourney("j"), "send", { x: 0, y: 0 }, "exit_1");
    expect(id).toBe("send_1");
    expect(doc.nodes.exit_1).not.toHaveProperty("next"); // an exit has no exit to link
    const [doc2, id2] = addNode(doc, "wait", { x: 0, y: 0 }, "send_1");
    expect(doc2.nodes.send_1!.next).toBe(id2);
    const renamed = renameNode(doc2, "wait_1", "first");
    expect(renamed.start).toBe("first");
    expect(Object.keys(removeNode(renamed, "exit_1").nodes)).toEqual(["first", "send_1", "wait_2"]);
    expect(removeNode(renamed, "exit_1").nodes.first).not.toHaveProperty("next");
  });
  it("lays out nodes without a position by depth", () => {
    const doc = blankJourney("j");
    doc.nodes.wait_1!.position = null;
    doc.nodes.exit_1!.position = null;
    const pos = layout(doc);
    expect(pos.exit_1!.x).toBeGreaterThan(pos.wait_1!.x);
  });
  it("says what a node does", () => {
    expect(fmtDuration(14400)).toBe("4h");
    expect(summary({ kind: "split", variants: [{ name: "remind", weight: 80 }], holdout: 20 })).toBe("remind 80% · holdout 20%");
  });
  it("says how people enter, after 'People enter when they'", () => {
    expect(entryText({ kind: "touchpoint", map: "shop", touchpoint: "Checkout (app)" })).toBe("reach Checkout (app) on map shop");
    expect(entryText({ kind: "touchpoint", map: "", touchpoint: "" })).toBe("reach a touchpoint (choose one) on map (choose one)");
    expect(entryText({ kind: "event", event: { event: "Cart Viewed" } })).toBe("do Cart Viewed");
    expect(entryText({ kind: "api" })).toBe("are entered through the API");
  });
});
