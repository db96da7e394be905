import { describe as suite, expect, it } from "vitest";
import { describeMapping, describePolicy, describeWhat, hhmm, pairsToObject } from "./rules";

suite("forwarding rules and the send policy in words", () => {
  it("say what a rule forwards", () => {
    expect(describeWhat({ destination: "crm", sources: ["web"], match: [{ event: "Order Completed", where: [{ property: "revenue", op: "gte", value: 50 }] }] })).toBe(
      "Order Completed where revenue ≥ 50, from web",
    );
    expect(describeWhat({ destination: "crm" })).toBe("every event, from every source");
    expect(describeWhat({ destination: "ads", format: "audience", audiences: ["vip"] })).toBe("people entering and leaving vip, as list updates");
  });
  it("say how it changes each event", () => {
    expect(describeMapping({ destination: "crm", mapping: { rename: { "properties.revenue": "properties.value" }, drop: ["context.ip"], set: { "properties.tier": "{{ 1 }}" } } })).toEqual([
      "renames properties.revenue to properties.value",
      "drops context.ip",
      "sets properties.tier to {{ 1 }}",
    ]);
    expect(pairsToObject([["a", "b"], [" ", "x"], ["c", ""]])).toEqual({ a: "b" });
  });
  it("read the policy", () => {
    expect(describePolicy({ caps: { sms: 2, email: 1 }, quiet_hours: { start: "21:00:00", end: "08:00:00", channels: ["sms", "push"] }, fallback_timezone: "Europe/Berlin" })).toEqual([
      "Each person gets at most 2 SMS, 1 email a day (their own calendar day); one more is not sent.",
      "No SMS or push notifications between 21:00 and 08:00 in the person's time zone: they wait until 08:00, they are not dropped.",
      "A person's time zone is their timezone trait, else the latest one their events sent, else Europe/Berlin.",
    ]);
    expect(describePolicy({})[0]).toMatch(/^No frequency caps/);
    expect(hhmm(undefined, "08:00")).toBe("08:00");
  });
});
