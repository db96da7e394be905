// Destinations: every destination with its kind, channel, state and messages by delivery state;
// a form to add or change one of each kind (secrets are write-only: the page only says which are
// set), enable/disable, and a test send to a person or an address.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { fmtInt } from "../../charts/options";
import { CopyBlock } from "../../components/Copy";
import { type Picked, PersonPicker } from "../../components/PersonPicker";
import { Empty, ErrorBox, Query } from "../../components/States";
import { Check, JsonBox, Num, Select, Text } from "../journeys/fields";
import { MessagingTabs, StateBadge } from "./Tabs";

type Dest = Schemas["DestinationOut"];
type Json = Record<string, unknown>;

const KINDS: Record<string, { label: string; fields: [string, string, string?][]; secrets: [string, string][] }> = {
  webhook: { label: "Webhook (Standard Webhooks signed)", fields: [["url", "URL", "https://example.com/hooks/touchpath"]], secrets: [["signing_secret", "Signing secret (whsec_…; empty: a new one is made)"]] },
  smtp: {
    label: "Email over SMTP",
    fields: [["host", "SMTP host", "smtp.example.com"], ["port", "Port"], ["username", "User name"], ["from_address", "From address", "shop@example.com"], ["from_name", "From name"], ["reply_to", "Reply-to"]],
    secrets: [["password", "Password"]],
  },
  twilio: { label: "SMS (Twilio Messages API)", fields: [["account_sid", "Account SID"], ["from_number", "From number", "+15550001111"], ["messaging_service_sid", "Messaging service SID"]], secrets: [["auth_token", "Auth token"]] },
  fcm: { label: "Push (FCM HTTP v1)", fields: [["project_id", "Project id"], ["client_email", "Service account email"]], secrets: [["private_key", "Private key (PEM)"], ["access_token", "Access token"]] },
};

export default function DestinationsPage() {
  const list = useQuery({ queryKey: ["destinations"], queryFn: () => unwrap(api.GET("/api/destinations")) });
  const summary = useQuery({ queryKey: ["destinations", "summary"], queryFn: () => unwrap(api.GET("/api/destinations/summary")), refetchInterval: 5000 });
  const me = useMe();
  const admin = can(me.data, "admin");
  const [params, setParams] = useSearchParams();
  const editing = params.get("edit");
  const by = (name: string) => (summary.data ?? []).filter((s) => s.destination === name);
  return (
    <>
      <div className="title-row">
        <h1>Destinations</h1>
        {admin && (
          <button type="button" className="primary" onClick={() => setParams({ edit: "" })}>
            Add a destination
          </button>
        )}
      </div>
      <MessagingTabs />
      <p className="lead">Where journeys and forwarding send: email over SMTP, SMS, push and webhooks. Every message goes through the outbox, with retries and a delivery log.</p>
      {editing !== null && admin && (
        <DestinationForm key={editing} dest={(list.data ?? []).find((d) => d.name === editing) ?? null} onDone={() => setParams({})} />
      )}
      <Query q={list} what="the destinations">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No destinations yet">{admin ? <span>Press “Add a destination” to send email, SMS, push or webhooks.</span> : <span>An admin can add one.</span>}</Empty>
          ) : (
            <div className="dest-list">
              {rows.map((d) => (
                <DestinationCard key={d.name} d={d} counts={by(d.name)} admin={admin} onEdit={() => setParams({ edit: d.name })} />
              ))}
            </div>
          )
        }
      </Query>
    </>
  );
}

function DestinationCard({ d, counts, admin, onEdit }: { d: Dest; counts: Schemas["StateCount"][]; admin: boolean; onEdit: () => void }) {
  const queries = useQueryClient();
  const toggle = useMutation({
    mutationFn: () => unwrap(d.enabled ? api.POST("/api/destinations/{name}/disable", { params: { path: { name: d.name } } }) : api.POST("/api/destinations/{name}/enable", { params: { path: { name: d.name } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["destinations"] }),
  });
  const [testing, setTesting] = useState(false);
  const where = String(d.config.url ?? d.config.host ?? d.config.from_number ?? d.config.project_id ?? "");
  return (
    <section className="panel" aria-label={`Destination ${d.name}`}>
      <div className="title-row">
        <h2>
          {d.name} <span className="hint">{KINDS[d.kind]?.label ?? d.kind} · {d.channel}</span>
        </h2>
        <span className={`badge ${d.enabled ? "status-live" : "status-dead"}`}>{d.enabled ? "enabled" : `disabled${d.disabled_reason ? `: ${d.disabled_reason}` : ""}`}</span>
        {admin && (
          <>
            <button type="button" onClick={onEdit}>Configure</button>
            <button type="button" onClick={() => toggle.mutate()}>{d.enabled ? "Disable" : "Enable"}</button>
            <button type="button" onClick={() => setTesting(!testing)}>Test send</button>
          </>
        )}
      </div>
      <p className="hint">
        {where} · secrets set: {d.secrets_set.length ? d.secrets_set.join(", ") : "none"}
      </p>
      <div className="figures">
        {counts.length === 0 ? <span>No messages yet.</span> : counts.map((c) => (
          <Link key={c.state} to={`/destinations/messages?destination=${encodeURIComponent(d.name)}&state=${c.state}`}>
            <span className="card-value">{fmtInt(c.messages)}</span> <StateBadge state={c.state} />
          </Link>
        ))}
      </div>
      {toggle.error && <ErrorBox error={toggle.error} />}
      {testing && <TestSend d={d} />}
    </section>
  );
}

function TestSend({ d }: { d: Dest }) {
  const [who, setWho] = useState<Picked | null>(null);
  const [recipient, setRecipient] = useState("");
  const [template, setTemplate] = useState("");
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/api/destinations/{name}/test", { params: { path: { name: d.name } }, body: { profile: who?.profile_id, recipient: recipient || undefined, template: template || undefined, wait_seconds: 10 } })),
  });
  return (
    <fieldset className="test-send" aria-label={`Test send through ${d.name}`}>
      <legend>Test send</legend>
      <div className="toolbar">
        <PersonPicker value={who} onChange={setWho} label="To a person" />
        <Text label="…or to an address" value={recipient} onChange={setRecipient} placeholder={d.channel === "email" ? "me@example.com" : d.channel === "sms" ? "+15550001111" : ""} />
        <Text label="Template (optional)" value={template} onChange={setTemplate} list="jl-templates" />
        <button type="button" className="primary" disabled={send.isPending} onClick={() => send.mutate()}>
          {send.isPending ? "Sending…" : "Send test"}
        </button>
      </div>
      {send.error && <ErrorBox error={send.error} />}
      {send.data && (
        <p role="status">
          <StateBadge state={send.data.state} /> after {send.data.attempts} attempt(s){send.data.last_error ? `: ${send.data.last_error}` : ""}.{" "}
          <Link to={`/destinations/messages?id=${encodeURIComponent(send.data.id)}`}>Open in the delivery log</Link>
        </p>
      )}
    </fieldset>
  );
}

function DestinationForm({ dest, onDone }: { dest: Dest | null; onDone: () => void }) {
  const [name, setName] = useState(dest?.name ?? "");
  const [config, setConfig] = useState<Json>(dest?.config ?? { kind: "webhook", url: "" });
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [enabled, setEnabled] = useState(dest?.enabled ?? true);
  const kind = String(config.kind);
  const spec = KINDS[kind]!;
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => {
      const clean = Object.fromEntries(Object.entries(config).filter(([, v]) => v !== "" && v !== null));
      const given = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v));
      return unwrap(api.PUT("/api/destinations/{name}", { params: { path: { name } }, body: { config: clean as never, secrets: given, enabled } }));
    },
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["destinations"] }),
  });
  return (
    <section className="panel" aria-label="Destination form">
      <h2>{dest ? `Configure ${dest.name}` : "Add a destination"}</h2>
      <div className="form-grid narrow">
        {!dest && <Text label="Name" value={name} onChange={setName} placeholder="email" />}
        <Select label="Kind" value={kind} onChange={(k) => setConfig({ kind: k })} options={Object.entries(KINDS).map(([k, v]) => [k, v.label])} />
        {spec.fields.map(([f, label, ph]) =>
          f === "port" ? (
            <Num key={f} label={label} value={config.port ?? 587} onChange={(v) => setConfig({ ...config, port: v })} />
          ) : (
            <Text key={f} label={label} value={config[f]} placeholder={ph} onChange={(v) => setConfig({ ...config, [f]: v })} />
          ),
        )}
        {kind === "smtp" && <Select label="Security" value={config.security ?? "starttls"} onChange={(v) => setConfig({ ...config, security: v })} options={["starttls", "tls", "none"]} />}
        {kind === "webhook" && <JsonBox label="Extra headers (JSON)" value={config.headers ?? {}} rows={2} onChange={(v) => setConfig({ ...config, headers: v })} />}
        {spec.secrets.map(([s, label]) => (
          <label key={s}>
            {label}
            <input type="password" autoComplete="new-password" value={secrets[s] ?? ""} placeholder={dest?.secrets_set.length ? "set: leave empty to keep it" : ""} onChange={(e) => setSecrets({ ...secrets, [s]: e.target.value })} />
          </label>
        ))}
        <Check label="enabled" value={enabled} onChange={setEnabled} />
      </div>
      <p className="hint">Secrets are stored encrypted and never shown again.</p>
      <button type="button" className="primary" disabled={!name || save.isPending} onClick={() => save.mutate()}>
        Save
      </button>{" "}
      <button type="button" onClick={onDone}>
        Close
      </button>
      {save.error && <ErrorBox error={save.error} />}
      {save.data && (
        <div role="status" className="state">
          Saved {save.data.name}.
          {save.data.new_secret && (
            <>
              {" "}Its signing secret, shown this once: <CopyBlock text={save.data.new_secret} label="Signing secret" />
            </>
          )}
        </div>
      )}
    </section>
  );
}
