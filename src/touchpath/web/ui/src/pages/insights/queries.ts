// The analysis pages' first requests, as TanStack Query options shared by each page and by
// `prefetchPage`: on a full page load (a pasted address) main.tsx starts the page's requests
// at once, beside the download of its code, instead of after it (the waterfall
// index -> page chunk -> request).
import type { QueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { attributionSpec, readAttribution } from "./attribution";
import { dfgSpec, readDiscovery, variantsSpec } from "./discovery";
import { feedbackSpec, readFeedback } from "./feedback";
import { type FunnelState, funnelSpec, readFunnel, ready } from "./funnel";
import { pathsSpec, readPaths } from "./paths";
import { readRetention, retentionSpec } from "./retention";

export function funnelQuery(state: FunnelState) {
  const body = funnelSpec(state);
  return { queryKey: ["funnel", body], queryFn: () => unwrap(api.POST("/api/analyses/funnel", { body })) };
}

export function pathsQuery(state: ReturnType<typeof readPaths>) {
  const body = pathsSpec(state);
  return { queryKey: ["paths", body], queryFn: () => unwrap(api.POST("/api/analyses/paths", { body })) };
}

export function retentionQuery(state: ReturnType<typeof readRetention>) {
  const body = retentionSpec(state);
  return { queryKey: ["retention", body], queryFn: () => unwrap(api.POST("/api/analyses/retention", { body })) };
}

export function dfgQuery(state: ReturnType<typeof readDiscovery>) {
  const { kind: _k, ...body } = dfgSpec(state);
  return { queryKey: ["dfg", body], queryFn: () => unwrap(api.POST("/api/analyses/dfg", { body })) };
}

export function variantsQuery(state: ReturnType<typeof readDiscovery>) {
  const { kind: _k, ...body } = variantsSpec(state);
  return { queryKey: ["variants", body], queryFn: () => unwrap(api.POST("/api/analyses/variants", { body })) };
}

export function attributionQuery(state: ReturnType<typeof readAttribution>) {
  const { kind: _k, ...body } = attributionSpec(state);
  return { queryKey: ["attribution", body], queryFn: () => unwrap(api.POST("/api/analyses/attribution", { body })) };
}

export function feedbackQuery(state: ReturnType<typeof readFeedback>) {
  const { kind: _k, ...body } = feedbackSpec(state);
  return { queryKey: ["feedback", body], queryFn: () => unwrap(api.POST("/api/analyses/feedback", { body })) };
}

/** Start the requests the analysis page at `pathname` makes first (nothing for other pages). */
export function prefetchPage(client: QueryClient, pathname: string, params: URLSearchParams): void {
  const go = (q: { queryKey: unknown[]; queryFn: () => Promise<unknown> }) => void client.prefetchQuery(q);
  switch (pathname.replace(/\/+$/, "")) {
    case "/insights/funnel": {
      const state = readFunnel(params);
      if (ready(state)) go(funnelQuery(state));
      break;
    }
    case "/insights/paths":
      go(pathsQuery(readPaths(params)));
      break;
    case "/insights/retention":
      go(retentionQuery(readRetention(params)));
      break;
    case "/insights/discovery":
      go(dfgQuery(readDiscovery(params)));
      go(variantsQuery(readDiscovery(params)));
      break;
    case "/insights/attribution":
      go(attributionQuery(readAttribution(params)));
      break;
    case "/insights/feedback":
      go(feedbackQuery(readFeedback(params)));
      break;
  }
}
