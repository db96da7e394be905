import { describe, expect, it } from "vitest";
import { describeReactions, pct, type Truth } from "./truth";

const truth: Truth = {
  planted: {
    arrivals: { app_share: 0.5, own_return: 0.15 },
    reactions: { click: { email: 0.3, sms: 0.45 }, template: { voucher: 1.5 }, night: [22, 7], night_factor: 0.35, fatigue: 0.6, buy_after_click: 0.7 },
    app_checkout: { payment_ok_web: 0.87, payment_ok_app: 0.6 },
  },
  measured: [],
};

describe("the planted truths in words", () => {
  it("says each effect with its size", () => {
    const lines = describeReactions(truth);
    expect(lines[0]).toBe("App checkout: payment goes through 60% of the time in the app, 87% on the web.");
    expect(lines[1]).toBe("A fresh message at a good hour brings its person back: email 30%, sms 45%.");
    expect(lines[3]).toContain("×0.35");
  });
  it("formats shares", () => {
    expect(pct(0.1575)).toBe("15.8%");
    expect(pct(null)).toBe("—");
  });
});
