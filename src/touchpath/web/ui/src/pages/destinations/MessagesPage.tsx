// The delivery log: every outgoing message, newest first, filtered by destination, state and
// journey; a message opens in a drawer with its content and each delivery attempt. Dead letters
// (messages that failed for good) have their own tab, with replay for admins.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Drawer } from "../../components/Drawer";
import { Empty, ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { MessagingTabs, STATE_TEXT, StateBadge } from "./Tabs";

type Message = Schemas["Message"];

function MessageTable({ rows, open, pick }: { rows: Message[]; open: (id: string) => void; pick?: { chosen: Set<string>; toggle: (id: string) => void } }) {
  return (
    <table className="rows panel" aria-label="Messages">
      <thead>
        <tr>
          {pick && <th scope="col"><span className="sr-only">Choose</span></th>}
          <th scope="col">Created</th>
          <th scope="col">Destination</th>
          <th scope="col">To</th>
          <th scope="col">Template / journey node</th>
          <th scope="col">State</th>
          <th scope="col" className="num">Attempts</th>
          <th scope="col">Last error</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr key={m.id}>
            {pick && (
              <td>
                <input type="checkbox" aria-label={`Choose message ${m.id}`} checked={pick.chosen.has(m.id)} onChange={() => pick.toggle(m.id)} />
              </td>
            )}
            <td>
              <button type="button" className="link" onClick={() => open(m.id)}>
                {fmtTime(m.created_at)}
              </button>
            </td>
            <td>{m.destination} <span className="hint">{m.channel}</span></td>
            <td>{m.profile_id ? <Link to={`/people/${encodeURIComponent(m.profile_id)}`}>{m.recipient ?? m.profile_id}</Link> : (m.recipient ?? "–")}</td>
            <td>
              {m.template ?? "–"}
              {m.journey && <div className="hint"><Link to={`/journeys/${encodeURIComponent(m.journey)}?node=${encodeURIComponent(m.node ?? "")}`}>{m.journey} · {m.node}</Link></div>}
            </td>
            <td><StateBadge state={m.state} /></td>
            <td className="num">{m.attempts}</td>
            <td className="hint err-cell" title={m.last_error ?? undefined}>{m.last_error ?? (m.last_status ? `HTTP ${m.last_status}` : "")}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function MessageDrawer({ id, onClose }: { id: string; onClose: () => void }) {
  const q = useQuery({ queryKey: ["destinations", "message", id], queryFn: () => unwrap(api.GET("/api/destinations/messages/{ref}", { params: { path: { ref: id } } })) });
  return (
    <Drawer title="Message" onClose={onClose}>
      <Query q={q} what="the message">
        {(m) => (
          <>
            <p>
              <StateBadge state={m.state} /> via <strong>{m.destination}</strong> ({m.channel}) to {m.recipient ?? m.profile_id ?? "?"}
            </p>
            <p className="hint">idempotency key <code>{m.idempotency_key}</code></p>
            <h3>Delivery attempts</h3>
            {m.attempts_log.length === 0 ? <p className="hint">Not tried yet.</p> : (
              <ol>
                {m.attempts_log.map((a) => (
                  <li key={a.attempt}>
                    {fmtTime(a.attempted_at)}: {a.outcome}{a.status ? ` (HTTP ${a.status})` : ""}{a.error ? ` – ${a.error}` : ""}{a.duration_ms != null ? ` in ${Math.round(a.duration_ms)} ms` : ""}
                  </li>
                ))}
              </ol>
            )}
            <h3>Content</h3>
            <pre className="json">{JSON.stringify(m.content, null, 2)}</pre>
          </>
        )}
      </Query>
    </Drawer>
  );
}

export default function MessagesPage() {
  const [params, setParams] = useSearchParams();
  const destination = params.get("destination") || undefined;
  const state = params.get("state") || undefined;
  const journey = params.get("journey") || undefined;
  const open = params.get("id");
  const set = (k: string, v: string | null) => setParams((p) => { const q = new URLSearchParams(p); if (v) q.set(k, v); else q.delete(k); return q; });
  const list = useQuery({
    queryKey: ["destinations", "messages", destination, state, journey],
    queryFn: () => unwrap(api.GET("/api/destinations/messages", { params: { query: { destination, state, journey, limit: 200 } } })),
    refetchInterval: 5000,
  });
  const dests = useQuery({ queryKey: ["destinations"], queryFn: () => unwrap(api.GET("/api/destinations")) });
  return (
    <>
      <div className="title-row"><h1>Delivery log</h1></div>
      <MessagingTabs />
      <div className="toolbar">
        <label>
          Destination
          <select value={destination ?? ""} onChange={(e) => set("destination", e.target.value)}>
            <option value="">all</option>
            {(dests.data ?? []).map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
          </select>
        </label>
        <label>
          State
          <select value={state ?? ""} onChange={(e) => set("state", e.target.value)}>
            <option value="">all</option>
            {Object.entries(STATE_TEXT).map(([k, t]) => <option key={k} value={k}>{t}</option>)}
          </select>
        </label>
        <label>
          Journey
          <input value={journey ?? ""} onChange={(e) => set("journey", e.target.value)} placeholder="any" />
        </label>
      </div>
      <Query q={list} what="the messages">
        {(rows) => rows.length === 0 ? <Empty title="No messages match" /> : <MessageTable rows={rows} open={(id) => set("id", id)} />}
      </Query>
      {open && <MessageDrawer id={open} onClose={() => set("id", null)} />}
    </>
  );
}

export function DeadLettersPage() {
  const [params, setParams] = useSearchParams();
  const open = params.get("id");
  const list = useQuery({ queryKey: ["destinations", "dead"], queryFn: () => unwrap(api.GET("/api/destinations/dead-letters", { params: { query: { limit: 500 } } })), refetchInterval: 5000 });
  const me = useMe();
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const queries = useQueryClient();
  const replay = useMutation({
    mutationFn: (ids: string[] | null) => unwrap(api.POST("/api/destinations/dead-letters/replay", { body: { ids } })),
    onSuccess: () => {
      setChosen(new Set());
      void queries.invalidateQueries({ queryKey: ["destinations"] });
    },
  });
  const admin = can(me.data, "admin");
  return (
    <>
      <div className="title-row">
        <h1>Dead letters</h1>
        {admin && (
          <>
            <button type="button" disabled={chosen.size === 0 || replay.isPending} onClick={() => replay.mutate([...chosen])}>Replay {chosen.size || ""} chosen</button>
            <button type="button" className="primary" disabled={!list.data?.length || replay.isPending} onClick={() => replay.mutate(null)}>Replay all</button>
          </>
        )}
      </div>
      <MessagingTabs />
      <p className="lead">Messages that failed after their last retry, or that the receiver refused for good. Replaying sends them again with the same idempotency key, so a receiver that got one already can tell.</p>
      {replay.error && <ErrorBox error={replay.error} />}
      {replay.data && <p role="status">{replay.data.replayed} message(s) sent back to the outbox.</p>}
      <Query q={list} what="the dead letters">
        {(rows) =>
          rows.length === 0 ? <Empty title="No dead letters">Every message was delivered or is still being tried.</Empty> : (
            <MessageTable rows={rows} open={(id) => setParams({ id })} pick={admin ? { chosen, toggle: (id) => setChosen((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; }) } : undefined} />
          )
        }
      </Query>
      {open && <MessageDrawer id={open} onClose={() => setParams({})} />}
    </>
  );
}
