// The snippets a new store shows for sending its first event (pure: Vitest checks them).

export function curlSnippet(origin: string, writeKey: string): string {
  return [
    `curl -u '${writeKey}:' -H 'Content-Type: application/json' \\`,
    `  -d '{"type":"track","event":"Signed Up","userId":"user-1"}' \\`,
    `  ${origin}/v1/track`,
  ].join("\n");
}

export function pythonSnippet(origin: string, writeKey: string): string {
  return [
    "# pip install segment-analytics-python",
    "import segment.analytics as analytics",
    "",
    `analytics.write_key = "${writeKey}"`,
    `analytics.host = "${origin}"`,
    'analytics.track("user-1", "Signed Up", {"plan": "free"})',
    "analytics.flush()",
  ].join("\n");
}

export function nodeSnippet(origin: string, writeKey: string): string {
  return [
    "// npm install @segment/analytics-node",
    'import { Analytics } from "@segment/analytics-node";',
    "",
    `const analytics = new Analytics({ writeKey: "${writeKey}", host: "${origin}" });`,
    'analytics.track({ userId: "user-1", event: "Signed Up", properties: { plan: "free" } });',
    "await analytics.closeAndFlush();",
  ].join("\n");
}
