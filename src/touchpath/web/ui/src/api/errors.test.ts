import { describe, expect, it } from "vitest";
import { errorMessage } from "./errors";

describe("errorMessage", () => {
  it("reads Touchpath's error body", () => {
    const body = { success: false, error: { code: "spec", message: "steps[1].event: required" } };
    expect(errorMessage(400, body)).toEqual({ message: "steps[1].event: required", code: "spec" });
  });
  it("joins FastAPI validation details with their location", () => {
    const body = { detail: [{ loc: ["query", "limit"], msg: "must be <= 1000" }] };
    expect(errorMessage(422, body).message).toBe("limit: must be <= 1000");
  });
  it("falls back to the status", () => {
    expect(errorMessage(502, "oops").message).toBe("The server answered 502.");
  });
});
