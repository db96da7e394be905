// Templates: the list, and an editor for one (its channel, each field as Jinja2 text, the
// defaults of variables a person may lack) with a live preview rendered for a real person. A
// variable without a default is refused at save time, with its name.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { type Picked, PersonPicker } from "../../components/PersonPicker";
import { Empty, ErrorBox, Loading, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { useDebounced } from "../audiences/AudienceEditPage";
import { JsonBox, Select } from "../journeys/fields";
import { MessagingTabs } from "./Tabs";

const FIELDS: Record<string, string[]> = { email: ["subject", "text", "html"], sms: ["body"], push: ["title", "body"], webhook: [] };

interface Spec {
  channel: string;
  fields: Record<string, unknown>;
  defaults: Record<string, unknown>;
}

export default function TemplatesPage() {
  const [params, setParams] = useSearchParams();
  const name = params.get("name");
  const list = useQuery({ queryKey: ["templates"], queryFn: () => unwrap(api.GET("/api/destinations/templates")) });
  const me = useMe();
  const [fresh, setFresh] = useState("");
  return (
    <>
      <div className="title-row">
        <h1>Templates</h1>
        {can(me.data, "editor") && (
          <form className="inline-form" onSubmit={(e) => { e.preventDefault(); if (fresh) setParams({ name: fresh, new: "1" }); }}>
            <label><span className="sr-only">Name of the new template</span><input value={fresh} placeholder="new-template-name" onChange={(e) => setFresh(e.target.value)} /></label>
            <button type="submit" className="primary" disabled={!fresh}>New template</button>
          </form>
        )}
      </div>
      <MessagingTabs />
      <div className="two-col templates">
        <Query q={list} what="the templates">
          {(rows) => rows.length === 0 ? <Empty title="No templates yet" /> : (
            <table className="rows panel" aria-label="Templates">
              <thead><tr><th scope="col">Template</th><th scope="col">Channel</th><th scope="col">Changed</th></tr></thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.name} className={t.name === name ? "chosen" : ""}>
                    <td><button type="button" className="link" onClick={() => setParams({ name: t.name })}>{t.name}</button></td>
                    <td>{t.channel}</td>
                    <td>{fmtTime(t.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Query>
        <div>{name ? <Editor key={name} name={name} isNew={params.get("new") === "1"} /> : <p className="hint">Choose a template to edit it and preview it for a person.</p>}</div>
      </div>
    </>
  );
}

function Editor({ name, isNew }: { name: string; isNew: boolean }) {
  const saved = useQuery({ queryKey: ["templates", name], queryFn: () => unwrap(api.GET("/api/destinations/templates/{name}", { params: { path: { name } } })), enabled: !isNew });
  if (!isNew && saved.error) return <ErrorBox error={saved.error} />;
  if (!isNew && !saved.data) return <Loading what="the template" />;
  const initial: Spec = saved.data ? { channel: saved.data.channel, fields: saved.data.fields, defaults: saved.data.defaults ?? {} } : { channel: "email", fields: { subject: "Hello {{ traits.first_name }}", text: "…" }, defaults: { "traits.first_name": "there" } };
  return <TemplateForm name={name} initial={initial} />;
}

function TemplateForm({ name, initial }: { name: string; initial: Spec }) {
  const [spec, setSpec] = useState<Spec>(initial);
  const [who, setWho] = useState<Picked | null>(null);
  const me = useMe();
  const draft = useDebounced(spec, 400);
  const preview = useQuery({
    queryKey: ["templates", "preview", draft, who?.profile_id],
    queryFn: () => unwrap(api.POST("/api/destinations/templates/preview", { body: { template: draft as never, profile: who?.profile_id } })),
    enabled: can(me.data, "editor"),
    retry: false,
    placeholderData: (p) => p,
  });
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT("/api/destinations/templates/{name}", { params: { path: { name } }, body: spec as never })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["templates"] }),
  });
  const names = [...new Set([...(FIELDS[spec.channel] ?? []), ...Object.keys(spec.fields)])];
  return (
    <section className="panel" aria-label={`Template ${name}`}>
      <h2>{name}</h2>
      <div className="form-grid">
        <Select label="Channel" value={spec.channel} onChange={(c) => setSpec({ ...spec, channel: c })} options={["email", "sms", "push", "webhook"]} />
        {spec.channel === "webhook" ? (
          <JsonBox label="Payload fields (JSON, Jinja2 in the values)" value={spec.fields} onChange={(v) => setSpec({ ...spec, fields: v as Record<string, unknown> })} rows={6} />
        ) : (
          names.map((f) => (
            <label key={f}>
              {f}
              <textarea rows={f === "html" || f === "text" || f === "body" ? 5 : 1} value={String(spec.fields[f] ?? "")} onChange={(e) => setSpec({ ...spec, fields: { ...spec.fields, [f]: e.target.value } })} />
            </label>
          ))
        )}
        <JsonBox label="Defaults of variables a person may lack (JSON, by dotted path)" value={spec.defaults} rows={3} onChange={(v) => setSpec({ ...spec, defaults: v as Record<string, unknown> })} />
      </div>
      <p className="hint">Variables: <code>{"{{ traits.first_name }}"}</code>, <code>{"{{ computed.lifetime_value }}"}</code>, <code>{"{{ event.properties.cart_id }}"}</code>.</p>
      {can(me.data, "editor") && (
        <button type="button" className="primary" disabled={save.isPending} onClick={() => save.mutate()}>Save template</button>
      )}
      {save.error && <ErrorBox error={save.error} />}
      {save.isSuccess && <span role="status"> Saved.</span>}
      <h3>Preview</h3>
      <PersonPicker value={who} onChange={setWho} label="As seen by" />
      {preview.error ? <ErrorBox error={preview.error} /> : preview.data && (
        <div className="preview-box" aria-label="Preview">
          {Object.entries(preview.data.fields).map(([k, v]) =>
            k === "html" ? (
              <iframe key={k} title="HTML part" sandbox="" srcDoc={String(v)} />
            ) : (
              <div key={k}><span className="hint">{k}</span><div>{typeof v === "string" ? v : JSON.stringify(v)}</div></div>
            ),
          )}
        </div>
      )}
    </section>
  );
}
