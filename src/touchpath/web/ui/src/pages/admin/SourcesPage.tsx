// Sources and their write keys: the keys SDKs send to /v1 (public in browsers and apps).
// A key is shown whole once, when it is made (a new source, a rotation); afterwards its prefix.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { CopyBlock } from "../../components/Copy";
import { ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { curlSnippet } from "../home/snippets";

type Source = Schemas["SourceOut"];

export default function SourcesPage() {
  const queries = useQueryClient();
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => unwrap(api.GET("/api/sources")) });
  const [name, setName] = useState("");
  const [made, setMade] = useState<Source | null>(null);
  const refresh = (src: Source) => {
    setMade(src);
    void queries.invalidateQueries({ queryKey: ["sources"] });
  };
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/api/sources", { body: { name } })),
    onSuccess: (src) => {
      setName("");
      refresh(src);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <>
      <h1>Sources &amp; write keys</h1>
      <p className="lead">
        One source per site, app or server that sends events. Its write key authenticates{" "}
        <code>/v1</code> only, so it may ship inside a browser or app. A key is shown once, when it
        is made; rotate to get a new one (the old keeps working for the grace period you choose).
      </p>
      <form className="panel toolbar" onSubmit={submit} aria-label="Add a source">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. ios app" required />
        </label>
        <button type="submit" className="primary" disabled={add.isPending}>
          Add source
        </button>
      </form>
      {add.error && <ErrorBox error={add.error} />}
      {made?.write_key && <NewKey source={made} onDone={() => setMade(null)} />}
      <Query q={sources} what="the sources">
        {(list) => (
          <div className="sources">
            {list.map((s) => (
              <SourcePanel key={s.id} source={s} onKey={refresh} />
            ))}
          </div>
        )}
      </Query>
    </>
  );
}

function NewKey({ source, onDone }: { source: Source; onDone: () => void }) {
  const key = source.write_key ?? "";
  return (
    <section className="panel" aria-label="New write key" role="status">
      <h2>New write key of {source.name}</h2>
      <p>Copy it now: it is shown this once, and only its prefix is kept.</p>
      <CopyBlock text={key} label={`New write key of ${source.name}`} />
      <details>
        <summary>Send a test event</summary>
        <CopyBlock text={curlSnippet(window.location.origin, key)} label={`curl for ${source.name}`} />
      </details>
      <button type="button" onClick={onDone}>
        Done
      </button>
    </section>
  );
}

function SourcePanel({ source: s, onKey }: { source: Source; onKey: (src: Source) => void }) {
  const queries = useQueryClient();
  const [grace, setGrace] = useState(24);
  const path = { params: { path: { name: s.name } } };
  const rotate = useMutation({
    mutationFn: () =>
      unwrap(api.POST("/api/sources/{name}/rotate", { ...path, body: { grace_hours: grace } })),
    onSuccess: onKey,
  });
  const revoke = useMutation({
    mutationFn: (prefix: string) =>
      unwrap(api.POST("/api/sources/{name}/revoke", { ...path, body: { prefix } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["sources"] }),
  });
  return (
    <section className="panel" aria-label={`Source ${s.name}`}>
      <h2>
        {s.name} <span className="hint">added {fmtTime(s.created_at)}</span>
      </h2>
      <table aria-label={`Write keys of ${s.name}`}>
        <thead>
          <tr>
            <th>Key</th>
            <th>Made</th>
            <th>State</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {s.keys.map((k) => (
            <tr key={k.prefix + k.created_at}>
              <td>
                <code>{k.prefix}…</code>
              </td>
              <td>{fmtTime(k.created_at)}</td>
              <td>
                {k.revoked_at
                  ? `revoked ${fmtTime(k.revoked_at)}`
                  : k.expires_at
                    ? `${k.live ? "works until" : "ended"} ${fmtTime(k.expires_at)}`
                    : "live"}
              </td>
              <td>
                {k.live && (
                  <button type="button" onClick={() => revoke.mutate(k.prefix)} disabled={revoke.isPending}>
                    Revoke {k.prefix}…
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="toolbar"
        aria-label={`Rotate the key of ${s.name}`}
        onSubmit={(e) => {
          e.preventDefault();
          rotate.mutate();
        }}
      >
        <label>
          Old keys keep working for (hours)
          <input type="number" min={0} max={2160} step="any" value={grace} onChange={(e) => setGrace(Number(e.target.value))} />
        </label>
        <button type="submit" disabled={rotate.isPending}>
          Rotate key
        </button>
      </form>
      {rotate.error && <ErrorBox error={rotate.error} />}
      {revoke.error && <ErrorBox error={revoke.error} />}
    </section>
  );
}
