// Tracking plans: a JSON Schema per event and for identify traits, edited here as JSON,
// inferred from the data, and assigned to sources in a mode (docs/tracking-plans.md).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";

type Plan = Schemas["TrackingPlan"];
type Mode = Schemas["AssignRequest"]["mode"];
const MODES: { mode: NonNullable<Mode>; label: string }[] = [
  { mode: "flag", label: "flag: keep, record the violation" },
  { mode: "block", label: "block: send to rejected" },
  { mode: "drop", label: "drop properties not in the plan" },
];

export default function PlansPage() {
  const [params, setParams] = useSearchParams();
  const chosen = params.get("plan");
  const me = useMe();
  const queries = useQueryClient();
  const plans = useQuery({ queryKey: ["plans"], queryFn: () => unwrap(api.GET("/api/plans")) });
  const [name, setName] = useState("");
  const infer = useMutation({
    mutationFn: () => unwrap(api.POST("/api/plans/infer", { body: { name, save: true } })),
    onSuccess: (plan) => {
      void queries.invalidateQueries({ queryKey: ["plans"] });
      setName("");
      setParams({ plan: plan.name });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    infer.mutate();
  };
  return (
    <>
      <h1>Tracking plans</h1>
      <p className="lead">
        What each event&apos;s properties must look like, as a JSON Schema per event. A plan is assigned
        to a source in a mode: <em>flag</em> keeps a message and records what is wrong with it,{" "}
        <em>block</em> sends it to rejected, <em>drop</em> takes out the properties the plan does not
        name. See <Link to="/violations">Violations</Link>.
      </p>
      {can(me.data, "editor") && (
        <form className="panel toolbar" onSubmit={submit} aria-label="Infer a plan">
          <label>
            New plan from the data
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="plan name" required />
          </label>
          <button type="submit" className="primary" disabled={infer.isPending}>
            Infer from the catalogue
          </button>
        </form>
      )}
      {infer.error && <ErrorBox error={infer.error} />}
      <Query q={plans} what="the plans">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No tracking plans yet">
              <span>Infer one from the events you already have, then tighten it.</span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Plans">
              <thead>
                <tr>
                  <th scope="col">Plan</th>
                  <th scope="col" className="num">Events</th>
                  <th scope="col">Sources</th>
                  <th scope="col">Updated (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.name} className="clickable" onClick={() => setParams({ plan: p.name })}>
                    <td>
                      <a href={`?plan=${encodeURIComponent(p.name)}`} onClick={(e) => e.preventDefault()}>
                        {p.name}
                      </a>
                    </td>
                    <td className="num">{p.events}</td>
                    <td>{p.sources.join(", ") || <span className="hint">not assigned</span>}</td>
                    <td>{fmtTime(p.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Query>
      {chosen && <PlanEditor key={chosen} name={chosen} editable={can(me.data, "editor")} />}
      <Assignments admin={can(me.data, "admin")} plans={(plans.data ?? []).map((p) => p.name)} />
    </>
  );
}

function PlanEditor({ name, editable }: { name: string; editable: boolean }) {
  const queries = useQueryClient();
  const plan = useQuery({
    queryKey: ["plans", name],
    queryFn: () => unwrap(api.GET("/api/plans/{name}", { params: { path: { name } } })),
  });
  const [text, setText] = useState("");
  useEffect(() => {
    if (plan.data) setText(JSON.stringify(plan.data, null, 2));
  }, [plan.data]);
  const save = useMutation({
    mutationFn: () => {
      let body: Plan;
      try {
        body = JSON.parse(text) as Plan;
      } catch (e) {
        throw new Error(`plan: not valid JSON: ${(e as Error).message}`);
      }
      return unwrap(api.PUT("/api/plans/{name}", { params: { path: { name } }, body }));
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["plans"] }),
  });
  const exportUrl = (format: string) => `/api/plans/${encodeURIComponent(name)}/export?format=${format}`;
  return (
    <section className="panel" aria-label={`Plan ${name}`}>
      <h2>
        {name}{" "}
        <span className="hint">
          export as <a href={exportUrl("yaml")}>YAML</a> · <a href={exportUrl("json")}>JSON</a>
        </span>
      </h2>
      <Query q={plan} what="the plan">
        {() => (
          <>
            <textarea
              aria-label="Plan document (JSON)"
              value={text}
              readOnly={!editable}
              onChange={(e) => setText(e.target.value)}
              spellCheck={false}
              rows={Math.min(30, Math.max(8, text.split("\n").length))}
              style={{ width: "100%", fontFamily: "monospace", fontSize: 13 }}
            />
            {editable && (
              <div className="toolbar">
                <button type="button" className="primary" onClick={() => save.mutate()} disabled={save.isPending}>
                  Save plan
                </button>
                {save.isSuccess && <span role="status">Saved.</span>}
              </div>
            )}
            {save.error && <ErrorBox error={save.error} />}
          </>
        )}
      </Query>
    </section>
  );
}

function Assignments({ admin, plans }: { admin: boolean; plans: string[] }) {
  const queries = useQueryClient();
  const given = useQuery({ queryKey: ["plans", "assignments"], queryFn: () => unwrap(api.GET("/api/plans/assignments")) });
  const sources = useQuery({
    queryKey: ["sources"],
    enabled: admin,
    queryFn: () => unwrap(api.GET("/api/sources")),
  });
  const assign = useMutation({
    mutationFn: ({ source, plan, mode }: { source: string; plan: string; mode: NonNullable<Mode> }) =>
      plan
        ? unwrap(api.PUT("/api/plans/assignments/{source}", { params: { path: { source } }, body: { plan, mode } }))
        : unwrap(api.DELETE("/api/plans/assignments/{source}", { params: { path: { source } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["plans"] }),
  });
  const bySource = new Map((given.data ?? []).map((a) => [a.source, a]));
  const names = admin ? (sources.data ?? []).map((s) => s.name) : [...bySource.keys()];
  return (
    <section className="panel" aria-label="Assignments">
      <h2>Sources</h2>
      {names.length === 0 ? (
        <p className="hint">No source is checked against a plan.</p>
      ) : (
        <table className="rows" aria-label="Plan per source">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Plan</th>
              <th scope="col">Mode</th>
            </tr>
          </thead>
          <tbody>
            {names.map((source) => {
              const a = bySource.get(source);
              const mode = (a?.mode ?? "flag") as NonNullable<Mode>;
              return (
                <tr key={source}>
                  <td>{source}</td>
                  <td>
                    {admin ? (
                      <select
                        aria-label={`Plan of ${source}`}
                        value={a?.plan ?? ""}
                        onChange={(e) => assign.mutate({ source, plan: e.target.value, mode })}
                      >
                        <option value="">(none)</option>
                        {plans.map((p) => (
                          <option key={p}>{p}</option>
                        ))}
                      </select>
                    ) : (
                      a?.plan
                    )}
                  </td>
                  <td>
                    {admin && a ? (
                      <select
                        aria-label={`Mode of ${source}`}
                        value={mode}
                        onChange={(e) => assign.mutate({ source, plan: a.plan, mode: e.target.value as NonNullable<Mode> })}
                      >
                        {MODES.map((m) => (
                          <option key={m.mode} value={m.mode}>
                            {m.label}
                          </option>
                        ))}
                      </select>
                    ) : (
                      a?.mode
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {assign.error && <ErrorBox error={assign.error} />}
    </section>
  );
}
