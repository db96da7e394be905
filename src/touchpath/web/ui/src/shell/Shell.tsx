import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Suspense } from "react";
import { NavLink, Outlet } from "react-router";
import { api, unwrap } from "../api/client";
import { can, isSignedOut, useMe } from "../auth/session";
import { SignIn } from "../auth/SignIn";
import { ErrorBox, Loading } from "../components/States";
import { ADMIN_NAV, NAV } from "./nav";

export function Shell() {
  const me = useMe();
  const queries = useQueryClient();
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST("/api/auth/logout")),
    onSettled: () => {
      queries.removeQueries({ predicate: (q) => q.queryKey[0] !== "me" });
      void queries.invalidateQueries({ queryKey: ["me"] });
    },
  });
  // The page renders while /api/auth/me is asked (its queries run in parallel, no waterfall);
  // a 401 shows the sign-in in its place.
  if (isSignedOut(me.error)) return <SignIn />;
  if (me.error) return <ErrorBox error={me.error} retry={() => void me.refetch()} />;
  const nav = can(me.data, "admin") ? [...NAV, ADMIN_NAV] : NAV;
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <NavLink to="/" className="brand" aria-label="Touchpath home">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Touchpath
        </NavLink>
        <nav aria-label="Main">
          {nav.map((section) => (
            <div key={section.title || "top"} className="nav-section">
              {section.title && <div className="nav-title">{section.title}</div>}
              {section.items.map((item) => (
                <NavLink key={item.to} to={item.to} end={item.to === "/" || item.end}>
                  {item.label}
                </NavLink>
              ))}
            </div>
          ))}
          <div className="nav-section">
            <div className="nav-title">Developers</div>
            <a href="/docs">REST API</a>
          </div>
        </nav>
        <div className="whoami">
          <span>{me.data ? (me.data.email ?? `token ${me.data.token_prefix ?? ""}`) : ""}</span>
          <span className="role">{me.data?.role}</span>
          {me.data?.kind === "session" && (
            <button type="button" onClick={() => logout.mutate()}>
              Sign out
            </button>
          )}
        </div>
      </aside>
      <main id="main" className="content">
        <Suspense fallback={<Loading what="the page" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
