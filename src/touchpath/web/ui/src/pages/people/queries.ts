// The person page's requests, shared by the page and by `prefetchPerson` (main.tsx), which
// starts them while the page's code loads. Both are keyed by the reference in the address (a
// profile id or any identifier: the server resolves it), so neither waits for the other.
import type { QueryClient } from "@tanstack/react-query";
import { getJson } from "../../api/client";
import type { Profile, Timeline } from "./types";

/** Events per timeline request; a longer timeline asks for its newest page next. */
export const TIMELINE_LIMIT = 1000;

export function profileQuery(ref: string) {
  return {
    queryKey: ["profile", ref],
    // Without the consent history, which the page does not show (it reads the person's events).
    queryFn: () => getJson<Profile>(`/api/profiles/${encodeURIComponent(ref)}?consent=false`),
  };
}

export function timelineQuery(ref: string) {
  return {
    queryKey: ["profile", ref, "timeline"],
    queryFn: async () => {
      // Most people fit one page; for the others, the newest page is asked for next.
      const base = `/api/profiles/${encodeURIComponent(ref)}/timeline?limit=${TIMELINE_LIMIT}`;
      const first = await getJson<Timeline>(base);
      if (first.total <= TIMELINE_LIMIT) return first;
      return getJson<Timeline>(`${base}&offset=${first.total - TIMELINE_LIMIT}`);
    },
  };
}

/** The reference of a person's page address (`/people/{ref}`), or null for another page. */
export function personRef(pathname: string): string | null {
  const m = /^\/people\/([^/]+)\/?$/.exec(pathname);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/** On a person's page, start its profile and timeline requests side by side. */
export function prefetchPerson(client: QueryClient, pathname: string): void {
  const ref = personRef(pathname);
  if (ref === null) return;
  void client.prefetchQuery(profileQuery(ref));
  void client.prefetchQuery(timelineQuery(ref));
}
