// Two maps, or two versions of one, bound to the same events; the differences are listed and
// outlined on both maps. `?a=shop&b=shop@1` (name@version). Or one map for two arms of a saved
// experiment, side by side: `?a=shop&experiment=reminder` (the control against the other arm;
// `&arms=remind,holdout` to choose).
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
  const experiment = params.get("experiment") ?? "";
  const arms = (params.get("arms") ?? "").split(",").filter(Boolean);
  const maps = useQuery({ queryKey: ["maps"], queryFn: () => unwrap(api.GET("/api/maps")) });
  const ra = parseRef(a);
  const rb = parseRef(b);
  const experiments = useQuery({
    queryKey: ["experiments"],
    queryFn: () => unwrap(api.GET("/api/experiments")),
  });
  const cmp = useQuery({
    queryKey: ["maps", "compare", a, b, experiment, arms.join(",")],
    queryFn: () =>
      unwrap(
        api.GET("/api/maps/compare", {
          params: {
            query: experiment
              ? { a: ra.name, a_version: ra.version ?? undefined, experiment, arms: arms.length ? arms : undefined }
              : { a: ra.name, b: rb.name, a_version: ra.version ?? undefined, b_version: rb.version ?? undefined },
          },
        }),
      ),
    enabled: !!a && (!!b || !!experiment),
  });
  const refs = (maps.data ?? []).flatMap((m) => [
    m.name,
    ...Array.from({ length: Math.max(0, (m.version ?? 0) - 1) }, (_, i) => `${m.name}@${(m.version ?? 0) - 1 - i}`),
  ]);
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k === "experiment") next.delete("arms");
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
        {(experiment ? (["a"] as const) : (["a", "b"] as const)).map((k) => (
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
        <label>
          Arms of an experiment
          <select value={experiment} onChange={(e) => set("experiment", e.target.value)}>
            <option value="">none: compare two maps</option>
            {(experiments.data ?? []).map((x) => (
              <option key={x.name} value={x.name}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!a || (!b && !experiment) ? (
        <Empty title="Choose two maps, two versions of one, or a map and an experiment" />
      ) : (
        <Query q={cmp} what="both maps">
          {(c) => {
            const [la = a, lb = b] = c.labels ?? [a, b];
            const title = (label: string, i: number) =>
              c.labels ? `${ra.name} · arm ${label} (${(c.sizes?.[i] ?? 0).toLocaleString()} people)` : label;
            return (
            <>
              <section className="panel" aria-label="Differences">
                <h2>{c.differences.length === 0 ? "No differences" : `${c.differences.length} differences`}</h2>
                {c.differences.length > 0 && (
                  <table className="rows">
                    <thead>
                      <tr>
                        <th scope="col">Where</th>
                        <th scope="col">What</th>
                        <th scope="col">{la}</th>
                        <th scope="col">{lb}</th>
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
              <h2>{title(la, 0)}</h2>
              <BoundMapView bound={c.a} marks={marks} />
              <h2>{title(lb, 1)}</h2>
              <BoundMapView bound={c.b} marks={marks} />
            </>
            );
          }}
        </Query>
      )}
    </>
  );
}
