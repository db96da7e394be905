// The form of one node on the builder's side panel: its id and label, then what its kind needs
// (every node kind the engine has), its problems from the server, and for a send or webhook node
// a test send to one person.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, getJson, unwrap } from "../../api/client";
import { useEventNames } from "../../api/lookups";
import type { AudienceRow } from "../audiences/types";
import { Check, JsonBox, Num, OPS, Select, Text, typed } from "./fields";
import { type JNode, type Json, fmtDuration, kindLabel } from "./model";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function useChoices() {
  const destinations = useQuery({ queryKey: ["destinations"], queryFn: () => unwrap(api.GET("/api/destinations")), staleTime: 30_000 });
  const templates = useQuery({ queryKey: ["templates"], queryFn: () => unwrap(api.GET("/api/destinations/templates")), staleTime: 30_000 });
  const audiences = useQuery({ queryKey: ["audiences"], queryFn: () => getJson<AudienceRow[]>("/api/audiences"), staleTime: 30_000 });
  const names = useEventNames();
  return {
    destinations: (destinations.data ?? []).map((d) => [d.name, `${d.name} (${d.channel})`] as [string, string]),
    templates: (templates.data ?? []).map((t) => t.name),
    audiences: (audiences.data ?? []).map((a) => a.name),
    events: (names.data ?? []).map((n) => n.name),
  };
}

export type Choices = ReturnType<typeof useChoices>;

export function ChoiceLists({ c }: { c: Choices }) {
  return (
    <>
      <datalist id="jl-events">{c.events.map((e) => <option key={e} value={e} />)}</datalist>
      <datalist id="jl-audiences">{c.audiences.map((e) => <option key={e} value={e} />)}</datalist>
      <datalist id="jl-templates">{c.templates.map((e) => <option key={e} value={e} />)}</datalist>
    </>
  );
}

interface Props {
  id: string;
  node: JNode;
  choices: Choices;
  problems: { path: string; message: string }[];
  onChange: (n: JNode) => void;
  onRename: (to: string) => void;
  onRemove: () => void;
  testSend?: React.ReactNode;
}

export function NodeForm({ id, node, choices, problems, onChange, onRename, onRemove, testSend }: Props) {
  const [newId, setNewId] = useState(id);
  const set = (k: string, v: unknown) => onChange({ ...node, [k]: v === "" ? undefined : v });
  return (
    <section className="node-form" aria-label={`Node ${id}`}>
      <h2>
        {kindLabel(node.kind)} <span className="hint">{id}</span>
      </h2>
      {problems.length > 0 && (
        <ul className="problems" aria-label="Problems of this node">
          {problems.map((p) => (
            <li key={p.path + p.message}>
              <code>{p.path}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="form-grid">
        <label>
          Id
          <input value={newId} onChange={(e) => setNewId(e.target.value)} onBlur={() => newId !== id && onRename(newId)} />
        </label>
        <Text label="Label on the canvas" value={node.label} onChange={(v) => set("label", v)} placeholder={id} />
        <KindFields node={node} set={set} onChange={onChange} choices={choices} />
      </div>
      {testSend}
      <button type="button" className="danger" onClick={onRemove}>
        Remove node
      </button>
    </section>
  );
}

type Setter = (k: string, v: unknown) => void;

function EventField({ value, onChange, label }: { value: unknown; onChange: (v: Json) => void; label: string }) {
  const m = (value as Json | undefined) ?? {};
  return (
    <>
      <Text label={label} value={m.event} list="jl-events" onChange={(v) => onChange({ ...m, event: v || undefined })} />
      <JsonBox label="…with property conditions (JSON list)" value={m.where ?? []} rows={2} onChange={(v) => onChange({ ...m, where: v })} />
    </>
  );
}

function KindFields({ node, set, onChange, choices }: { node: JNode; set: Setter; onChange: (n: JNode) => void; choices: Choices }) {
  switch (node.kind) {
    case "wait":
      return <Text label="Wait for (e.g. 30m, 4h, 2d)" value={fmtDuration(node.duration)} onChange={(v) => set("duration", v)} />;
    case "wait_until":
      return (
        <>
          <Text label="Time of day (HH:MM)" value={node.at} onChange={(v) => set("at", v)} />
          <fieldset className="days">
            <legend>On</legend>
            {DAYS.map((d) => {
              const days = (node.weekdays as string[]) ?? DAYS;
              return (
                <Check key={d} label={d} value={days.includes(d)} onChange={(on) => set("weekdays", DAYS.filter((x) => (x === d ? on : days.includes(x))))} />
              );
            })}
          </fieldset>
          <Text label="Time zone from trait" value={node.timezone_trait} onChange={(v) => set("timezone_trait", v)} />
          <Text label="Fallback time zone" value={node.fallback_timezone} onChange={(v) => set("fallback_timezone", v)} placeholder="Europe/Berlin" />
        </>
      );
    case "wait_for_event":
      return (
        <>
          <EventField label="Wait for event" value={node.event} onChange={(v) => set("event", v)} />
          <Text label="Give up after (timeout)" value={fmtDuration(node.timeout)} onChange={(v) => set("timeout", v)} />
          <p className="hint">Connect “on_event” (did it) and “on_timeout” (did not) on the canvas.</p>
        </>
      );
    case "branch":
      return <BranchFields node={node} onChange={onChange} />;
    case "split":
      return <SplitFields node={node} onChange={onChange} />;
    case "send":
      return (
        <>
          <Select label="Destination" value={node.destination} onChange={(v) => set("destination", v)} options={[["", "choose…"], ...choices.destinations]} />
          <Text label="Template" value={node.template} list="jl-templates" onChange={(v) => set("template", v)} />
          <Select label="Channel" value={node.channel ?? ""} onChange={(v) => set("channel", v)} options={[["", "the destination's"], "email", "sms", "push"]} />
          <Text label="Subscription topic" value={node.topic} onChange={(v) => set("topic", v)} placeholder="marketing" />
          <JsonBox label="Inline content (overrides the template)" value={node.content ?? {}} rows={3} onChange={(v) => set("content", v)} />
        </>
      );
    case "webhook":
      return (
        <>
          <Select label="Webhook destination" value={node.destination} onChange={(v) => set("destination", v)} options={[["", "choose…"], ...choices.destinations]} />
          <JsonBox label="Body (JSON)" value={node.body ?? {}} onChange={(v) => set("body", v)} />
        </>
      );
    case "update_trait":
      return (
        <>
          <Text label="Trait" value={node.trait} onChange={(v) => set("trait", v)} />
          <Text label="Value" value={node.value == null ? "" : String(node.value)} onChange={(v) => set("value", typed(v))} />
          <Text label="…or from the entry event's property" value={node.from_property} onChange={(v) => set("from_property", v)} />
        </>
      );
    case "exit":
      return <Text label="Exit reason" value={node.reason} onChange={(v) => set("reason", v)} />;
    default:
      return <JsonBox label="Node (JSON)" value={node} onChange={(v) => onChange(v as JNode)} />;
  }
}

function Condition({ value, onChange }: { value: Json; onChange: (v: Json) => void }) {
  const kind = String(value.kind ?? "trait");
  const simple = ["trait", "computed", "audience", "property"].includes(kind);
  const setKind = (k: string) =>
    onChange(k === "audience" ? { kind: k, audience: "", member: true } : k === "property" ? { kind: k, property: "", op: "eq", value: "" } : k === "json" ? { kind: "and", all: [value] } : { kind: k, trait: "", op: "eq", value: "" });
  return (
    <div className="cond-row">
      <Select label="When" value={simple ? kind : "json"} onChange={setKind} options={[["trait", "trait"], ["computed", "computed trait"], ["audience", "in audience"], ["property", "entry event property"], ["json", "combined (JSON)"]]} />
      {(kind === "trait" || kind === "computed") && <Text label="Name" value={value.trait} onChange={(v) => onChange({ ...value, trait: v })} width={120} />}
      {kind === "property" && <Text label="Property" value={value.property} onChange={(v) => onChange({ ...value, property: v })} width={120} />}
      {kind === "audience" && (
        <>
          <Text label="Audience" value={value.audience} list="jl-audiences" onChange={(v) => onChange({ ...value, audience: v })} width={140} />
          <Check label="is a member" value={value.member !== false} onChange={(v) => onChange({ ...value, member: v })} />
        </>
      )}
      {(kind === "trait" || kind === "computed" || kind === "property") && (
        <>
          <Select label="Test" value={value.op ?? "eq"} onChange={(v) => onChange({ ...value, op: v })} options={OPS} />
          {!["is_set", "is_not_set"].includes(String(value.op)) && <Text label="Value" value={value.value == null ? "" : String(value.value)} onChange={(v) => onChange({ ...value, value: typed(v) })} width={100} />}
        </>
      )}
      {!simple && <JsonBox label="Condition (and / or / not)" value={value} onChange={(v) => onChange(v as Json)} />}
    </div>
  );
}

function BranchFields({ node, onChange }: { node: JNode; onChange: (n: JNode) => void }) {
  const branches = (node.branches as Json[]) ?? [];
  const put = (i: number, b: Json) => onChange({ ...node, branches: branches.map((x, j) => (j === i ? b : x)) });
  return (
    <fieldset>
      <legend>Paths, tried in order (the rest go “otherwise”)</legend>
      {branches.map((b, i) => (
        <div key={i} className="sub-item">
          <Text label="Path name" value={b.name} onChange={(v) => put(i, { ...b, name: v })} width={110} />
          <Condition value={(b.when as Json) ?? {}} onChange={(w) => put(i, { ...b, when: w })} />
          <button type="button" onClick={() => onChange({ ...node, branches: branches.filter((_, j) => j !== i) })} aria-label={`Remove path ${String(b.name)}`}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange({ ...node, branches: [...branches, { name: `path_${branches.length + 1}`, when: { kind: "trait", trait: "", op: "eq", value: "" } }] })}>
        Add path
      </button>
    </fieldset>
  );
}

function SplitFields({ node, onChange }: { node: JNode; onChange: (n: JNode) => void }) {
  const variants = (node.variants as Json[]) ?? [];
  const put = (i: number, v: Json) => onChange({ ...node, variants: variants.map((x, j) => (j === i ? v : x)) });
  return (
    <fieldset>
      <legend>Variants and their weights</legend>
      {variants.map((v, i) => (
        <div key={i} className="sub-item">
          <Text label="Variant" value={v.name} onChange={(x) => put(i, { ...v, name: x })} width={110} />
          <Num label="Weight" value={v.weight} min={0} onChange={(x) => put(i, { ...v, weight: x })} />
          <button type="button" onClick={() => onChange({ ...node, variants: variants.filter((_, j) => j !== i) })} aria-label={`Remove variant ${String(v.name)}`}>
            ×
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange({ ...node, variants: [...variants, { name: `v${variants.length + 1}`, weight: 50 }] })}>
        Add variant
      </button>
      <Num label="Holdout weight (0: none)" value={node.holdout ?? 0} min={0} onChange={(x) => onChange({ ...node, holdout: x })} />
      <p className="hint">Assignment is stable per person and logged as Experiment Viewed, so an experiment can measure it.</p>
    </fieldset>
  );
}
