"""Benchmark: the web app on the 1M-event demo, driven by Playwright in Debian's chromium.

For each page it times, from navigation, how long the first numbers take to show (the selector
that holds them becomes visible), and for the pages that change as you edit (the events
breakdown, the audience preview, a funnel's step, the paths' event) how long a change takes to
show (until the table shows the new result, not the old one kept while it loads); beside each, the floor: the
same REST request alone (httpx, no browser), in the same run, interleaved; and the CPU seconds
of this process (the in-process server's threads and DuckDB's, plus the harness) during each
(see `CPU`), since on a shared machine wall time says little. The journey copy is
fresh (`touchpath optimize`) and the server's map cache is warm (it binds every listed map at
start; the time that took is printed too, as the cold bind the cache saves).

The store is a copy of bench/out/insights_1M.duckdb (the demo, seed 7) or the demo built by
bench/stores.py, kept as bench/out/webapp_1M.duckdb. Run: `python bench/webapp.py` after
scripts/setup.sh (the client must be built). Not run in CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from stores import OUT, demo_store  # bench/stores.py, beside this file

from touchpath import access
from touchpath.analytics import journey
from touchpath.maps.library import get_map, list_maps
from touchpath.settings import Settings
from touchpath.store import Store
from touchpath.web import spa
from touchpath.web.server import serving

CHROMIUM = "/usr/bin/chromium"
BY_TYPE = {"match": {"event": "Product Viewed"}, "interval": "day", "breakdown": "type"}
PASSWORD = "correct horse battery staple"
START = time.perf_counter()


def store_path() -> Path:
    mine = OUT / "webapp_1M.duckdb"
    if not mine.exists():
        src = OUT / "insights_1M.duckdb"
        shutil.copyfile(src if src.exists() else demo_store("1M"), mine)
    return mine


RESOURCES = """() => performance.getEntriesByType('resource').map(e => [new URL(e.name).pathname,
    e.startTime, e.responseEnd])"""

WATCH = """(() => {
  // In the page, from navigation start: when the selector saved in sessionStorage first
  // matched a visible element (a MutationObserver, right after React's commit) and the frame
  // after it (painted). The harness's own latency (Playwright's messages, the GIL it shares
  // with the in-process server) is then apart from what the page did.
  const sel = sessionStorage.getItem('__bench_sel');
  if (!sel) return;
  window.__bench = {};
  const look = () => {
    if (window.__bench.seen !== undefined) return;
    const el = document.querySelector(sel);
    if (el && el.getClientRects().length) {
      window.__bench.seen = performance.now();
      requestAnimationFrame(() => setTimeout(() => { window.__bench.painted = performance.now(); }, 0));
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
})();"""


def timed(page: Any, url: str, selector: str, where: list[str] | None = None) -> float:
    """Seconds from navigation until `selector` shows; with `where`, appends where the time
    went: when the page's first /api request started and when its last one before the numbers
    was answered, and when the ECharts chunk arrived (ms from navigation start, the browser's
    own Resource Timing)."""
    if where is not None:
        page.evaluate("s => sessionStorage.setItem('__bench_sel', s)", selector)
    t = time.perf_counter()
    page.goto(url)
    page.locator(selector).first.wait_for(timeout=300_000)
    seconds = time.perf_counter() - t
    if where is not None:
        page.wait_for_function("() => window.__bench && window.__bench.painted !== undefined")
        seen = page.evaluate("() => window.__bench")
        page.evaluate("() => sessionStorage.removeItem('__bench_sel')")
        IN_PAGE.setdefault(where_name(where), []).append(seen["painted"] / 1000)
        where.append(breakdown(page.evaluate(RESOURCES), seen))
    return seconds


def where_name(where: list[str]) -> str:
    return next(k for k, v in WHERE.items() if v is where)


def breakdown(entries: list[tuple[str, float, float]], seen: dict[str, float]) -> str:
    """`api 412-655 ms (3) · echarts 480 ms · page chunk 210 ms` from Resource Timing entries."""
    api = [(a, b) for p, a, b in entries if p.startswith("/api/") and not p.startswith("/api/auth")]
    chunks = [b for p, _, b in entries if p.startswith("/assets/") and p.endswith(".js")]
    echarts = sorted(b for p, _, b in entries if "/assets/echarts" in p)[-1:]
    parts = []
    if api:
        parts.append(f"api {min(a for a, _ in api):.0f}-{max(b for _, b in api):.0f} ms "
                     f"({len(api)})")  # fmt: skip
    if chunks:
        parts.append(f"js done {max(chunks):.0f} ms")
    if echarts:
        parts.append(f"echarts {echarts[0]:.0f} ms")
    parts.append(f"numbers in the page {seen['seen']:.0f} ms, painted {seen['painted']:.0f} ms")
    return " · ".join(parts)


def api_time(fn: Callable[[], httpx.Response]) -> float:
    t = time.perf_counter()
    r = fn()
    r.raise_for_status()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dist", type=Path, help="serve this build of the client instead "
                        "(e.g. one built from an older commit, to compare)")  # fmt: skip
    args = parser.parse_args()
    if args.dist is not None:
        spa.DIST = args.dist.resolve()
        print(f"serving the client built in {spa.DIST}")
    path = store_path()
    settings = Settings(db=path, port=0)
    with Store(path, settings) as store:
        n = store.query("SELECT count(*) FROM events")[0][0]
        journey.optimize(store)
        if not access.list_users(store):
            access.create_user(store, "bench@example.com", "owner", PASSWORD)
        token = access.create_token(store, "owner", "bench")[1]
        user = store.query(
            "SELECT user_id FROM events WHERE event = 'Order Completed' AND user_id IS NOT NULL "
            "LIMIT 1"
        )[0][0]
        docs = [get_map(store, e.name)[0] for e in list_maps(store)]
        with serving(settings, store, startup=600) as url:
            h = {"Authorization": f"Bearer {token}"}
            http = httpx.Client(base_url=url, headers=h, timeout=900)
            t = time.perf_counter()  # the cache warms at start; wait until every map is bound
            for d in docs:
                http.get(f"/api/maps/{d.name}/bind")
            warm = time.perf_counter() - t
            rows = run(url, http, user, args.repeat)
    load = os.getloadavg()
    print(f"\nweb app on the 1M demo ({n:,} events), median of {args.repeat}; "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")  # fmt: skip
    print(f"map cache warm-up at server start (binding {len(docs)} maps): {warm:.2f} s\n")
    print(f"| {'page / action':<44} | {'browser, s':>10} | {'in the page, s':>14} | "
          f"{'API alone, s':>12} | {'server CPU-s, page':>18} | {'CPU-s, API alone':>16} |")  # fmt: skip
    print(f"| {'-' * 44} | {'-' * 10}: | {'-' * 14}: | {'-' * 12}: | {'-' * 18}: | {'-' * 16}: |")
    for name, b, a in rows:
        inside = IN_PAGE.get(name)
        cell = f"{statistics.median(inside):.3f}" if inside else "–"
        cpu_page, cpu_api = CPU.get(name, ([], []))
        cp = f"{statistics.median(cpu_page):.3f}" if cpu_page else "–"
        ca = f"{statistics.median(cpu_api):.3f}" if cpu_api else "–"
        print(f"| {name:<44} | {b:>10.3f} | {cell:>14} | {a:>12.3f} | {cp:>18} | {ca:>16} |")
    ru_self, ru_kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    cpu = ru_self.ru_utime + ru_self.ru_stime + ru_kids.ru_utime + ru_kids.ru_stime
    print(f"\nCPU seconds of the whole run (server and bench in-process, plus children: "
          f"chromium): {cpu:.1f} s over {time.perf_counter() - START:.1f} s wall")  # fmt: skip
    print("\nwhere the time went (last run; ms from navigation start, Resource Timing):")
    for name, seen in WHERE.items():
        if seen:
            print(f"  {name}: {seen[-1]}")


def _pages(
    http: httpx.Client, user: str
) -> list[tuple[str, str, str, Callable[[], httpx.Response]]]:
    """Each page: its name, path, the selector of its first numbers, and its API call alone."""
    trend = {"match": {"event": "Product Viewed"}, "interval": "day", "breakdown": "channel"}
    # The new-audience page's own request: its starting draft, any event at least once.
    cond = {"condition": {"kind": "and", "all": [{"kind": "performed", "at_least": 1,
                                                  "event": {"event": None, "where": []}}]}}  # fmt: skip
    pages: list[tuple[str, str, str, Callable[[], httpx.Response]]] = [
        ("Home: day's counts", "/", ".card-value",
         lambda: http.get("/api/explore/summary")),
        ("Events: trend by channel", "/events?event=Product+Viewed&breakdown=channel",
         "[aria-label=Trend] .card-value", lambda: http.post("/api/explore/trend", json=trend)),
        ("People: search", "/people?q=u_00001", "table[aria-label=People] td a",
         lambda: http.get("/api/explore/people", params={"q": "u_00001"})),
        ("Person: timeline", f"/people/{user}", "details.session",
         lambda: http.get(f"/api/profiles/{user}/timeline", params={"limit": 1000})),
        ("Audiences: new, size preview", "/audiences/new", ".big-number",
         lambda: http.post("/api/explore/audience-preview", json=cond)),
        ("Journey map: first-purchase (cached)", "/maps/demo-first-purchase",
         ".jstage dd", lambda: http.get("/api/maps/demo-first-purchase/bind")),
        ("Compare: first-purchase vs support", "/maps/compare?a=demo-first-purchase&b=demo-support",
         ".jstage dd", lambda: http.get("/api/maps/compare", params={"a": "demo-first-purchase",
                                                                      "b": "demo-support"})),
    ]  # fmt: skip
    return pages + analysis_pages(http)


def run(url: str, http: httpx.Client, user: str, repeat: int) -> list[tuple[str, float, float]]:
    from playwright.sync_api import sync_playwright

    pages = _pages(http, user)
    results: dict[str, tuple[list[float], list[float]]] = {p[0]: ([], []) for p in pages}
    WHERE.clear()
    WHERE.update({p[0]: [] for p in pages})
    IN_PAGE.clear()
    CPU.clear()
    for name in CHANGES:
        results[name] = ([], [])
    results["Events: change the breakdown (re-render)"] = ([], [])
    results["Journey map, from the maps list (in-app link)"] = ([], [])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        ctx = browser.new_context(viewport={"width": 1360, "height": 900})
        r = ctx.request.post(f"{url}/api/auth/login",
                             data={"email": "bench@example.com", "password": PASSWORD})  # fmt: skip
        assert r.ok, r.text()
        ctx.add_init_script(WATCH)
        page = ctx.new_page()
        page.goto(url + "/")  # load the assets once
        page.locator(".card-value").first.wait_for(timeout=300_000)
        for _ in range(repeat):
            for name, path, sel, call in pages:  # interleaved: browser, then the API alone
                c = time.process_time()
                results[name][0].append(timed(page, url + path, sel, WHERE[name]))
                CPU.setdefault(name, ([], []))[0].append(time.process_time() - c)
                c = time.process_time()
                results[name][1].append(api_time(call))
                CPU[name][1].append(time.process_time() - c)
            page.goto(url + "/events?event=Product+Viewed&breakdown=channel")
            page.locator("table[aria-label='Events by channel']").wait_for(timeout=300_000)
            box = page.get_by_role("combobox", name="Break down by")
            box.fill("type")
            t = time.perf_counter()
            page.get_by_role("button", name="Apply").click()
            page.locator("table[aria-label='Events by type']").wait_for(timeout=300_000)
            results["Events: change the breakdown (re-render)"][0].append(time.perf_counter() - t)
            results["Events: change the breakdown (re-render)"][1].append(
                api_time(lambda: http.post("/api/explore/trend", json=BY_TYPE))
            )
            page.goto(url + "/maps")
            link = page.get_by_role("link", name="Northwind Outfitters · first purchase")
            link.wait_for(timeout=300_000)
            t = time.perf_counter()
            link.click()
            page.locator(".jstage dd").first.wait_for(timeout=300_000)
            results["Journey map, from the maps list (in-app link)"][0].append(
                time.perf_counter() - t
            )
            results["Journey map, from the maps list (in-app link)"][1].append(
                api_time(lambda: http.get("/api/maps/demo-first-purchase/bind"))
            )
            for name, change in CHANGES.items():
                c = time.process_time()
                b, a = change(page, url, http)
                CPU.setdefault(name, ([], []))[0].append(time.process_time() - c)
                results[name][0].append(b)
                results[name][1].append(a)
        browser.close()
    return [(k, statistics.median(b), statistics.median(a)) for k, (b, a) in results.items()]


WHERE: dict[str, list[str]] = {}
"""Per page, each run's Resource Timing summary (see `breakdown`)."""
CPU: dict[str, tuple[list[float], list[float]]] = {}
"""Per page, each run's CPU seconds of this process (the server's threads and DuckDB's, plus
the harness: Playwright's client, httpx) while the page loaded and while its API call ran
alone; chromium is a child process, not in these. For a change: the whole change (the page's
first load, the edit and the API call alone)."""
IN_PAGE: dict[str, list[float]] = {}
"""Per page, each run's seconds from navigation start to the numbers painted, in the page."""

FUNNEL = ["Product Viewed", "Checkout Started"]
DASHBOARD = {"funnel": {"kind": "funnel", "steps": [{"event": e} for e in
                        ["Product Viewed", "Checkout Started", "Order Completed"]], "window": "7d"},
             "attribution": {"kind": "attribution"},
             "feedback": {"kind": "feedback"}}  # fmt: skip


def analysis_pages(http: httpx.Client) -> list[tuple[str, str, str, Callable[[], httpx.Response]]]:
    """The analysis pages, each with the selector of its first numbers and its request alone; a
    dashboard of three saved insights (its floor: the three results read one after another)."""
    for name, spec in DASHBOARD.items():
        http.put(f"/api/insights/bench {name}", json={"spec": spec}).raise_for_status()
    names = [f"bench {n}" for n in DASHBOARD]
    http.put("/api/dashboards/bench", json={"insights": names}).raise_for_status()
    funnel = {"steps": DASHBOARD["funnel"]["steps"], "window": "7d"}
    dfg = {"case": "session", "exclude": [], "top_k": 25, "min_frequency": 1}
    variants = {"case": "session", "exclude": [], "limit": 15}

    def board() -> httpx.Response:
        for n in names:
            r = http.get(f"/api/insights/{n}/result")
            r.raise_for_status()
        return r

    def both(a: str, b: str, body_a: Any, body_b: Any) -> Callable[[], httpx.Response]:
        return lambda: (http.post(a, json=body_a), http.post(b, json=body_b))[1]

    return [
        ("Funnel: 3 steps, 7 days", "/insights/funnel?s=Product+Viewed&s=Checkout+Started"
         "&s=Order+Completed&window=7d", "table[aria-label='Funnel steps and conversion'] td.num",
         lambda: http.post("/api/analyses/funnel", json=funnel)),
        ("Paths from Home", "/insights/paths?event=Home", "table[aria-label='Most common paths'] td",
         lambda: http.post("/api/analyses/paths", json={"start": {"event": "Home"}, "end": None,
                           "steps": 5, "collapse_repeats": False, "top_edges": 60})),
        ("Retention: weekly", "/insights/retention", "section[aria-label='Retention chart'] .card-value",
         lambda: http.post("/api/analyses/retention", json={"cohort_event": {}, "return_event": None,
                           "period": "week", "periods": 8})),
        ("Process discovery: graph + variants", "/insights/discovery",
         "table[aria-label='Busiest transitions'] td.num",
         both("/api/analyses/dfg", "/api/analyses/variants", dfg, variants)),
        ("Attribution: six models", "/insights/attribution", "table[aria-label='Credit by model'] td.num",
         lambda: http.post("/api/analyses/attribution", json={"conversion": {"event": "Order Completed"},
                           "by": "channel", "touch": "session", "lookback": "30d"})),
        ("Feedback per touchpoint", "/insights/feedback", "table[aria-label='Feedback per touchpoint'] td.num",
         lambda: http.post("/api/analyses/feedback", json={"touchpoint_property": "touchpoint",
                           "phrases": 5})),
        ("Dashboard: 3 insights", "/dashboards/bench", ".tile-summary", board),
    ]  # fmt: skip


CHANGE_WATCH = """([table, text]) => {
  // In the page: from the next click (the Show button) until a cell of `table` reads `text`
  // (or, for a funnel, starts with it) and the frame after it: the page's own clock, apart
  // from Playwright's polling and messages.
  window.__change = {};
  const found = () => [...document.querySelectorAll(table + ' td')].some(
    (td) => td.textContent.trim() === text || td.textContent.trim().startsWith(text + ' '));
  const observer = new MutationObserver(() => {
    if (window.__change.t0 === undefined || window.__change.seen !== undefined || !found()) return;
    window.__change.seen = performance.now();
    observer.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__change.painted = performance.now(); }, 0));
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('click', () => { window.__change.t0 = performance.now(); },
                            { capture: true, once: true });
}"""


def in_page_change(page: Any, name: str) -> None:
    """Keeps the seconds from the click to the new result painted, by the page's clock."""
    page.wait_for_function("() => window.__change && window.__change.painted !== undefined")
    got = page.evaluate("() => window.__change")
    IN_PAGE.setdefault(name, []).append((got["painted"] - got["t0"]) / 1000)


def change_funnel(page: Any, url: str, http: httpx.Client) -> tuple[float, float]:
    """A funnel's third step changed in the form: from Show funnel until the table names it."""
    page.goto(url + "/insights/funnel?" + "&".join(f"s={e.replace(' ', '+')}" for e in FUNNEL)
              + "&s=Order+Completed&window=7d")  # fmt: skip
    table = page.get_by_role("table", name="Funnel steps and conversion")
    table.wait_for(timeout=300_000)
    page.get_by_role("combobox", name="Step 3").fill("Payment Info Entered")
    page.evaluate(CHANGE_WATCH, ["table[aria-label='Funnel steps and conversion']",
                                 "3. Payment Info Entered"])  # fmt: skip
    t = time.perf_counter()
    page.get_by_role("button", name="Show funnel").click()
    table.get_by_text("3. Payment Info Entered").wait_for(timeout=300_000)
    b = time.perf_counter() - t
    in_page_change(page, "Funnel: change a step (re-render)")
    body = {"steps": [{"event": e} for e in [*FUNNEL, "Payment Info Entered"]], "window": "7d"}
    return b, api_time(lambda: http.post("/api/analyses/funnel", json=body))


def change_paths(page: Any, url: str, http: httpx.Client) -> tuple[float, float]:
    """The paths' event changed from Home to Category: until the top path is Category's."""
    body = {"start": {"event": "Category"}, "end": None, "steps": 5, "collapse_repeats": False,
            "top_edges": 60}  # fmt: skip
    top = " → ".join(http.post("/api/analyses/paths", json=body).json()["top_paths"][0]["path"])
    page.goto(url + "/insights/paths?event=Home")
    table = page.get_by_role("table", name="Most common paths")
    table.wait_for(timeout=300_000)
    page.get_by_role("combobox", name="Event").fill("Category")
    page.evaluate(CHANGE_WATCH, ["table[aria-label='Most common paths']", top])
    t = time.perf_counter()
    page.get_by_role("button", name="Show paths").click()
    table.get_by_role("cell", name=top, exact=True).first.wait_for(timeout=300_000)
    b = time.perf_counter() - t
    in_page_change(page, "Paths: change the event (re-render)")
    return b, api_time(lambda: http.post("/api/analyses/paths", json=body))


CHANGES: dict[str, Callable[[Any, str, httpx.Client], tuple[float, float]]] = {
    "Funnel: change a step (re-render)": change_funnel,
    "Paths: change the event (re-render)": change_paths,
}


if __name__ == "__main__":
    main()
