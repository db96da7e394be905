// Process discovery: the directly-follows graph of the journeys (how often each event directly
// follows another, or how long it takes) pruned to its busiest transitions, and the most common
// whole journeys (variants). The state is in the address.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useEventNames } from "../../api/lookups";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { SaveInsight } from "../../components/SaveInsight";
import { Empty, Query } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { fmtDuration, fmtPct } from "../../format";
import { type DfgResult, dfgSize, dfgOption, dfgSpec, readDiscovery, type View, writeDiscovery } from "./discovery";
import { dfgQuery, variantsQuery } from "./queries";

export default function DiscoveryPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readDiscovery(params), [params]);
  const [s, setS] = useState(state);
  useEffect(() => setS(state), [state]);
  const names = useEventNames();
  const [leaveOut, setLeaveOut] = useState("");
  const dfg = useQuery({
    ...dfgQuery(state),
    placeholderData: (prev) => prev,
  });
  const variants = useQuery({
    ...variantsQuery(state),
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setParams(writeDiscovery({ ...s, view: state.view }));
  };
  const setView = (view: View) => setParams(writeDiscovery({ ...state, view }), { replace: true });
  const addLeaveOut = () => {
    if (leaveOut.trim() && !s.exclude.includes(leaveOut.trim())) setS({ ...s, exclude: [...s.exclude, leaveOut.trim()] });
    setLeaveOut("");
  };
  return (
    <>
      <div className="title-row">
        <h1>Process discovery</h1>
        <SaveInsight spec={dfgSpec(state)} suggested={`Journey graph by ${state.case === "session" ? "visit" : "person"}`} />
      </div>
      <p className="lead">
        Which event directly follows which in people&apos;s journeys. Each box is an event with how often it happened; each arrow
        a step from one event to the next, thicker when more common.
      </p>
      <form className="panel" onSubmit={apply} aria-label="Discovery options">
        <div className="toolbar">
          <label>
            One journey per
            <select value={s.case} onChange={(e) => setS({ ...s, case: e.target.value as "profile" | "session" })}>
              <option value="session">visit (30 min gap)</option>
              <option value="profile">person</option>
            </select>
          </label>
          <label>
            Show the busiest
            <input type="number" min={1} max={200} value={s.top} onChange={(e) => setS({ ...s, top: Number(e.target.value) })} style={{ width: 70 }} />
          </label>
          <label>
            Transitions taken at least (times)
            <input type="number" min={1} value={s.min} onChange={(e) => setS({ ...s, min: Number(e.target.value) })} style={{ width: 90 }} />
          </label>
          <label className="inline">
            <input type="checkbox" checked={s.collapse} onChange={(e) => setS({ ...s, collapse: e.target.checked })} /> Collapse
            repeats
          </label>
        </div>
        <div className="toolbar">
          <Suggest
            label="Leave out event"
            value={leaveOut}
            placeholder="e.g. Email Delivered"
            onChange={setLeaveOut}
            options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
            width={220}
          />
          <button type="button" onClick={addLeaveOut} disabled={!leaveOut.trim()}>
            Leave out
          </button>
          {s.exclude.map((x) => (
            <span className="chip" key={x}>
              {x}{" "}
              <button type="button" className="link" aria-label={`Put back ${x}`} onClick={() => setS({ ...s, exclude: s.exclude.filter((y) => y !== x) })}>
                ×
              </button>
            </span>
          ))}
          <button type="submit" className="primary">
            Show graph
          </button>
        </div>
      </form>
      <Query q={dfg} what="the graph">
        {(r) =>
          r.cases === 0 ? (
            <Empty title="No journeys match" />
          ) : (
            <>
              <section className="panel" aria-label="Directly-follows graph">
                <div className="title-row">
                  <p className="hint">
                    {fmtInt(r.cases)} journeys, {fmtInt(r.events)} events; the {fmtInt(r.edges.length)} busiest transitions
                    {dfg.isFetching ? " · updating…" : ""}
                  </p>
                  <div role="radiogroup" aria-label="Show on the arrows" className="tabs">
                    {(["frequency", "time"] as const).map((v) => (
                      <button key={v} type="button" role="radio" aria-checked={state.view === v} onClick={() => setView(v)}>
                        {v === "frequency" ? "How often" : "Median time"}
                      </button>
                    ))}
                  </div>
                </div>
                <div className="scroll-x" tabIndex={0} role="group" aria-label="The graph, scrollable sideways">
                  <div style={{ width: dfgSize(r).width, minWidth: "100%" }}>
                    <EChart label="Directly-follows graph" option={dfgOption(r, state.view)} height={dfgSize(r).height} />
                  </div>
                </div>
                <p className="hint">
                  {state.view === "time"
                    ? "Arrows are labelled with the median time between the two events, green when quick, red when slow. "
                    : "Arrows are labelled with how many times one event directly followed the other. "}
                  ↻ counts an event repeated in a row. Drag to pan, scroll to zoom; the table below lists the busiest transitions.
                </p>
              </section>
              <Transitions r={r} />
            </>
          )
        }
      </Query>
      <Query q={variants} what="the variants">
        {(v) => (
          <table className="rows panel" aria-label="Variants">
            <caption>
              The most common whole journeys: {fmtInt(v.distinct_variants)} different ones among {fmtInt(v.cases)}
            </caption>
            <thead>
              <tr>
                <th scope="col">Journey</th>
                <th scope="col" className="num">Journeys</th>
                <th scope="col" className="num">Share</th>
                <th scope="col" className="num">Cumulative</th>
                <th scope="col" className="num">Median duration</th>
              </tr>
            </thead>
            <tbody>
              {v.variants.map((x, i) => (
                <tr key={i}>
                  <td className="wrap">{x.steps.join(" → ")}</td>
                  <td className="num">{fmtInt(x.cases)}</td>
                  <td className="num">{fmtPct(x.share)}</td>
                  <td className="num">{fmtPct(x.cumulative_share)}</td>
                  <td className="num">{fmtDuration(x.median_duration_seconds)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
    </>
  );
}

function Transitions({ r }: { r: DfgResult }) {
  const rows = [...r.edges].sort((a, b) => b.frequency - a.frequency).slice(0, 12);
  return (
    <table className="rows panel" aria-label="Busiest transitions">
      <caption>The busiest transitions</caption>
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col" className="num">Times</th>
          <th scope="col" className="num">Journeys</th>
          <th scope="col" className="num">Median time</th>
          <th scope="col" className="num">90th percentile</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={`${e.source}→${e.target}`}>
            <td>{e.source}</td>
            <td>{e.target}</td>
            <td className="num">{fmtInt(e.frequency)}</td>
            <td className="num">{fmtInt(e.cases)}</td>
            <td className="num">{fmtDuration(e.median_seconds)}</td>
            <td className="num">{fmtDuration(e.p90_seconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
