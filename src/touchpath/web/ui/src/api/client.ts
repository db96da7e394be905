// The one way the client speaks to the server: openapi-fetch typed by the schema that
// scripts/build_ui.sh generates from the server's OpenAPI document, so a route or model that
// changes on either side fails `tsc`.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { errorMessage } from "./errors";

export type Schemas = components["schemas"];

/** An answer that was not 2xx: its status and the server's message (what and where). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

const csrf: Middleware = {
  onRequest({ request }) {
    // Session cookies are CSRF-protected: echo the token cookie on every change.
    if (request.method !== "GET" && request.method !== "HEAD") {
      const token = document.cookie.match(/(?:^|; )touchpath_csrf=([^;]*)/)?.[1];
      if (token) request.headers.set("X-CSRF-Token", decodeURIComponent(token));
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(csrf);

/** The data of an openapi-fetch answer, or an ApiError carrying the server's message. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    const { message, code } = errorMessage(response.status, error);
    throw new ApiError(response.status, message, code);
  }
  return data;
}

/** GET a route the OpenAPI document does not type in detail (plain JSON). */
export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const { message, code } = errorMessage(response.status, body);
    throw new ApiError(response.status, message, code);
  }
  return body as T;
}

/** Send a change to a route the OpenAPI document does not type in detail. */
export async function send<T = unknown>(method: "PUT" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = document.cookie.match(/(?:^|; )touchpath_csrf=([^;]*)/)?.[1];
  if (token) headers["X-CSRF-Token"] = decodeURIComponent(token);
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const { message, code } = errorMessage(response.status, data);
    throw new ApiError(response.status, message, code);
  }
  return data as T;
}
