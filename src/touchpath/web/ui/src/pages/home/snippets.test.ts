import { describe, expect, it } from "vitest";
import { curlSnippet, nodeSnippet, pythonSnippet } from "./snippets";

describe("first-event snippets", () => {
  it("send to this server with the write key as the Basic username", () => {
    const s = curlSnippet("http://127.0.0.1:8000", "wk_1");
    expect(s).toContain("-u 'wk_1:'");
    expect(s).toContain("http://127.0.0.1:8000/v1/track");
  });
  it("set the SDK host to this server", () => {
    expect(pythonSnippet("http://h:1", "k")).toContain('analytics.host = "http://h:1"');
    expect(nodeSnippet("http://h:1", "k")).toContain('host: "http://h:1"');
  });
});
