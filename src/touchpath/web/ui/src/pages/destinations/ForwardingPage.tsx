// Event forwarding (like Segment Connections): rules that send incoming events, filtered by
// source, event and property conditions and mapped (rename, drop, set from a template), to a
// webhook destination as they arrive; or audience changes as list updates. The rule being edited
// is in the address (`?edit=orders`, `?edit=` for a new one).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, getJson, unwrap } from "../../api/client";
import { useEventNames, usePropertyKeys } from "../../api/lookups";
import { can, useMe } from "../../auth/session";
import { fmtInt } from "../../charts/options";
import { Suggest } from "../../components/Suggest";
import { Empty, ErrorBox, Query } from "../../components/States";
import { COMPARE_OPS, typedValue, valueText } from "../audiences/conditions";
import { Check, Num } from "../journeys/fields";
import { describeMapping, describeWhat, type ForwardRule, type Match, pairsToObject } from "./rules";
import { MessagingTabs } from "./Tabs";

const BLANK: ForwardRule = { destination: "", sources: [], match: [{ event: "", where: [] }], mapping: { rename: {}, drop: [], set: {} }, format: "events", audiences: [], batch: 500, enabled: true };

export default function ForwardingPage() {
  const list = useQuery({ queryKey: ["forwarding"], queryFn: () => unwrap(api.GET("/api/destinations/forwarding")) });
  const me = useMe();
  const admin = can(me.data, "admin");
  const [params, setParams] = useSearchParams();
  const editing = params.get("edit");
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: (name: string) => unwrap(api.DELETE("/api/destinations/forwarding/{name}", { params: { path: { name } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["forwarding"] }),
  });
  const rules = Object.entries(list.data ?? {});
  return (
    <>
      <div className="title-row">
        <h1>Event forwarding</h1>
        {admin && editing === null && <button type="button" className="primary" onClick={() => setParams({ edit: "" })}>Add a rule</button>}
      </div>
      <MessagingTabs />
      <p className="lead">Send the events Touchpath receives on to another tool as they arrive, filtered and reshaped, in batches a Segment-compatible endpoint accepts; or keep a tool&apos;s audience lists in sync. Forwarded events are data: the sending policy does not apply to them.</p>
      {admin && editing !== null && (
        <RuleForm key={editing} name={editing} initial={(list.data ?? {})[editing] as ForwardRule | undefined} taken={rules.map(([n]) => n)} onDone={() => setParams({})} />
      )}
      {remove.error && <ErrorBox error={remove.error} />}
      <Query q={list} what="the forwarding rules">
        {() => rules.length === 0 ? (
          <Empty title="No forwarding rules yet"><span>{admin ? "Add one to send events to a webhook destination." : "An admin can add one."}</span></Empty>
        ) : (
          <table className="rows panel" aria-label="Forwarding rules">
            <thead><tr><th scope="col">Rule</th><th scope="col">Sends to</th><th scope="col">What</th><th scope="col">Changes to each event</th><th scope="col">State</th>{admin && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
            <tbody>
              {rules.map(([name, r]) => (
                <tr key={name}>
                  <td><strong>{name}</strong></td>
                  <td><Link to={`/destinations/messages?destination=${encodeURIComponent(r.destination)}`}>{r.destination}</Link></td>
                  <td className="wrap">{describeWhat(r as ForwardRule)}</td>
                  <td className="wrap">{describeMapping(r as ForwardRule).join("; ") || <span className="hint">sent as received</span>}</td>
                  <td><span className={`badge ${r.enabled ? "status-live" : "status-paused"}`}>{r.enabled ? "on" : "off"}</span></td>
                  {admin && (
                    <td>
                      <button type="button" onClick={() => setParams({ edit: name })}>Edit</button>{" "}
                      <button type="button" className="danger" onClick={() => window.confirm(`Delete the rule ${name}? Events stop being forwarded.`) && remove.mutate(name)}>Delete</button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
    </>
  );
}

function RuleForm({ name: initialName, initial, taken, onDone }: { name: string; initial?: ForwardRule; taken: string[]; onDone: () => void }) {
  const [name, setName] = useState(initialName);
  const [rule, setRule] = useState<ForwardRule>(initial ?? BLANK);
  const set = (r: Partial<ForwardRule>) => setRule({ ...rule, ...r });
  const dests = useQuery({ queryKey: ["destinations"], queryFn: () => unwrap(api.GET("/api/destinations")) });
  const webhooks = (dests.data ?? []).filter((d) => d.kind === "webhook").map((d) => d.name);
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/destinations/forwarding/{name}", { params: { path: { name } }, body: cleaned(rule) })),
    onSuccess: () => { void queries.invalidateQueries({ queryKey: ["forwarding"] }); onDone(); },
  });
  const clash = !initialName && taken.includes(name);
  const destination = rule.destination || webhooks[0] || "";
  return (
    <section className="panel" aria-label="Forwarding rule form">
      <h2>{initialName ? `Edit ${initialName}` : "New forwarding rule"}</h2>
      <div className="toolbar">
        <label>Rule name<input value={name} disabled={!!initialName} onChange={(e) => setName(e.target.value)} placeholder="orders-to-crm" aria-invalid={clash} /></label>
        <label>
          Send to (a webhook destination)
          <select value={destination} onChange={(e) => set({ destination: e.target.value })}>
            {webhooks.map((w) => <option key={w} value={w}>{w}</option>)}
          </select>
        </label>
        <label>
          Send
          <select value={rule.format ?? "events"} onChange={(e) => set({ format: e.target.value as "events" | "audience" })}>
            <option value="events">events, as they arrive</option>
            <option value="audience">audience changes, as list updates</option>
          </select>
        </label>
        <Num label="Events per request (at most)" value={rule.batch ?? 500} min={1} onChange={(batch) => set({ batch })} />
        <Check label="on" value={rule.enabled ?? true} onChange={(enabled) => set({ enabled })} />
      </div>
      {webhooks.length === 0 && <p className="warn">No webhook destination yet: <Link to="/destinations?edit=">add one</Link> first.</p>}
      {clash && <p className="field-error">A rule has this name: editing it replaces it.</p>}
      {rule.format === "audience" ? <AudiencePick rule={rule} onChange={set} /> : <EventsPick rule={rule} onChange={set} />}
      <MappingEditor rule={rule} onChange={set} />
      <p className="hint">It forwards {describeWhat(cleaned(rule))}{describeMapping(cleaned(rule)).length ? `; it ${describeMapping(cleaned(rule)).join(", ")}` : ""}. Events committed from now on are forwarded.</p>
      <button type="button" className="primary" disabled={!name.trim() || !destination || save.isPending} onClick={() => save.mutate()}>Save rule</button>{" "}
      <button type="button" onClick={onDone}>Cancel</button>
      {save.error && <ErrorBox error={save.error} />}
    </section>
  );

  function cleaned(r: ForwardRule): ForwardRule {
    const match = (r.match ?? []).filter((m) => m.event || (m.where ?? []).length).map((m) => ({ ...m, event: m.event || null, where: (m.where ?? []).filter((w) => w.property) }));
    return { ...r, destination, match: r.format === "audience" ? [] : match };
  }
}

function Ticks({ legend, options, value, onChange }: { legend: string; options: string[]; value: string[]; onChange: (v: string[]) => void }) {
  return (
    <fieldset className="ticks">
      <legend>{legend}</legend>
      {options.length === 0 && <span className="hint">none yet</span>}
      {options.map((o) => <Check key={o} label={o} value={value.includes(o)} onChange={(on) => onChange(on ? [...value, o] : value.filter((x) => x !== o))} />)}
    </fieldset>
  );
}

function AudiencePick({ rule, onChange }: { rule: ForwardRule; onChange: (r: Partial<ForwardRule>) => void }) {
  const audiences = useQuery({ queryKey: ["audiences"], queryFn: () => getJson<{ name: string; size: number }[]>("/api/audiences") });
  return <Ticks legend="Audiences (none ticked: every audience)" options={(audiences.data ?? []).map((a) => a.name)} value={rule.audiences ?? []} onChange={(audiences) => onChange({ audiences })} />;
}

function EventsPick({ rule, onChange }: { rule: ForwardRule; onChange: (r: Partial<ForwardRule>) => void }) {
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => getJson<{ name: string }[]>("/api/sources"), staleTime: 60_000 });
  const match = rule.match ?? [];
  const setMatch = (m: Match[]) => onChange({ match: m });
  return (
    <>
      <Ticks legend="From sources (none ticked: every source)" options={(sources.data ?? []).map((s) => s.name)} value={rule.sources ?? []} onChange={(s) => onChange({ sources: s })} />
      <fieldset className="ticks column">
        <legend>Events (any of these; none: every event)</legend>
        {match.map((m, i) => (
          <MatchRow key={i} n={i + 1} m={m} onChange={(nm) => setMatch(match.map((x, j) => (j === i ? nm : x)))} onRemove={() => setMatch(match.filter((_, j) => j !== i))} />
        ))}
        <button type="button" className="small" onClick={() => setMatch([...match, { event: "", where: [] }])}>+ Event</button>
      </fieldset>
    </>
  );
}

function MatchRow({ n, m, onChange, onRemove }: { n: number; m: Match; onChange: (m: Match) => void; onRemove: () => void }) {
  const names = useEventNames();
  const keys = usePropertyKeys(m.event || null);
  const where = m.where ?? [];
  const setWhere = (w: typeof where) => onChange({ ...m, where: w });
  return (
    <div className="match-row" role="group" aria-label={`Event ${n}`}>
      <div className="toolbar">
        <Suggest label="Event" value={m.event ?? ""} placeholder="any event" onChange={(event) => onChange({ ...m, event })} options={(names.data ?? []).map((x) => ({ value: x.name, hint: `${fmtInt(x.count)} events` }))} />
        <button type="button" onClick={() => setWhere([...where, { property: "", op: "eq", value: "" }])}>+ Property condition</button>
        <button type="button" className="danger" onClick={onRemove} aria-label={`Remove event ${n}`}>Remove</button>
      </div>
      {where.map((w, i) => (
        <div className="toolbar" key={i} role="group" aria-label={`Event ${n} property ${i + 1}`}>
          <span className="where">{i === 0 ? "where" : "and"}</span>
          <Suggest label="Property" value={w.property} width={160} onChange={(property) => setWhere(where.map((x, j) => (j === i ? { ...x, property } : x)))} options={(keys.data ?? []).map((k) => ({ value: k.key }))} />
          <label>
            Operator
            <select value={w.op ?? "eq"} onChange={(e) => setWhere(where.map((x, j) => (j === i ? { ...x, op: e.target.value as never, value: typedValue(e.target.value, valueText(x.value)) } : x)))}>
              {COMPARE_OPS.map((o) => <option key={o.op} value={o.op}>{o.label}</option>)}
            </select>
          </label>
          <label>Value<input value={valueText(w.value)} onChange={(e) => setWhere(where.map((x, j) => (j === i ? { ...x, value: typedValue(x.op ?? "eq", e.target.value) } : x)))} /></label>
          <button type="button" onClick={() => setWhere(where.filter((_, j) => j !== i))} aria-label={`Remove event ${n} property ${i + 1}`}>×</button>
        </div>
      ))}
    </div>
  );
}

function MappingEditor({ rule, onChange }: { rule: ForwardRule; onChange: (r: Partial<ForwardRule>) => void }) {
  const m = rule.mapping ?? {};
  const [rename, setRename] = useState<[string, string][]>(Object.entries(m.rename ?? {}));
  const [setRows, setSetRows] = useState<[string, string][]>(Object.entries(m.set ?? {}));
  const [drop, setDrop] = useState((m.drop ?? []).join(", "));
  const push = (r: [string, string][], s: [string, string][], d: string) =>
    onChange({ mapping: { rename: pairsToObject(r), set: pairsToObject(s), drop: d.split(",").map((x) => x.trim()).filter(Boolean) } });
  if (rule.format === "audience") return null;
  return (
    <fieldset className="ticks column" aria-label="Changes to each event">
      <legend>Changes to each event (paths like properties.revenue, context.ip)</legend>
      <Pairs what="Rename" left="Path" right="New path" rows={rename} onChange={(r) => { setRename(r); push(r, setRows, drop); }} />
      <label>Drop (comma-separated paths)<input value={drop} placeholder="context.ip, properties.email" style={{ width: 360 }} onChange={(e) => { setDrop(e.target.value); push(rename, setRows, e.target.value); }} /></label>
      <Pairs what="Set" left="Path" right="Template over event" rows={setRows} onChange={(s) => { setSetRows(s); push(rename, s, drop); }} placeholder="{{ event.properties.revenue * 100 }}" />
    </fieldset>
  );
}

function Pairs({ what, left, right, rows, onChange, placeholder }: { what: string; left: string; right: string; rows: [string, string][]; onChange: (r: [string, string][]) => void; placeholder?: string }) {
  return (
    <div role="group" aria-label={what}>
      {rows.map(([a, b], i) => (
        <div className="toolbar" key={i}>
          <span className="where">{what}</span>
          <label>{left}<input value={a} onChange={(e) => onChange(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} /></label>
          <label>{right}<input value={b} placeholder={placeholder} style={{ width: 280 }} onChange={(e) => onChange(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} /></label>
          <button type="button" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove ${what.toLowerCase()} ${i + 1}`}>×</button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => onChange([...rows, ["", ""]])}>+ {what}</button>
    </div>
  );
}
