// A journey in the builder: the canvas with live counts per node and edge, a palette to add
// nodes, the side panel (the chosen node's form, the journey's settings, a dry run, the version
// history), inline problems from the server with their paths, save, publish, pause, resume and
// archive. The version shown, the chosen node and the panel are in the address.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { fmtInt } from "../../charts/options";
import { ErrorBox, Loading } from "../../components/States";
import { fmtTime } from "../../format";
import { useDebounced } from "../audiences/AudienceEditPage";
import { DryRunPanel, TestSendBox } from "./DryRunPanel";
import { StatusBadge } from "./JourneysIndex";
import { JourneyCanvas } from "./JourneyCanvas";
import { type JourneyDoc, KINDS, addNode, layout, removeNode, renameNode } from "./model";
import { ChoiceLists, NodeForm, useChoices } from "./NodeForm";
import { SettingsForm } from "./SettingsForm";
import { newJourney } from "./touchpoints";
import "./journeys.css";

type Detail = Schemas["JourneyDetail"];
type Problem = Schemas["Problem"];

export default function JourneyPage() {
  const name = useParams().name ?? "new";
  const [params] = useSearchParams();
  const isNew = name === "new";
  const version = params.get("version") ? Number(params.get("version")) : undefined;
  const detail = useQuery({
    queryKey: ["journeys", name, "detail", version],
    queryFn: () => unwrap(api.GET("/api/journeys/{name}", { params: { path: { name }, query: { version } } })),
    enabled: !isNew,
  });
  const taken = useQuery({ queryKey: ["journeys"], queryFn: () => unwrap(api.GET("/api/journeys")), enabled: isNew });
  if (isNew) {
    // From a map touchpoint ("Create a journey from here"), the name must be one no journey has.
    if (params.get("entry_touchpoint") && !params.get("name") && !taken.data) {
      if (taken.error) return <ErrorBox error={taken.error} retry={() => void taken.refetch()} />;
      return <Loading what="the journeys" />;
    }
    return <Builder key="new" initial={newJourney(params, (taken.data ?? []).map((j) => j.name))} detail={null} />;
  }
  if (detail.error) return <ErrorBox error={detail.error} retry={() => void detail.refetch()} />;
  if (!detail.data) return <Loading what="the journey" />;
  return <Builder key={`${name}@${detail.data.version}`} initial={detail.data.definition as unknown as JourneyDoc} detail={detail.data} />;
}

function Builder({ initial, detail }: { initial: JourneyDoc; detail: Detail | null }) {
  const [doc, setDocRaw] = useState<JourneyDoc>(initial);
  const [dirty, setDirty] = useState(detail === null);
  const setDoc = (d: JourneyDoc) => {
    setDocRaw(d);
    setDirty(true);
  };
  const [params, setParams] = useSearchParams();
  const selected = params.get("node");
  const tab = params.get("tab") ?? "node";
  const setParam = (changes: Record<string, string | null>) =>
    setParams((p) => {
      const q = new URLSearchParams(p);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null) q.delete(k);
        else q.set(k, v);
      }
      return q;
    }, { replace: true });
  const me = useMe();
  const editor = can(me.data, "editor");
  const choices = useChoices();
  const name = doc.name;
  const saved = detail !== null;
  const shown = detail?.version;

  const allVersions = params.get("count") !== "version";
  const canvas = useQuery({
    queryKey: ["journeys", name, "canvas", shown, allVersions],
    queryFn: () => unwrap(api.GET("/api/journeys/{name}/canvas", { params: { path: { name }, query: { version: shown, all_versions: allVersions } } })),
    enabled: saved,
    refetchInterval: 5000,
  });
  const draft = useDebounced(doc, 400);
  const validation = useQuery({
    queryKey: ["journeys", "validate", draft],
    queryFn: () => unwrap(api.POST("/api/journeys/validate", { body: draft as never })),
    enabled: editor,
    placeholderData: (prev) => prev,
  });
  const problems: Problem[] = editor ? (validation.data?.problems ?? []) : [...(canvas.data?.problems ?? []), ...(canvas.data?.nodes.flatMap((n) => n.problems ?? []) ?? [])];
  const counts = Object.fromEntries((canvas.data?.nodes ?? []).map((n) => [n.id, n.counts]));
  const edgeCounts = Object.fromEntries((canvas.data?.edges ?? []).map((e) => [e.id, e.count ?? 0]));

  const queries = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => void queries.invalidateQueries({ queryKey: ["journeys"] });
  const save = useMutation({
    mutationFn: () => unwrap(api.POST("/api/journeys", { body: { ...doc, nodes: withPositions(doc) } as never })),
    onSuccess: (r) => {
      refresh();
      void navigate(`/journeys/${encodeURIComponent(r.name)}?version=${r.version}`);
    },
  });
  const publish = useMutation({
    mutationFn: () => unwrap(api.POST("/api/journeys/{name}/publish", { params: { path: { name } }, body: { version: shown } })),
    onSuccess: refresh,
  });
  const act = useMutation({
    mutationFn: (what: "pause" | "resume" | "archive") => unwrap(api.POST(`/api/journeys/{name}/${what}`, { params: { path: { name } } })),
    onSuccess: refresh,
  });
  const node = selected ? doc.nodes[selected] : undefined;
  const nodeProblems = problems.filter((p) => p.node && p.node === selected);
  const loose = problems.filter((p) => !p.node || !doc.nodes[p.node]);
  const add = (kind: string) => {
    const pos = layout(doc);
    const after = selected && doc.nodes[selected] ? selected : null;
    const at = after ? { x: pos[after]!.x + 260, y: pos[after]!.y } : { x: 40, y: Math.max(40, ...Object.values(pos).map((p) => p.y + 180)) };
    const [next, id] = addNode(doc, kind, at, after);
    setDoc(next);
    setParam({ node: id, tab: "node" });
  };
  const live = detail?.live_version;
  const status = detail?.status ?? "draft";
  return (
    <>
      <ChoiceLists c={choices} />
      <p className="crumbs">
        <Link to="/journeys">Journeys</Link> / {name}
      </p>
      <div className="title-row">
        <h1>{doc.title || name}</h1>
        <StatusBadge status={status} />
        {saved && (
          <label className="inline">
            Version{" "}
            <select value={shown} onChange={(e) => void navigate(`/journeys/${encodeURIComponent(name)}?version=${e.target.value}`)}>
              {[...(detail?.versions ?? [])].reverse().map((v) => (
                <option key={v.version} value={v.version}>
                  v{v.version}
                  {v.live ? " (live)" : ""}
                </option>
              ))}
            </select>
          </label>
        )}
        {editor && (
          <button type="button" className={dirty ? "primary" : ""} disabled={!dirty || save.isPending} onClick={() => save.mutate()}>
            {save.isPending ? "Saving…" : saved ? "Save as new version" : "Save"}
          </button>
        )}
        {editor && saved && shown !== live && (
          <button type="button" className="primary" disabled={dirty || publish.isPending || problems.length > 0} title={dirty ? "Save the changes first" : problems.length ? "Fix the problems first" : undefined} onClick={() => publish.mutate()}>
            Publish v{shown}
          </button>
        )}
        {editor && status === "live" && (
          <button type="button" onClick={() => act.mutate("pause")}>
            Pause
          </button>
        )}
        {editor && status === "paused" && (
          <button type="button" onClick={() => act.mutate("resume")}>
            Resume
          </button>
        )}
        {editor && (status === "live" || status === "paused") && (
          <button type="button" onClick={() => window.confirm("Archive: no one new enters; the people in it finish their journey. Go on?") && act.mutate("archive")}>
            Archive
          </button>
        )}
      </div>
      {[save.error, publish.error, act.error].map((e, i) => e && <ErrorBox key={i} error={e} />)}
      <div className="figures" aria-label="Journey totals">
        <span>
          <span className="card-value">{fmtInt(canvas.data?.entered ?? 0)}</span> entered
        </span>
        <span>
          <span className="card-value">{fmtInt(canvas.data?.converted ?? 0)}</span> reached the goal
        </span>
        <span>{live != null ? `v${live} is live` : "not published yet"}{shown != null && shown !== live ? ` · showing v${shown}` : ""}</span>
        {saved && (
          <label className="inline">
            Count people on{" "}
            <select value={allVersions ? "all" : "version"} onChange={(e) => setParam({ count: e.target.value === "all" ? null : "version" })}>
              <option value="all">every version</option>
              <option value="version">v{shown} only</option>
            </select>
          </label>
        )}
        {dirty && <span className="warn">unsaved changes</span>}
      </div>
      {loose.length > 0 && (
        <div className="state error" role="alert" aria-label="Problems">
          <strong>{loose.length === 1 ? "1 problem" : `${loose.length} problems`} to fix before publishing</strong>
          <ul>
            {loose.map((p) => (
              <li key={p.path + p.message}>
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {problems.length > loose.length && <p className="warn">Nodes outlined in red have problems: choose one to see them.</p>}
      <div className="jbuilder">
        <div>
          {editor && (
            <div className="palette" role="toolbar" aria-label="Add a node">
              {KINDS.map((k) => (
                <button key={k.kind} type="button" title={k.help} onClick={() => add(k.kind)}>
                  + {k.label}
                </button>
              ))}
            </div>
          )}
          <JourneyCanvas
            doc={doc}
            onChange={setDoc}
            selected={selected}
            onSelect={(id) => setParam(id ? { node: id, tab: "node" } : { node: null })}
            counts={counts}
            edgeCounts={edgeCounts}
            problems={problems}
            editable={editor}
          />
          <p className="hint">
            Drag from a node&apos;s exit (right edge) to another node to connect them; select a link or node and press Delete to remove it.{" "}
            {saved ? `Numbers are people on ${allVersions ? "every version" : `v${shown}`}, refreshed every 5 s: entered (reached the node), waiting (there now), converted (went on to the goal), exited (left the journey there).` : "Numbers appear once the journey is saved and published."}
          </p>
        </div>
        <aside className="jpanel">
          <div className="tabs" role="tablist">
            {[["node", "Node"], ["settings", "Settings"], ["dryrun", "Dry run"], ["versions", "Versions"]].map(([k, t]) => (
              <button key={k} role="tab" type="button" aria-selected={tab === k} onClick={() => setParam({ tab: k! })}>
                {t}
              </button>
            ))}
          </div>
          {tab === "node" &&
            (node && selected ? (
              <NodeForm
                key={selected}
                id={selected}
                node={node}
                choices={choices}
                problems={nodeProblems}
                onChange={(n) => setDoc({ ...doc, nodes: { ...doc.nodes, [selected]: n } })}
                onRename={(to) => {
                  setDoc(renameNode(doc, selected, to));
                  setParam({ node: to });
                }}
                onRemove={() => {
                  setDoc(removeNode(doc, selected));
                  setParam({ node: null });
                }}
                testSend={(node.kind === "send" || node.kind === "webhook") && editor ? <TestSendBox name={name} node={selected} version={shown} unsaved={dirty} /> : undefined}
              />
            ) : (
              <p className="hint">Choose a node on the canvas to configure it, or add one from the bar above the canvas (it is linked after the chosen node).</p>
            ))}
          {tab === "settings" && <SettingsForm doc={doc} onChange={setDoc} problems={loose} unsaved={!saved} />}
          {tab === "dryrun" && <DryRunPanel name={name} version={shown} draft={dirty ? doc : null} saved={saved} />}
          {tab === "versions" && <Versions detail={detail} />}
        </aside>
      </div>
    </>
  );
}

function withPositions(doc: JourneyDoc): JourneyDoc["nodes"] {
  const pos = layout(doc);
  return Object.fromEntries(Object.entries(doc.nodes).map(([id, n]) => [id, { ...n, position: n.position ?? pos[id] }]));
}

function Versions({ detail }: { detail: Detail | null }) {
  if (!detail) return <p className="hint">Not saved yet.</p>;
  return (
    <table className="rows" aria-label="Versions">
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Saved</th>
          <th scope="col">Published</th>
          <th scope="col" className="num">In it now</th>
        </tr>
      </thead>
      <tbody>
        {[...detail.versions].reverse().map((v) => (
          <tr key={v.version}>
            <td>
              <Link to={`/journeys/${encodeURIComponent(detail.name)}?version=${v.version}`}>v{v.version}</Link> {v.live && <span className="badge status-live">live</span>}
            </td>
            <td>{fmtTime(v.created_at)}</td>
            <td>{v.published_at ? fmtTime(v.published_at) : "–"}</td>
            <td className="num">{fmtInt(v.in_flight ?? 0)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
