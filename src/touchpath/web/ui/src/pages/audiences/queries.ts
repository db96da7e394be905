// The audience builder's size preview, shared by the page and by `prefetchAudience` (main.tsx),
// which starts it for a new audience opened by its address while the page's code loads.
import type { QueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { type Cond, complete, decodeDraft, newPerformed } from "./conditions";

/** The draft a builder starts from: the one in the address (`?c=`), or any event once. */
export function startingDraft(params: URLSearchParams): Cond {
  return decodeDraft(params.get("c")) ?? { kind: "and", all: [newPerformed()] };
}

export function previewQuery(condition: Cond) {
  return {
    queryKey: ["audience-preview", condition],
    queryFn: () => unwrap(api.POST("/api/explore/audience-preview", { body: { condition } })),
  };
}

/** On the new-audience page, start the preview of its starting draft (when complete). */
export function prefetchAudience(client: QueryClient, pathname: string, params: URLSearchParams): void {
  if (pathname.replace(/\/+$/, "") !== "/audiences/new") return;
  const draft = startingDraft(params);
  if (complete(draft)) void client.prefetchQuery(previewQuery(draft));
}
