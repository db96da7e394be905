// Who is signed in: /api/auth/me, read once and shared; a 401 anywhere asks for it again.
import { useQuery } from "@tanstack/react-query";
import { api, ApiError, type Schemas, unwrap } from "../api/client";

export type Me = Schemas["Me"];
const RANK: Record<string, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: () => unwrap(api.GET("/api/auth/me")),
    retry: false,
    staleTime: 60_000,
  });
}

/** Whether `me` may do what `role` may (owner > admin > editor > viewer). */
export function can(me: Me | undefined, role: "viewer" | "editor" | "admin" | "owner"): boolean {
  return !!me && (RANK[me.role] ?? 0) >= RANK[role]!;
}

export function isSignedOut(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}
