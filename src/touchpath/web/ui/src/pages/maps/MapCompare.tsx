// Two maps, or two versions of one, bound to the same events; the differences are listed and
// outlined on both maps. `?a=shop&b=shop@1` (name@version).
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, Query } from "../../components/States";
import { BoundMapView } from "./BoundMapView";
import { parseRef } from "./model";

export default function MapCompare() {
  const [params, setParams] = useSearchParams();
  const a = params.get("a") ?? "";
  const b = params.get("b") ?? "";
  const maps = useQuery({ queryKey: ["maps"], queryFn: () => unwrap(api.GET("/api/maps")) });
  const ra = parseRef(a);
  const rb = parseRef(b);
  const cmp = useQuery({
    queryKey: ["maps", "compare", a, b],
    queryFn: () =>
      unwrap(
        api.GET("/api/maps/compare", {
          params: { query: { a: ra.name, b: rb.name, a_version: ra.version ?? undefined, b_version: rb.version ?? undefined } },
        }),
      ),
    enabled: !!a && !!b,
  });
  const refs = (maps.data ?? []).flatMap((m) => [
    m.name,
    ...Array.from({ length: Math.max(0, (m.version ?? 0) - 1) }, (_, i) => `${m.name}@${(m.version ?? 0) - 1 - i}`),
  ]);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    next.set(k, v);
    setParams(next);
  };
  const marks = new Set((cmp.data?.differences ?? []).map((d) => d.mark));
  return (
    <>
      <p className="crumbs">
        <Link to="/maps">Journey maps</Link> /
      </p>
      <h1>Compare maps</h1>
      <div className="toolbar">
        {(["a", "b"] as const).map((k) => (
          <label key={k}>
            {k === "a" ? "First" : "Second"}
            <select value={k === "a" ? a : b} onChange={(e) => set(k, e.target.value)}>
              <option value="">choose a map…</option>
              {refs.map((r) => (
                <option key={r} value={r}>
                  {r.includes("@") ? `${parseRef(r).name}, version ${parseRef(r).version}` : `${r} (latest)`}
                </option>
              ))}
            </select>
          </label>
        ))}
      </div>
      {!a || !b ? (
        <Empty title="Choose two maps, or two versions of one" />
      ) : (
        <Query q={cmp} what="both maps">
          {(c) => (
            <>
              <section className="panel" aria-label="Differences">
                <h2>{c.differences.length === 0 ? "No differences" : `${c.differences.length} differences`}</h2>
                {c.differences.length > 0 && (
                  <table className="rows">
                    <thead>
                      <tr>
                        <th scope="col">Where</th>
                        <th scope="col">What</th>
                        <th scope="col">{a}</th>
                        <th scope="col">{b}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {c.differences.map((d, i) => (
                        <tr key={i}>
                          <td>{d.where}</td>
                          <td>{d.what}</td>
                          <td>{d.a}</td>
                          <td>{d.b}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <h2>{a}</h2>
              <BoundMapView bound={c.a} marks={marks} />
              <h2>{b}</h2>
              <BoundMapView bound={c.b} marks={marks} />
            </>
          )}
        </Query>
      )}
    </>
  );
}
