// Sources and their write keys: the keys SDKs send to /v1 (public in browsers and apps).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, unwrap } from "../../api/client";
import { CopyBlock } from "../../components/Copy";
import { ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { curlSnippet } from "../home/snippets";

export default function SourcesPage() {
  const queries = useQueryClient();
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => unwrap(api.GET("/api/sources")) });
  const [name, setName] = useState("");
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/api/sources", { body: { name } })),
    onSuccess: () => {
      setName("");
      void queries.invalidateQueries({ queryKey: ["sources"] });
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
        <code>/v1</code> only, so it may ship inside a browser or app.
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
      <Query q={sources} what="the sources">
        {(list) => (
          <div className="sources">
            {list.map((s) => (
              <section key={s.id} className="panel" aria-label={`Source ${s.name}`}>
                <h2>
                  {s.name} <span className="hint">added {fmtTime(s.created_at)}</span>
                </h2>
                <CopyBlock text={s.write_key} label={`Write key of ${s.name}`} />
                <details>
                  <summary>Send a test event</summary>
                  <CopyBlock text={curlSnippet(window.location.origin, s.write_key)} label={`curl for ${s.name}`} />
                </details>
              </section>
            ))}
          </div>
        )}
      </Query>
    </>
  );
}
