// Funnels: steps with autocomplete, window, ordering, exclusions, breakdown and trend, all in the
// address (share a funnel by pasting it); the chart, the step table with time to convert, and
// for any step the people who dropped there, saved as an audience in one click.
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { COLUMNS, useEventNames, usePropertyKeys } from "../../api/lookups";
import { ConditionRow } from "../events/FilterBar";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { SaveInsight } from "../../components/SaveInsight";
import { Empty, ErrorBox, Query } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { fmtDuration, fmtPct } from "../../format";
import {
  type BreakdownBy,
  type FunnelResult,
  type FunnelState,
  funnelOption,
  funnelSpec,
  type Order,
  readFunnel,
  ready,
  timeToConvertOption,
  WINDOWS,
  writeFunnel,
} from "./funnel";
import { funnelQuery } from "./queries";

export default function FunnelPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readFunnel(params), [params]);
  const [f, setF] = useState(state);
  useEffect(() => setF(state), [state]);
  const names = useEventNames();
  const options = (names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }));
  const keys = usePropertyKeys(null);
  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    setParams(writeFunnel(f));
  };
  const result = useQuery({
    ...funnelQuery(state),
    enabled: ready(state),
    placeholderData: (prev) => prev,
  });
  const dropped = Number(params.get("dropped") ?? 0);
  const setDropped = (step: number) => {
    const next = new URLSearchParams(params);
    next.set("dropped", String(step));
    setParams(next, { replace: true });
  };
  return (
    <>
      <div className="title-row">
        <h1>Funnel</h1>
        {ready(state) && <SaveInsight spec={{ kind: "funnel", ...funnelSpec(state) }} suggested={state.steps.join(" → ")} />}
      </div>
      <form className="panel" onSubmit={apply} aria-label="Funnel steps">
        {f.steps.map((_, i) => (
          <StepRow
            key={i}
            index={i}
            f={f}
            setF={setF}
            options={options}
          />
        ))}
        <div className="toolbar">
          <button type="button" onClick={() => setF({ ...f, steps: [...f.steps, ""], where: [...f.where, []] })} disabled={f.steps.length >= 20}>
            + Step
          </button>
          <label>
            Within
            <select value={f.window} onChange={(e) => setF({ ...f, window: e.target.value })}>
              {WINDOWS.map((w) => (
                <option key={w}>{w}</option>
              ))}
            </select>
          </label>
          <label>
            Order
            <select value={f.order} onChange={(e) => setF({ ...f, order: e.target.value as Order })}>
              <option value="ordered">in this order</option>
              <option value="strict">strictly in a row</option>
              <option value="any">in any order</option>
            </select>
          </label>
          <label>
            Break down by
            <select value={f.breakdown} onChange={(e) => setF({ ...f, breakdown: e.target.value as BreakdownBy })}>
              <option value="">nothing</option>
              <option value="channel">channel</option>
              <option value="first_touch_channel">first-touch channel</option>
              <option value="event_property">event property</option>
              <option value="profile_property">person&apos;s trait</option>
            </select>
          </label>
          {(f.breakdown === "event_property" || f.breakdown === "profile_property") && (
            <Suggest
              label="Property"
              value={f.property}
              onChange={(property) => setF({ ...f, property })}
              options={[...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key }))]}
              width={160}
            />
          )}
          <Suggest
            label="Exclude people who did"
            value={f.exclude[0] ?? ""}
            placeholder="nothing"
            onChange={(x) => setF({ ...f, exclude: x ? [x] : [] })}
            options={options}
            width={200}
          />
          <label>
            Trend
            <select value={f.trend} onChange={(e) => setF({ ...f, trend: e.target.value as FunnelState["trend"] })}>
              <option value="">none</option>
              <option value="day">per day</option>
              <option value="week">per week</option>
            </select>
          </label>
          <button type="submit" className="primary" disabled={!ready(f)}>
            Show funnel
          </button>
        </div>
      </form>
      {!ready(state) ? (
        <Empty title="Choose at least two steps">
          <span>Each step is an event name; people must do them within the window.</span>
        </Empty>
      ) : (
        <Query q={result} what="the funnel">
          {(r) => (
            <>
              <section className="panel" aria-label="Funnel chart">
                <div className="figures">
                  <div>
                    <span className="card-value">{fmtInt(r.groups[0]!.entered)}</span> entered
                  </div>
                  <div>
                    <span className="card-value">{fmtPct(r.groups[0]!.conversion)}</span> converted
                  </div>
                  {result.isFetching && <span className="hint">updating…</span>}
                </div>
                <EChart
                  label="Funnel: people at each step"
                  option={funnelOption(r)}
                  onClick={(p) => (p.dataIndex > 0 ? setDropped(p.dataIndex + 1) : undefined)}
                />
              </section>
              <StepTable r={r} onDropped={setDropped} />
              <TimeToConvert r={r} />
              {dropped >= 2 && <DropOffs state={state} step={dropped} name={r.steps[dropped - 1] ?? ""} />}
            </>
          )}
        </Query>
      )}
    </>
  );
}

function StepRow(props: {
  index: number;
  f: FunnelState;
  setF: (f: FunnelState) => void;
  options: { value: string; hint?: string }[];
}) {
  const { index: i, f, setF } = props;
  const event = f.steps[i] ?? "";
  const where = f.where[i] ?? [];
  const keys = usePropertyKeys(event || null);
  const keyOptions = [...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key }))];
  const setWhere = (w: FunnelState["where"][number]) => setF({ ...f, where: f.steps.map((_, j) => (j === i ? w : (f.where[j] ?? []))) });
  return (
    <div className="funnel-step">
      <div className="toolbar">
        <span className="step-no">{i + 1}</span>
        <Suggest
          label={`Step ${i + 1}`}
          value={event}
          onChange={(v) => setF({ ...f, steps: f.steps.map((x, j) => (j === i ? v : x)) })}
          options={props.options}
          width={260}
        />
        <button type="button" className="small" onClick={() => setWhere([...where, { property: "", op: "eq", value: "" }])}>
          + where <span className="sr-only">on step {i + 1}</span>
        </button>
        {f.steps.length > 2 && (
          <button
            type="button"
            onClick={() => setF({ ...f, steps: f.steps.filter((_, j) => j !== i), where: f.where.filter((_, j) => j !== i) })}
            aria-label={`Remove step ${i + 1}`}
          >
            ×
          </button>
        )}
      </div>
      {where.map((c, k) => (
        <ConditionRow
          key={k}
          index={k}
          group={`Step ${i + 1} condition`}
          cond={c}
          event={event}
          keyOptions={keyOptions}
          onChange={(nc) => setWhere(where.map((x, j) => (j === k ? nc : x)))}
          onRemove={() => setWhere(where.filter((_, j) => j !== k))}
        />
      ))}
    </div>
  );
}

function TimeToConvert({ r }: { r: FunnelResult }) {
  const option = timeToConvertOption(r);
  const last = r.groups[0]?.steps.at(-1)?.time_from_start;
  if (!option || !last) return null;
  return (
    <section className="panel" aria-label="Time to convert">
      <h2>Time to convert</h2>
      <p className="hint">
        How long the people who converted took from {r.steps[0]} to {r.steps.at(-1)}: median {fmtDuration(last.median_s)}, 90% within{" "}
        {fmtDuration(last.p90_s)}.
      </p>
      <EChart label="Time to convert, people per duration" option={option} height={220} />
    </section>
  );
}

function StepTable({ r, onDropped }: { r: FunnelResult; onDropped: (step: number) => void }) {
  return (
    <table className="rows panel" aria-label="Funnel steps and conversion">
      <thead>
        <tr>
          <th scope="col">Step</th>
          {r.groups.length > 1 && <th scope="col">Group</th>}
          <th scope="col" className="num">People</th>
          <th scope="col" className="num">From start</th>
          <th scope="col" className="num">From previous</th>
          <th scope="col" className="num">Median time from previous</th>
          <th scope="col" className="num">Dropped</th>
        </tr>
      </thead>
      <tbody>
        {r.groups.flatMap((g, gi) =>
          g.steps.map((s: Schemas["FunnelStepResult"], i) => (
            <tr key={`${gi}-${i}`}>
              <td>{i + 1}. {r.steps[i]}</td>
              {r.groups.length > 1 && <td>{gi === 0 ? "everyone" : (g.value ?? "(none)")}</td>}
              <td className="num">{fmtInt(s.count)}</td>
              <td className="num">{fmtPct(s.conversion)}</td>
              <td className="num">{i === 0 ? "" : fmtPct(s.step_conversion)}</td>
              <td className="num">{i === 0 ? "" : fmtDuration(s.time_from_previous?.median_s)}</td>
              <td className="num">
                {i === 0 || gi > 0 ? "" : (
                  <button type="button" className="small" onClick={() => onDropped(i + 1)}>
                    {fmtInt(s.dropped)} who dropped
                  </button>
                )}
              </td>
            </tr>
          )),
        )}
      </tbody>
    </table>
  );
}

function DropOffs({ state, step, name }: { state: FunnelState; step: number; name: string }) {
  const spec = funnelSpec(state, step);
  const who = useQuery({
    queryKey: ["funnel", spec],
    queryFn: () => unwrap(api.POST("/api/analyses/funnel", { body: spec })),
  });
  const [audience, setAudience] = useState(`dropped before ${name}`.toLowerCase().replace(/[^a-z0-9_. -]/g, ""));
  const save = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/analyses/funnel/save-dropped", { body: { spec: funnelSpec(state), step, audience } })),
  });
  return (
    <section className="panel" aria-label="Who dropped">
      <h2>
        Dropped before step {step}: {name}
      </h2>
      <Query q={who} what="who dropped">
        {(r) => (
          <>
            <p>
              {fmtInt(r.dropped?.total ?? 0)} people made step {step - 1} but not step {step} within the window.
            </p>
            <ul className="plain dropped-list">
              {(r.dropped?.profiles ?? []).slice(0, 20).map((p) => (
                <li key={p}>
                  <Link to={`/people/${encodeURIComponent(p)}`}>{p}</Link>
                </li>
              ))}
            </ul>
          </>
        )}
      </Query>
      <div className="toolbar">
        <label>
          Audience name
          <input value={audience} onChange={(e) => setAudience(e.target.value)} style={{ width: 260 }} />
        </label>
        <button type="button" className="primary" disabled={!audience || save.isPending} onClick={() => save.mutate()}>
          Save as audience
        </button>
      </div>
      {save.error && <ErrorBox error={save.error} />}
      {save.data && (
        <p role="status">
          Saved: <Link to={`/audiences/${encodeURIComponent(save.data.audience)}`}>{save.data.audience}</Link> ({fmtInt(save.data.size)}{" "}
          people).
        </p>
      )}
    </section>
  );
}
