// Turns the server's error bodies into one readable line. Touchpath answers
// {"success": false, "error": {"code", "message"}}; FastAPI's validation answers {"detail": [...]}.

export interface ReadableError {
  message: string;
  code?: string;
}

interface Detail {
  loc?: (string | number)[];
  msg?: string;
}

export function errorMessage(status: number, body: unknown): ReadableError {
  if (body && typeof body === "object") {
    const b = body as { error?: { code?: string; message?: string }; detail?: unknown };
    if (b.error?.message) return { message: b.error.message, code: b.error.code };
    if (typeof b.detail === "string") return { message: b.detail };
    if (Array.isArray(b.detail)) {
      const parts = (b.detail as Detail[]).map((d) => {
        const where = (d.loc ?? []).filter((p) => p !== "body" && p !== "query").join(".");
        return where ? `${where}: ${d.msg ?? "invalid"}` : (d.msg ?? "invalid");
      });
      if (parts.length) return { message: parts.join("; ") };
    }
  }
  if (status === 0) return { message: "The server cannot be reached." };
  return { message: `The server answered ${status}.` };
}
