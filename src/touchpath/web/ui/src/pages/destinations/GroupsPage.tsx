// Subscription groups: topics people subscribe to per channel (opt-in or opt-out), and the
// consent category they need. A send with a topic is refused for whoever is not subscribed.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, ErrorBox, Query } from "../../components/States";
import { Check, Text } from "../journeys/fields";
import { MessagingTabs } from "./Tabs";

type Group = Schemas["Group"];
const BLANK: Group = { topic: "", channels: [], opt_in: false, consent_category: null, description: null };

export default function GroupsPage() {
  const list = useQuery({ queryKey: ["groups"], queryFn: () => unwrap(api.GET("/api/destinations/groups")) });
  const me = useMe();
  const admin = can(me.data, "admin");
  const [edit, setEdit] = useState<Group | null>(null);
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: (g: Group) => unwrap(api.PUT("/api/destinations/groups/{topic}", { params: { path: { topic: g.topic } }, body: g })),
    onSuccess: () => { setEdit(null); void queries.invalidateQueries({ queryKey: ["groups"] }); },
  });
  const remove = useMutation({
    mutationFn: (topic: string) => unwrap(api.DELETE("/api/destinations/groups/{topic}", { params: { path: { topic } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["groups"] }),
  });
  return (
    <>
      <div className="title-row">
        <h1>Subscription groups</h1>
        {admin && <button type="button" className="primary" onClick={() => setEdit(BLANK)}>Add a group</button>}
      </div>
      <MessagingTabs />
      <p className="lead">A send node or template with a topic only reaches people subscribed to it: everyone who has not unsubscribed (opt-out), or only those who subscribed (opt-in). Unsubscribe links and callbacks change these per person.</p>
      {edit && (
        <section className="panel" aria-label="Group form">
          <div className="form-grid narrow">
            <Text label="Topic" value={edit.topic} onChange={(v) => setEdit({ ...edit, topic: v })} placeholder="marketing" />
            <Text label="Description" value={edit.description} onChange={(v) => setEdit({ ...edit, description: v || null })} />
            <fieldset className="days">
              <legend>Channels (none: every channel)</legend>
              {["email", "sms", "push", "webhook"].map((c) => (
                <Check key={c} label={c} value={(edit.channels ?? []).includes(c)} onChange={(on) => setEdit({ ...edit, channels: on ? [...(edit.channels ?? []), c] : (edit.channels ?? []).filter((x) => x !== c) })} />
              ))}
            </fieldset>
            <Check label="opt-in: only people who subscribed get it" value={edit.opt_in} onChange={(v) => setEdit({ ...edit, opt_in: v })} />
            <Text label="Consent category required (optional)" value={edit.consent_category} onChange={(v) => setEdit({ ...edit, consent_category: v || null })} placeholder="marketing" />
          </div>
          <button type="button" className="primary" disabled={!edit.topic || save.isPending} onClick={() => save.mutate(edit)}>Save group</button>{" "}
          <button type="button" onClick={() => setEdit(null)}>Cancel</button>
          {save.error && <ErrorBox error={save.error} />}
        </section>
      )}
      {remove.error && <ErrorBox error={remove.error} />}
      <Query q={list} what="the groups">
        {(rows) => rows.length === 0 ? <Empty title="No subscription groups yet" /> : (
          <table className="rows panel" aria-label="Subscription groups">
            <thead><tr><th scope="col">Topic</th><th scope="col">Channels</th><th scope="col">Who gets it</th><th scope="col">Consent</th>{admin && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
            <tbody>
              {rows.map((g) => (
                <tr key={g.topic}>
                  <td><strong>{g.topic}</strong>{g.description && <div className="hint">{g.description}</div>}</td>
                  <td>{g.channels?.length ? g.channels.join(", ") : "every channel"}</td>
                  <td>{g.opt_in ? "only who subscribed (opt-in)" : "everyone but who unsubscribed (opt-out)"}</td>
                  <td>{g.consent_category ?? "–"}</td>
                  {admin && (
                    <td>
                      <button type="button" onClick={() => setEdit(g)}>Edit</button>{" "}
                      <button type="button" className="danger" onClick={() => window.confirm(`Delete the group ${g.topic}?`) && remove.mutate(g.topic)}>Delete</button>
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
