// The journey map editor: persona, goal, stages, touchpoints dragged between stages, each
// touchpoint's event definition (with autocomplete), actions, thoughts, emotion, pain points,
// opportunities and blueprint lanes. The numbers below follow the draft (bound without saving);
// each save is a new version.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, getJson, unwrap } from "../../api/client";
import { useEventNames } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { ErrorBox, Loading } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { useDebounced } from "../audiences/AudienceEditPage";
import type { AudienceRow } from "../audiences/types";
import { BoundMapView } from "./BoundMapView";
import {
  addTouchpoint,
  bindable,
  blankMap,
  type Doc,
  freshName,
  moveTouchpoint,
  removeTouchpoint,
  updateTouchpoint,
} from "./editing";
import { STAGE_TYPES } from "./model";
import { TouchpointForm } from "./TouchpointForm";

export default function MapEditor() {
  const name = useParams().name ?? "new";
  const isNew = name === "new";
  const [params] = useSearchParams();
  const version = params.get("version") ? Number(params.get("version")) : undefined;
  const loaded = useQuery({
    queryKey: ["maps", name, "doc", version],
    queryFn: () => unwrap(api.GET("/api/maps/{name}", { params: { path: { name }, query: { version } } })),
    enabled: !isNew,
  });
  const [doc, setDoc] = useState<Doc | null>(isNew ? blankMap() : null);
  useEffect(() => {
    if (loaded.data && doc === null) setDoc(loaded.data.document);
  }, [loaded.data, doc]);
  if (!isNew && loaded.error) return <ErrorBox error={loaded.error} />;
  if (doc === null) return <Loading what="the map" />;
  return <Editor doc={doc} setDoc={setDoc} isNew={isNew} baseVersion={loaded.data?.version ?? null} />;
}

function Editor(props: { doc: Doc; setDoc: (d: Doc) => void; isNew: boolean; baseVersion: number | null }) {
  const { doc, setDoc } = props;
  const [selected, setSelected] = useState<[number, number] | null>(null);
  const names = useEventNames();
  const nameOptions = (names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }));
  const audiences = useQuery({ queryKey: ["audiences"], queryFn: () => getJson<AudienceRow[]>("/api/audiences") });
  const draft = useDebounced(doc, 500);
  const canBind = bindable(draft);
  const bound = useQuery({
    queryKey: ["maps", "draft-bind", draft],
    queryFn: () => unwrap(api.POST("/api/maps/bind", { body: draft as never })),
    enabled: canBind,
    placeholderData: (prev) => prev,
  });
  const navigate = useNavigate();
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => unwrap(api.POST("/api/maps", { body: doc as never })),
    onSuccess: (r) => {
      void queries.invalidateQueries({ queryKey: ["maps"] });
      void navigate(`/maps/${encodeURIComponent(r.name)}`);
    },
  });
  const stages = doc.stages ?? [];
  const tp = selected ? stages[selected[0]]?.touchpoints?.[selected[1]] : undefined;
  const drop = (e: React.DragEvent, stage: number) => {
    e.preventDefault();
    const from = e.dataTransfer.getData("text/x-touchpoint").split(",").map(Number);
    if (from.length === 2) {
      const moved = moveTouchpoint(doc, [from[0]!, from[1]!], stage);
      setDoc(moved);
      setSelected([stage, (moved.stages?.[stage]?.touchpoints?.length ?? 1) - 1]);
    }
  };
  return (
    <>
      <p className="crumbs">
        <Link to="/maps">Journey maps</Link> /
      </p>
      <div className="title-row">
        <h1>{props.isNew ? "New journey map" : `Edit ${doc.title || doc.name}`}</h1>
        <span className="hint">
          {props.baseVersion ? `editing v${props.baseVersion}; saving makes v${props.baseVersion + 1}` : "saving makes v1"}
        </span>
        <button type="button" className="primary" disabled={!doc.name || save.isPending} onClick={() => save.mutate()}>
          {save.isPending ? "Saving…" : "Save new version"}
        </button>
      </div>
      {save.error && <ErrorBox error={save.error} />}
      <section className="panel toolbar" aria-label="Map">
        <label>
          Name
          <input value={doc.name} disabled={!props.isNew} onChange={(e) => setDoc({ ...doc, name: e.target.value })} placeholder="e.g. onboarding" />
        </label>
        <label>
          Title
          <input value={doc.title ?? ""} onChange={(e) => setDoc({ ...doc, title: e.target.value })} style={{ width: 260 }} />
        </label>
        <label>
          Type
          <select value={doc.type ?? "current_state"} onChange={(e) => setDoc({ ...doc, type: e.target.value as Doc["type"] })}>
            {Object.entries(STAGE_TYPES).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <Suggest
          label="Goal event"
          value={doc.goal?.event ?? ""}
          placeholder="none"
          onChange={(event) => setDoc({ ...doc, goal: event ? { ...(doc.goal ?? {}), event } : null })}
          options={nameOptions}
        />
        <label>
          Persona
          <input
            value={doc.persona?.name ?? ""}
            onChange={(e) => setDoc({ ...doc, persona: { ...(doc.persona ?? { name: "" }), name: e.target.value } })}
          />
        </label>
        <label>
          Persona&apos;s audience
          <select
            value={doc.persona?.audience ?? ""}
            onChange={(e) =>
              setDoc({ ...doc, persona: { ...(doc.persona ?? { name: "Everyone" }), audience: e.target.value || null } })
            }
          >
            <option value="">everyone</option>
            {(audiences.data ?? []).map((a) => (
              <option key={a.name}>{a.name}</option>
            ))}
          </select>
        </label>
      </section>
      <section className="stage-board" aria-label="Stages and touchpoints">
        {stages.map((s, i) => (
          <div
            key={i}
            className="stage-col"
            role="group"
            aria-label={`Stage ${s.label || s.name}`}
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => drop(e, i)}
          >
            <input
              className="stage-name"
              aria-label={`Name of stage ${i + 1}`}
              value={s.label ?? s.name}
              onChange={(e) =>
                setDoc({ ...doc, stages: stages.map((x, j) => (j === i ? { ...x, label: e.target.value } : x)) })
              }
            />
            {(s.touchpoints ?? []).map((t, j) => (
              <button
                type="button"
                key={t.name}
                draggable
                className={`tp-chip ${selected?.[0] === i && selected[1] === j ? "selected" : ""}`}
                onDragStart={(e) => e.dataTransfer.setData("text/x-touchpoint", `${i},${j}`)}
                onClick={() => setSelected([i, j])}
              >
                <strong>{t.name}</strong>
                <span>{t.match.event}</span>
              </button>
            ))}
            <button
              type="button"
              className="small"
              onClick={() => {
                const next = addTouchpoint(doc, i, freshName(doc, "New touchpoint"), "");
                setDoc(next);
                setSelected([i, (next.stages?.[i]?.touchpoints?.length ?? 1) - 1]);
              }}
            >
              + Touchpoint
            </button>
          </div>
        ))}
        <button
          type="button"
          className="small"
          onClick={() => setDoc({ ...doc, stages: [...stages, { name: `stage_${stages.length + 1}`, touchpoints: [] }] })}
        >
          + Stage
        </button>
      </section>
      {tp && selected && (
        <TouchpointForm
          key={`${selected[0]}-${selected[1]}`}
          tp={tp}
          stages={stages.map((s) => s.label || s.name)}
          stage={selected[0]}
          nameOptions={nameOptions}
          onChange={(patch) => setDoc(updateTouchpoint(doc, selected, patch))}
          onMove={(to) => {
            const moved = moveTouchpoint(doc, selected, to);
            setDoc(moved);
            setSelected([to, (moved.stages?.[to]?.touchpoints?.length ?? 1) - 1]);
          }}
          onRemove={() => {
            setDoc(removeTouchpoint(doc, selected));
            setSelected(null);
          }}
        />
      )}
      <section aria-label="Numbers of the draft" aria-live="polite">
        <h2>
          Numbers of this draft{" "}
          <span className="hint">
            {!canBind ? "give every touchpoint a name and an event" : bound.isFetching ? "updating…" : "bound to the events now"}
          </span>
        </h2>
        {bound.error && <ErrorBox error={bound.error} />}
        {canBind && bound.data && <BoundMapView bound={bound.data} />}
      </section>
    </>
  );
}
