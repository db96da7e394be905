// Attribution: which channels (or touchpoints) get the credit for conversions, under every model
// side by side, so a reader sees where the models agree and where the answer depends on the
// model. The state is in the address.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { useEventNames } from "../../api/lookups";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { SaveInsight } from "../../components/SaveInsight";
import { Empty, Query } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { fmtPct } from "../../format";
import {
  type AttributionResult,
  attributionOption,
  attributionSpec,
  type Metric,
  MODEL_LABELS,
  readAttribution,
  sortedRows,
  writeAttribution,
} from "./attribution";
import { attributionQuery } from "./queries";

export default function AttributionPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readAttribution(params), [params]);
  const [s, setS] = useState(state);
  useEffect(() => setS(state), [state]);
  const names = useEventNames();
  const result = useQuery({
    ...attributionQuery(state),
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setParams(writeAttribution({ ...s, metric: state.metric }));
  };
  const setMetric = (metric: Metric) => setParams(writeAttribution({ ...state, metric }), { replace: true });
  return (
    <>
      <div className="title-row">
        <h1>Attribution</h1>
        <SaveInsight spec={attributionSpec(state)} suggested={`${state.conversion} credit by ${state.by}`} />
      </div>
      <p className="lead">
        Which {state.by === "channel" ? "channels" : "touchpoints"} led to each conversion, credited under six models at once.
        Where the models agree the answer is robust; where they differ it depends on how you value the first, last and middle
        touches.
      </p>
      <form className="panel toolbar" onSubmit={apply} aria-label="Attribution options">
        <Suggest
          label="Conversion event"
          value={s.conversion}
          onChange={(conversion) => setS({ ...s, conversion })}
          options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
          width={220}
        />
        <label>
          Credit
          <select value={s.by} onChange={(e) => setS({ ...s, by: e.target.value as "channel" | "touchpoint" })}>
            <option value="channel">channels</option>
            <option value="touchpoint">touchpoints (events)</option>
          </select>
        </label>
        <label>
          A touch is
          <select value={s.touch} onChange={(e) => setS({ ...s, touch: e.target.value as "session" | "event" })}>
            <option value="session">a visit (its first event)</option>
            <option value="event">every event</option>
          </select>
        </label>
        <label>
          Look back (days)
          <input type="number" min={1} max={365} value={s.lookback} onChange={(e) => setS({ ...s, lookback: Number(e.target.value) })} style={{ width: 70 }} />
        </label>
        <button type="submit" className="primary" disabled={!s.conversion.trim()}>
          Show attribution
        </button>
      </form>
      <Query q={result} what="the attribution">
        {(r) =>
          r.conversions === 0 ? (
            <Empty title={`No ${state.conversion} in the data`}>
              <span>Choose the event that counts as a conversion.</span>
            </Empty>
          ) : (
            <>
              <section className="panel" aria-label="Attribution chart">
                <div className="title-row">
                  <div className="figures">
                    <div>
                      <span className="card-value">{fmtInt(r.conversions)}</span> conversions
                    </div>
                    <div>
                      <span className="card-value">{fmtInt(Math.round(r.revenue))}</span> revenue
                    </div>
                    <div>
                      <span className="card-value">{fmtPct(r.attributed_conversions / r.conversions)}</span> had a touch in the
                      last {state.lookback} days
                    </div>
                    {result.isFetching && <span className="hint">updating…</span>}
                  </div>
                  <div role="radiogroup" aria-label="Credit as" className="tabs">
                    {(["conversions", "revenue"] as const).map((m) => (
                      <button key={m} type="button" role="radio" aria-checked={state.metric === m} onClick={() => setMetric(m)}>
                        {m === "conversions" ? "Conversions" : "Revenue"}
                      </button>
                    ))}
                  </div>
                </div>
                <EChart label={`${state.metric} credited to each ${state.by} by each model`} option={attributionOption(r, state.metric)} height={360} />
              </section>
              <CreditTable r={r} metric={state.metric} />
            </>
          )
        }
      </Query>
    </>
  );
}

function CreditTable({ r, metric }: { r: AttributionResult; metric: Metric }) {
  const fmt = (v: number | undefined) => (v == null ? "–" : metric === "revenue" ? fmtInt(Math.round(v)) : v.toFixed(1));
  const markov = Object.keys(r.removal_effects ?? {}).length > 0;
  return (
    <table className="rows panel" aria-label="Credit by model">
      <caption>
        {metric === "revenue" ? "Revenue" : "Conversions"} credited, and the share of all credit under each model
      </caption>
      <thead>
        <tr>
          <th scope="col">{r.by === "channel" ? "Channel" : "Touchpoint"}</th>
          {r.models.map((m) => (
            <th scope="col" className="num" key={m}>
              {MODEL_LABELS[m] ?? m}
            </th>
          ))}
          {markov && (
            <th scope="col" className="num" title="Share of conversions lost if this were removed from every journey">
              Removal effect
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {sortedRows(r).map((row) => (
          <tr key={row.key}>
            <th scope="row">{row.key}</th>
            {r.models.map((m) => (
              <td className="num" key={m}>
                {fmt(row.credit[m]?.[metric])} <span className="hint">{fmtPct(row.credit[m]?.share)}</span>
              </td>
            ))}
            {markov && <td className="num">{fmtPct(r.removal_effects?.[row.key])}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
