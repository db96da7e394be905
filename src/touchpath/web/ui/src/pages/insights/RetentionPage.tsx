// Retention: cohorts by their first event, and how many come back each period, as a heatmap;
// the state is in the address.
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
import { heatmapOption, type Period, readRetention, retentionSpec, writeRetention } from "./retention";
import { retentionQuery } from "./queries";

export default function RetentionPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readRetention(params), [params]);
  const [s, setS] = useState(state);
  useEffect(() => setS(state), [state]);
  const names = useEventNames();
  const options = (names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }));
  const result = useQuery({
    ...retentionQuery(state),
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setParams(writeRetention(s));
  };
  return (
    <>
      <div className="title-row">
        <h1>Retention</h1>
        <SaveInsight
          spec={{ kind: "retention", ...retentionSpec(state) }}
          suggested={`Retention after ${state.cohort || "any event"} by ${state.period}`}
        />
      </div>
      <form className="panel toolbar" onSubmit={apply} aria-label="Retention">
        <Suggest label="People who first did" value={s.cohort} placeholder="any event" onChange={(cohort) => setS({ ...s, cohort })} options={options} width={220} />
        <Suggest label="Coming back to do" value={s.back} placeholder="the same event" onChange={(back) => setS({ ...s, back })} options={options} width={220} />
        <label>
          Per
          <select value={s.period} onChange={(e) => setS({ ...s, period: e.target.value as Period })}>
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
        <label>
          Periods
          <input type="number" min={1} max={120} value={s.periods} onChange={(e) => setS({ ...s, periods: Number(e.target.value) })} style={{ width: 70 }} />
        </label>
        <button type="submit" className="primary">
          Show retention
        </button>
      </form>
      <Query q={result} what="the cohorts">
        {(r) =>
          r.cohorts.length === 0 ? (
            <Empty title="No cohort: nobody did the first event in this range" />
          ) : (
            <section className="panel" aria-label="Retention chart">
              <p className="hint">
                On average {fmtPct(r.groups[0]?.curve[1] ?? null)} come back in the first {r.period} after
                {state.cohort ? ` ${state.cohort}` : " their first event"}.{result.isFetching ? " Updating…" : ""}
              </p>
              <EChart label="Retention by cohort" option={heatmapOption(r)} height={Math.max(240, 28 * r.cohorts.length + 80)} />
            </section>
          )
        }
      </Query>
    </>
  );
}
