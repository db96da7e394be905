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
import { heatmapOption, type Period, readRetention, type RetentionResult, retentionSpec, retentionFigures, writeRetention } from "./retention";
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
              <Figures r={r} cohort={state.cohort} />
              <p className="hint">
                Each row is a cohort: the people who first did {state.cohort || "any event"} {r.period === "day" ? "on" : "in"} that {r.period} (how many in
                brackets); each cell the share of them who came back that many {r.period}s later.
                {result.isFetching ? " Updating…" : ""}
              </p>
              <EChart label="Retention by cohort" option={heatmapOption(r)} height={Math.max(240, 28 * r.cohorts.length + 80)} />
            </section>
          )
        }
      </Query>
    </>
  );
}

const EVERY: Record<string, string> = { day: "daily", week: "weekly", month: "monthly" };

/** The headline numbers, shown at once (the heatmap draws after them). */
function Figures({ r, cohort }: { r: RetentionResult; cohort: string }) {
  const f = retentionFigures(r);
  return (
    <div className="figures">
      <span>
        <span className="card-value">{fmtInt(f.people)}</span> people in {fmtInt(r.cohorts.length)} {EVERY[r.period] ?? r.period} cohorts
        {cohort ? ` (first ${cohort})` : ""}
      </span>
      <span>
        <span className="card-value">{fmtPct(f.first)}</span> came back in {r.period} 1
      </span>
    </div>
  );
}
