import { Suspense } from "react";
import { NavLink, Outlet } from "react-router";
import { Loading } from "../components/States";
import { NAV } from "./nav";

export function Shell() {
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
          {NAV.map((section) => (
            <div key={section.title || "top"} className="nav-section">
              {section.title && <div className="nav-title">{section.title}</div>}
              {section.items.map((item) => (
                <NavLink key={item.to} to={item.to} end={item.to === "/"}>
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
      </aside>
      <main id="main" className="content">
        <Suspense fallback={<Loading what="the page" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
