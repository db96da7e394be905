// Experiments: every saved experiment with where its arms come from, and the form to define
// one over a journey's random split or holdout, two versions of a journey, the global holdout,
// a personalisation decision, or an outside test's Experiment Viewed events; with a sample-size
// and duration calculator.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { fmtInt } from "../../charts/options";
import { Empty, ErrorBox, Query } from "../../components/States";
import { Check, Num, Select, Text } from "../journeys/fields";
import { ChoiceLists, useChoices } from "../journeys/NodeForm";
import "../journeys/journeys.css";

export function sourceOf(id: string): string {
  if (id === "journey:global-holdout") return "Global holdout from all journeys";
  if (id.startsWith("journey:") && id.endsWith(":versions")) return `Versions of journey ${id.split(":")[1]}`;
  if (id.startsWith("journey:")) return `Split in journey ${id.split(":")[1]} at ${id.split(":")[2]}`;
  if (id.startsWith("decision:")) return `Decision ${id.slice(9)}`;
  return `Experiment Viewed: ${id}`;
}

export default function ExperimentsPage() {
  const list = useQuery({ queryKey: ["experiments"], queryFn: () => unwrap(api.GET("/api/experiments")) });
  const me = useMe();
  const [open, setOpen] = useState(false);
  return (
    <>
      <div className="title-row">
        <h1>Experiments</h1>
        {can(me.data, "editor") && <button type="button" className="primary" onClick={() => setOpen(!open)}>New experiment</button>}
      </div>
      <p className="lead">Did the change work? Each experiment compares people by the arm they were put in (a journey&apos;s split, a version, a holdout, a decision&apos;s variant or another tool&apos;s test) on a goal, and says which arm wins, by how much, how sure, and whether to wait.</p>
      {open && <ExperimentForm />}
      <Query q={list} what="the experiments">
        {(rows) => rows.length === 0 ? <Empty title="No experiments yet"><span>Define one with “New experiment”: a journey with a random split or holdout is the quickest.</span></Empty> : (
          <table className="rows panel" aria-label="Experiments">
            <thead><tr><th scope="col">Experiment</th><th scope="col">Arms from</th><th scope="col">Primary metric</th><th scope="col">Control</th></tr></thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.name}>
                  <td><Link to={`/experiments/${encodeURIComponent(e.name)}`}>{e.name}</Link>{e.description && <div className="hint">{e.description}</div>}</td>
                  <td>{sourceOf(e.spec.experiment_id)}</td>
                  <td>{e.spec.primary.kind ?? "conversion"} of {e.spec.primary.event.event ?? "any event"}</td>
                  <td>{e.spec.control ?? "first arm"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
      <SampleSize />
    </>
  );
}

function ExperimentForm() {
  const choices = useChoices();
  const journeys = useQuery({ queryKey: ["journeys"], queryFn: () => unwrap(api.GET("/api/journeys")) });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [source, setSource] = useState("split");
  const [journey, setJourney] = useState("");
  const [node, setNode] = useState("");
  const [outside, setOutside] = useState("");
  const [control, setControl] = useState("holdout");
  const [metric, setMetric] = useState({ kind: "conversion", event: "", property: "", window: "7d" });
  const [sequential, setSequential] = useState(true);
  const detail = useQuery({
    queryKey: ["journeys", journey, "detail", undefined],
    queryFn: () => unwrap(api.GET("/api/journeys/{name}", { params: { path: { name: journey } } })),
    enabled: !!journey && source === "split",
  });
  const splits = Object.entries((detail.data?.definition.nodes ?? {}) as Record<string, { kind: string }>).filter(([, n]) => n.kind === "split").map(([id]) => id);
  const id = source === "split" ? `journey:${journey}:${node || splits[0] || ""}` : source === "versions" ? `journey:${journey}:versions` : source === "global" ? "journey:global-holdout" : source === "decision" ? `decision:${outside}` : outside;
  const navigate = useNavigate();
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT("/api/experiments/{name}", {
          params: { path: { name } },
          body: {
            description,
            spec: {
              experiment_id: id,
              control: control || undefined,
              sequential,
              primary: { name: metric.event || "goal", kind: metric.kind, event: { event: metric.event || undefined }, window: metric.window, ...(metric.kind === "sum" ? { property: metric.property } : {}) },
            },
          },
        }),
      ),
    onSuccess: (e) => {
      void queries.invalidateQueries({ queryKey: ["experiments"] });
      void navigate(`/experiments/${encodeURIComponent(e.name)}`);
    },
  });
  const pickSource = (s: string) => {
    setSource(s);
    setControl(s === "versions" ? "v1" : s === "split" || s === "global" ? "holdout" : "");
  };
  return (
    <section className="panel" aria-label="New experiment">
      <ChoiceLists c={choices} />
      <div className="form-grid narrow">
        <Text label="Name" value={name} onChange={setName} placeholder="cart-sms-reminder" />
        <Text label="Description" value={description} onChange={setDescription} />
        <Select label="Arms come from" value={source} onChange={pickSource} options={[["split", "a journey's random split or holdout"], ["versions", "two versions of a journey"], ["global", "the global holdout from all journeys"], ["decision", "a personalisation decision's variants"], ["outside", "another tool's test (Experiment Viewed events)"]]} />
        {(source === "split" || source === "versions") && (
          <Select label="Journey" value={journey} onChange={setJourney} options={[["", "choose…"], ...(journeys.data ?? []).map((j) => [j.name, j.title || j.name] as [string, string])]} />
        )}
        {source === "split" && journey && <Select label="Split node" value={node || splits[0] || ""} onChange={setNode} options={splits.length ? splits : [["", "this journey has no random split"]]} />}
        {(source === "outside" || source === "decision") && <Text label={source === "decision" ? "Decision name" : "Experiment id (experiment_id of the events)"} value={outside} onChange={setOutside} />}
        <Text label="Control arm" value={control} onChange={setControl} placeholder="the first arm" />
        <fieldset>
          <legend>Primary metric, counted from each person&apos;s exposure</legend>
          <Select label="Measure" value={metric.kind} onChange={(k) => setMetric({ ...metric, kind: k })} options={[["conversion", "conversion: did the event"], ["count", "count of the event per person"], ["sum", "sum of a property per person"], ["retention", "retention: came back to the event"]]} />
          <Text label="Event" list="jl-events" value={metric.event} onChange={(v) => setMetric({ ...metric, event: v })} />
          {metric.kind === "sum" && <Text label="Property to sum" value={metric.property} onChange={(v) => setMetric({ ...metric, property: v })} placeholder="revenue" />}
          <Text label="Within" value={metric.window} onChange={(v) => setMetric({ ...metric, window: v })} />
        </fieldset>
        <Check label="sequential test (safe to look every day)" value={sequential} onChange={setSequential} />
        <p className="hint">Arms are read from Experiment Viewed events with experiment id <code>{id}</code>.</p>
      </div>
      <button type="button" className="primary" disabled={!name || save.isPending} onClick={() => save.mutate()}>Save and see the result</button>
      {save.error && <ErrorBox error={save.error} />}
    </section>
  );
}

function SampleSize() {
  const [baseline, setBaseline] = useState(0.2);
  const [mde, setMde] = useState(0.1);
  const [perDay, setPerDay] = useState(1000);
  const calc = useMutation({ mutationFn: () => unwrap(api.POST("/api/experiments/sample-size", { body: { baseline, mde, per_day: perDay } })) });
  return (
    <section className="panel" aria-label="Sample size">
      <h2>How many people, how long?</h2>
      <div className="toolbar">
        <Num label="Control conversion (0–1)" value={baseline} step={0.01} onChange={setBaseline} />
        <Num label="Smallest lift to find (0.1 = 10%)" value={mde} step={0.01} onChange={setMde} />
        <Num label="Exposures a day" value={perDay} onChange={setPerDay} />
        <button type="button" onClick={() => calc.mutate()}>Calculate</button>
      </div>
      {calc.error && <ErrorBox error={calc.error} />}
      {calc.data && (
        <p role="status">
          {fmtInt(calc.data.per_arm)} people per arm{calc.data.days != null ? `, about ${calc.data.days} days` : ""} for a fixed-horizon test; {fmtInt(calc.data.per_arm_sequential)} per arm{calc.data.days_sequential != null ? ` (${calc.data.days_sequential} days)` : ""} with the sequential test, which may stop earlier.
        </p>
      )}
    </section>
  );
}
