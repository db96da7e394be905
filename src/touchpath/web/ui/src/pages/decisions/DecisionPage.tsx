// One decision: its variants, rules, holdout and goal, edited as a draft and saved as a new
// version; where it is live (publish a version on a source, take it off); a preview for a chosen
// person on a chosen page; exposure and conversion per variant. The version shown, the person and
// the page previewed are in the address.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, getJson, type Schemas, send, unwrap } from "../../api/client";
import { LookupsActive } from "../../api/lookups";
import { can, useMe } from "../../auth/session";
import { ErrorBox, Loading } from "../../components/States";
import { fmtTime } from "../../format";
import { blankDecision, type DecisionDoc, problems } from "./model";
import { NumbersPanel } from "./NumbersPanel";
import { PreviewPanel } from "./PreviewPanel";
import { RulesPanel, SettingsPanel, VariantsPanel } from "./DecisionForm";
import "../journeys/journeys.css";
import "./decisions.css";

type Saved = Schemas["SavedDecision"];

export default function DecisionPage() {
  const name = useParams().name ?? "new";
  const [params] = useSearchParams();
  const isNew = name === "new";
  const version = params.get("version") ? Number(params.get("version")) : undefined;
  const saved = useQuery({
    queryKey: ["decisions", name, version],
    queryFn: () => unwrap(api.GET("/api/decisions/{name}", { params: { path: { name }, query: { version } } })),
    enabled: !isNew,
  });
  if (isNew) return <Editor key="new" initial={blankDecision(params.get("name") || "new-decision")} saved={null} />;
  if (saved.error) return <ErrorBox error={saved.error} retry={() => void saved.refetch()} />;
  if (!saved.data) return <Loading what="the decision" />;
  return <Editor key={`${name}@${saved.data.version}`} initial={saved.data.spec as unknown as DecisionDoc} saved={saved.data} />;
}

function Editor({ initial, saved }: { initial: DecisionDoc; saved: Saved | null }) {
  const [doc, setDocRaw] = useState<DecisionDoc>(initial);
  const [dirty, setDirty] = useState(saved === null);
  const [active, setActive] = useState(false); // autocomplete loads once a field has focus
  const setDoc = (d: DecisionDoc) => {
    setDocRaw(d);
    setDirty(true);
  };
  const me = useMe();
  const editor = can(me.data, "editor");
  const queries = useQueryClient();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const save = useMutation({
    mutationFn: () => send<Saved>("PUT", `/api/decisions/${encodeURIComponent(doc.name)}`, doc),
    onSuccess: (r) => {
      void queries.invalidateQueries({ queryKey: ["decisions"] });
      setDirty(false);
      const keep = new URLSearchParams(params);
      keep.delete("name");
      keep.set("version", String(r.version)); // the person and page previewed stay
      void navigate(`/decisions/${encodeURIComponent(r.name)}?${keep.toString()}`, { replace: saved !== null });
    },
  });
  const issues = problems(doc);
  return (
    <>
      <p className="crumbs">
        <Link to="/decisions">Decisions</Link> /
      </p>
      <div className="title-row">
        <h1>{doc.name}</h1>
        {saved ? <span className="badge">version {saved.version} · {fmtTime(saved.created_at)} by {saved.created_by}</span> : <span className="badge">new, not saved</span>}
        {dirty && saved && <span className="badge warn">unsaved changes</span>}
        <span className="grow" />
        {editor && (
          <button type="button" className="primary" disabled={!dirty || issues.length > 0 || save.isPending} onClick={() => save.mutate()}>
            {saved ? "Save as new version" : "Save decision"}
          </button>
        )}
      </div>
      <label className="description">
        What it is for
        <input value={doc.description ?? ""} disabled={!editor} onChange={(e) => setDoc({ ...doc, description: e.target.value })} placeholder="e.g. the home page's hero for returning visitors" />
      </label>
      {save.error && <ErrorBox error={save.error} />}
      {editor && issues.length > 0 && (
        <div className="state error" role="alert" aria-label="To fix before saving">
          <strong>To fix before saving</strong>
          <ul>{issues.map((p) => <li key={p}>{p}</li>)}</ul>
        </div>
      )}
      <div className="builder decision-builder">
        <div onFocus={() => setActive(true)}>
          <LookupsActive.Provider value={active}>
            <VariantsPanel doc={doc} onChange={setDoc} readOnly={!editor} />
            <RulesPanel doc={doc} onChange={setDoc} readOnly={!editor} />
            <SettingsPanel doc={doc} onChange={setDoc} readOnly={!editor} />
          </LookupsActive.Provider>
          {saved && <PublishPanel saved={saved} editor={editor} dirty={dirty} />}
          {saved && <NumbersPanel name={saved.name} version={saved.version} />}
        </div>
        <PreviewPanel doc={doc} ready={issues.length === 0} />
      </div>
    </>
  );
}

function PublishPanel({ saved, editor, dirty }: { saved: Saved; editor: boolean; dirty: boolean }) {
  const name = saved.name;
  const me = useMe();
  const list = useQuery({ queryKey: ["decisions"], queryFn: () => unwrap(api.GET("/api/decisions")) });
  const sources = useQuery({
    queryKey: ["sources"],
    queryFn: () => getJson<{ name: string }[]>("/api/sources"),
    enabled: can(me.data, "admin"),
    staleTime: 60_000,
  });
  const [source, setSource] = useState("");
  const queries = useQueryClient();
  const done = () => void queries.invalidateQueries({ queryKey: ["decisions"] });
  const publish = useMutation({
    mutationFn: (src: string) => send("POST", `/api/decisions/${encodeURIComponent(name)}/publish`, { source: src, version: saved.version }),
    onSuccess: done,
  });
  const unpublish = useMutation({
    mutationFn: (src: string) => send("POST", `/api/decisions/${encodeURIComponent(name)}/unpublish`, { source: src }),
    onSuccess: done,
  });
  const pubs = list.data?.find((d) => d.name === name)?.publications ?? [];
  const options = (sources.data ?? []).map((s) => s.name);
  const pick = source || options[0] || "";
  const already = pubs.some((p) => p.source === pick && p.version === saved.version);
  return (
    <section className="panel" aria-label="Where it is live">
      <h2>Where it is live</h2>
      {pubs.length === 0 ? (
        <p className="hint">Not published: no page gets it yet. Publishing version {saved.version} on a source makes that source&apos;s pages and apps get it from <code>/v1/decide</code>.</p>
      ) : (
        <ul className="plain">
          {pubs.map((p) => (
            <li key={p.source_id}>
              <strong>{p.source}</strong> answers version {p.version}
              {p.version !== saved.version && <span className="warn"> (this page shows version {saved.version})</span>}
              <span className="hint"> since {fmtTime(p.published_at)} by {p.published_by}</span>{" "}
              {editor && (
                <button type="button" onClick={() => unpublish.mutate(p.source)} disabled={unpublish.isPending}>
                  Take off {p.source}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {editor && (
        <div className="toolbar">
          {options.length ? (
            <label>
              Source
              <select value={pick} onChange={(e) => setSource(e.target.value)}>
                {options.map((s) => <option key={s} value={s}>{s}</option>)}
              </select>
            </label>
          ) : (
            <label>
              Source
              <input value={source} onChange={(e) => setSource(e.target.value)} placeholder="source name" />
            </label>
          )}
          <button type="button" className="primary" disabled={!pick || dirty || already || publish.isPending} onClick={() => publish.mutate(pick)}>
            Publish version {saved.version}
          </button>
          {already && <span className="hint">{pick} already answers version {saved.version}.</span>}
          {dirty && <span className="hint">Save your changes first: a source answers a saved version.</span>}
        </div>
      )}
      {(publish.error || unpublish.error) && <ErrorBox error={publish.error ?? unpublish.error} />}
    </section>
  );
}
