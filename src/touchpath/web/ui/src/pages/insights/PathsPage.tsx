// Paths: where people go from an event (or how they reach it), as a Sankey; the state is in the
// address, and a change re-renders from one request.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useEventNames } from "../../api/lookups";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { SaveInsight } from "../../components/SaveInsight";
import { Empty, Query } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { pathsSpec, readPaths, sankeyOption, writePaths } from "./paths";
import { pathsQuery } from "./queries";

export default function PathsPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readPaths(params), [params]);
  const [s, setS] = useState(state);
  useEffect(() => setS(state), [state]);
  const names = useEventNames();
  const result = useQuery({
    ...pathsQuery(state),
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setParams(writePaths(s));
  };
  return (
    <>
      <div className="title-row">
        <h1>Paths</h1>
        <SaveInsight
          spec={{ kind: "paths", ...pathsSpec(state) }}
          suggested={state.anchor ? `Paths ${state.direction === "from" ? "from" : "to"} ${state.anchor}` : "Paths"}
        />
      </div>
      <form className="panel toolbar" onSubmit={apply} aria-label="Paths">
        <label>
          Paths
          <select value={s.direction} onChange={(e) => setS({ ...s, direction: e.target.value as "from" | "to" })}>
            <option value="from">starting at</option>
            <option value="to">ending at</option>
          </select>
        </label>
        <Suggest
          label="Event"
          value={s.anchor}
          placeholder="any event"
          onChange={(anchor) => setS({ ...s, anchor })}
          options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
          width={240}
        />
        <label>
          Steps
          <input type="number" min={2} max={20} value={s.steps} onChange={(e) => setS({ ...s, steps: Number(e.target.value) })} style={{ width: 70 }} />
        </label>
        <label className="inline">
          <input type="checkbox" checked={s.collapse} onChange={(e) => setS({ ...s, collapse: e.target.checked })} /> Collapse
          repeats
        </label>
        <button type="submit" className="primary">
          Show paths
        </button>
      </form>
      <Query q={result} what="the paths">
        {(r) =>
          r.total === 0 ? (
            <Empty title="No paths match" />
          ) : (
            <>
              <section className="panel" aria-label="Paths chart">
                <p className="hint">
                  {fmtInt(r.total)} journeys {state.anchor ? `${state.direction === "from" ? "from" : "to"} ${state.anchor}` : ""}
                  {result.isFetching ? " · updating…" : ""}
                </p>
                <EChart label="Paths as a Sankey" option={sankeyOption(r)} height={480} />
              </section>
              <table className="rows panel" aria-label="Most common paths">
                <thead>
                  <tr>
                    <th scope="col">Path</th>
                    <th scope="col" className="num">
                      Journeys
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {r.top_paths.map((p, i) => (
                    <tr key={i}>
                      <td className="wrap">{p.path.join(" → ")}</td>
                      <td className="num">{fmtInt(p.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Query>
    </>
  );
}
