// Before going live: a dry run replays a chosen person's history through the journey (the saved
// version, or the unsaved draft) and shows the path they would take and the messages they would
// get; a test send hands one send or webhook node's message to the outbox for one person now.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../../api/client";
import { type Picked, PersonPicker } from "../../components/PersonPicker";
import { ErrorBox } from "../../components/States";
import { fmtTime } from "../../format";
import type { JourneyDoc } from "./model";

const WAITING: Record<string, string> = { listen: "waiting for an event", wait: "waiting for a time", run: "about to move on" };

export function DryRunPanel({ name, version, draft, saved }: { name: string; version?: number; draft: JourneyDoc | null; saved: boolean }) {
  const [who, setWho] = useState<Picked | null>(null);
  const run = useMutation({
    mutationFn: (p: Picked) =>
      unwrap(
        api.POST("/api/journeys/{name}/dry-run", {
          params: { path: { name } },
          body: { profile_id: p.profile_id, version: draft ? undefined : version, document: draft ? (draft as never) : undefined },
        }),
      ),
  });
  if (!saved && !draft) return <p className="hint">Save the journey first.</p>;
  return (
    <section aria-label="Dry run" className="node-form">
      <h2>Dry run</h2>
      <p className="hint">
        Replays one person&apos;s events through {draft ? "the unsaved draft" : `v${version}`}: nothing is written or sent.
      </p>
      <PersonPicker value={who} onChange={setWho} />
      <button type="button" className="primary" disabled={!who || run.isPending} onClick={() => who && run.mutate(who)}>
        {run.isPending ? "Replaying…" : "Run"}
      </button>
      {run.error && <ErrorBox error={run.error} />}
      {run.data && (
        <div className="dry-result" aria-label="Dry run result">
          <p>
            {run.data.events === 1 ? "1 event" : `${run.data.events} events`} of theirs replayed.{" "}
            {run.data.entries.length === 0 ? <strong>This person would not enter.</strong> : <strong>Enters {run.data.entries.length === 1 ? "once" : `${run.data.entries.length} times`}.</strong>}
          </p>
          {run.data.entries.map((e) => (
            <div key={e.entry_key + e.entered_at} className="panel">
              <div>
                Entered {fmtTime(e.entered_at)} <span className="hint">key {e.entry_key}</span>
              </div>
              <ol className="dry-steps">
                {e.steps.map((s, i) => (
                  <li key={i}>
                    <strong>{s.node === "@entry" ? "enters" : s.node}</strong> {s.node !== "@entry" && <span className="hint">{s.kind}</span>} {fmtTime(s.at)}
                    {s.via && s.via !== "next" && <span className="badge">{s.via}</span>}
                    {s.outcome && <span className="hint"> {s.outcome}</span>}
                  </li>
                ))}
              </ol>
              <div>
                {e.status === "done" ? `Leaves${e.exit_reason ? ` (${e.exit_reason})` : ""}${e.exited_at ? ` ${fmtTime(e.exited_at)}` : ""}` : `Still at ${e.node}, ${WAITING[e.status] ?? e.status}`}
                {e.converted_at && <span className="badge status-live"> reached the goal {fmtTime(e.converted_at)}</span>}
              </div>
              {e.messages.length > 0 && (
                <>
                  <h3>Messages they would get</h3>
                  <ul>
                    {e.messages.map((m) => (
                      <li key={m.node + m.at}>
                        {fmtTime(m.at)}: <strong>{m.template ?? m.node}</strong> by {m.channel ?? "?"} via {m.destination}
                      </li>
                    ))}
                  </ul>
                </>
              )}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

export function TestSendBox({ name, node, version, unsaved }: { name: string; node: string; version?: number; unsaved: boolean }) {
  const [who, setWho] = useState<Picked | null>(null);
  const send = useMutation({
    mutationFn: (p: Picked) => unwrap(api.POST("/api/journeys/{name}/test-send", { params: { path: { name } }, body: { node, profile_id: p.profile_id, version } })),
  });
  return (
    <fieldset className="test-send">
      <legend>Test send</legend>
      {unsaved || version == null ? (
        <p className="hint">Save the journey to send a test of this node.</p>
      ) : (
        <>
          <PersonPicker value={who} onChange={setWho} label="Send to" />
          <button type="button" disabled={!who || send.isPending} onClick={() => who && send.mutate(who)}>
            Send a test now
          </button>
          {send.error && <ErrorBox error={send.error} />}
          {send.data && (
            <p role="status">
              {send.data.queued ? "Queued in the outbox" : "Not queued (no outbox in this store)"}: key <code>{send.data.idempotency_key}</code>. See it in{" "}
              <a href={`/destinations/messages?id=${encodeURIComponent(send.data.idempotency_key)}`}>the delivery log</a>.
            </p>
          )}
        </>
      )}
    </fieldset>
  );
}
