// The sending policy, checked as each message to a person is about to leave: frequency caps per
// channel and day, quiet hours in the person's time zone, and the zone of people without one.
// Shown as sentences first; admins change it below.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Suggest } from "../../components/Suggest";
import { ErrorBox, Query } from "../../components/States";
import { Check } from "../journeys/fields";
import { describePolicy, hhmm, type Policy } from "./rules";
import { MessagingTabs } from "./Tabs";

const CHANNELS: [string, string][] = [["email", "Email"], ["sms", "SMS"], ["push", "Push"], ["webhook", "Webhook"]];
const ZONES: string[] = (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("timeZone") ?? ["UTC"];

export default function PolicyPage() {
  const q = useQuery({ queryKey: ["policy"], queryFn: () => unwrap(api.GET("/api/destinations/policy")) });
  const me = useMe();
  const [saved, setSaved] = useState(false); // the form is made anew from what the server saved
  return (
    <>
      <div className="title-row"><h1>Sending policy</h1></div>
      <MessagingTabs />
      <p className="lead">Checked for every message to a person just before it leaves, across all journeys: suppressed people and unsubscribes (see Subscription groups) are refused, then quiet hours hold messages until morning, then frequency caps refuse one too many. Each refusal is in the delivery log with its reason.</p>
      <Query q={q} what="the policy">{(p) => <PolicyForm key={JSON.stringify(p)} initial={p} admin={can(me.data, "admin")} saved={saved} onSaved={setSaved} />}</Query>
    </>
  );
}

function PolicyForm({ initial, admin, saved, onSaved }: { initial: Policy; admin: boolean; saved: boolean; onSaved: (v: boolean) => void }) {
  const [p, setP] = useState<Policy>(initial);
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/destinations/policy", { body: p })),
    onSuccess: (r) => {
      onSaved(true);
      queries.setQueryData(["policy"], r);
    },
  });
  const caps = p.caps ?? {};
  const quiet = p.quiet_hours ?? null;
  const setCap = (ch: string, text: string) => {
    const next = { ...caps };
    if (text === "") delete next[ch];
    else next[ch] = Math.max(0, Math.floor(Number(text)));
    edit({ ...p, caps: next });
  };
  const changed = JSON.stringify(p) !== JSON.stringify(initial);
  const edit = (next: Policy) => {
    onSaved(false);
    setP(next);
  };
  return (
    <>
      <section className="panel" aria-label="What the policy does">
        <h2>What it does now{changed && <span className="hint"> (with your unsaved changes)</span>}</h2>
        <ul>{describePolicy(p).map((s) => <li key={s}>{s}</li>)}</ul>
      </section>
      <fieldset className="panel policy" disabled={!admin}>
        <legend className="sr-only">Change the policy</legend>
        <h2>Frequency caps <span className="hint">most messages per person per day, by channel; empty: no cap</span></h2>
        <div className="toolbar">
          {CHANNELS.map(([ch, label]) => (
            <label key={ch}>{label} a day<input type="number" min={0} style={{ width: 90 }} value={caps[ch] ?? ""} placeholder="no cap" onChange={(e) => setCap(ch, e.target.value)} /></label>
          ))}
        </div>
        <h2>Quiet hours</h2>
        <Check label="Hold messages at night (they wait until the quiet hours end)" value={quiet !== null} onChange={(on) => edit({ ...p, quiet_hours: on ? { start: "21:00", end: "08:00", channels: ["sms", "push"] } : null })} />
        {quiet && (
          <div className="toolbar">
            <label>From<input type="time" value={hhmm(quiet.start, "21:00")} onChange={(e) => edit({ ...p, quiet_hours: { ...quiet, start: e.target.value } })} /></label>
            <label>Until<input type="time" value={hhmm(quiet.end, "08:00")} onChange={(e) => edit({ ...p, quiet_hours: { ...quiet, end: e.target.value } })} /></label>
            <fieldset className="ticks">
              <legend>On channels</legend>
              {CHANNELS.map(([ch, label]) => (
                <Check key={ch} label={label} value={(quiet.channels ?? []).includes(ch)} onChange={(on) => edit({ ...p, quiet_hours: { ...quiet, channels: on ? [...(quiet.channels ?? []), ch] : (quiet.channels ?? []).filter((c) => c !== ch) } })} />
              ))}
            </fieldset>
          </div>
        )}
        <h2>Time zone of people without one</h2>
        <Suggest label="Fallback time zone" value={p.fallback_timezone ?? "UTC"} onChange={(fallback_timezone) => edit({ ...p, fallback_timezone })} options={ZONES.map((value) => ({ value }))} width={240} />
        <div className="toolbar save-row">
          {admin ? (
            <button type="button" className="primary" disabled={!changed || save.isPending} onClick={() => save.mutate()}>Save policy</button>
          ) : (
            <span className="hint">Only admins change the policy.</span>
          )}
          {saved && !changed && <span role="status">Saved.</span>}
        </div>
        {save.error && <ErrorBox error={save.error} />}
      </fieldset>
    </>
  );
}
