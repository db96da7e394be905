// Build or edit an audience. The draft lives in the URL (`?c=`), so it can be shared before it is
// saved; the size is previewed as you edit.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { send } from "../../api/client";
import { LookupsActive } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { ErrorBox } from "../../components/States";
import { displayName } from "../people/sessions";
import { ConditionEditor } from "./ConditionEditor";
import { complete, type Cond, describe, encodeDraft } from "./conditions";
import { previewQuery, startingDraft } from "./queries";

export default function AudienceEditPage() {
  const existing = useParams().name;
  const [params, setParams] = useSearchParams();
  const draft: Cond = useMemo(() => startingDraft(params), [params]);
  const [name, setName] = useState(existing ?? params.get("name") ?? "");
  const [active, setActive] = useState(false); // autocomplete loads once a field has focus
  const setDraft = (c: Cond) => {
    const next = new URLSearchParams(params);
    next.set("c", encodeDraft(c));
    setParams(next, { replace: true });
  };
  const debounced = useDebounced(draft, 350);
  const ready = complete(debounced);
  const preview = useQuery({
    ...previewQuery(debounced),
    enabled: ready,
    placeholderData: (prev) => prev,
  });
  const navigate = useNavigate();
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => send("PUT", `/api/audiences/${encodeURIComponent(name)}`, { condition: draft }),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["audiences"] });
      void navigate(`/audiences/${encodeURIComponent(name)}`);
    },
  });
  return (
    <>
      <p className="crumbs">
        <Link to="/audiences">Audiences</Link> /
      </p>
      <h1>{existing ? `Edit ${existing}` : "New audience"}</h1>
      <div className="builder">
        <div>
          <section className="panel">
            <label>
              Name
              <input
                value={name}
                disabled={existing !== undefined}
                onChange={(e) => setName(e.target.value)}
                placeholder="e.g. repeat buyers"
                style={{ width: 320 }}
              />
            </label>
          </section>
          <section className="panel" aria-label="Condition" onFocus={() => setActive(true)}>
            <LookupsActive.Provider value={active}>
              <ConditionEditor cond={draft} onChange={setDraft} path="1" />
            </LookupsActive.Provider>
          </section>
        </div>
        <aside className="panel preview" aria-label="Preview" aria-live="polite">
          <h2>Preview</h2>
          {!ready ? (
            <p className="hint">Complete the condition to see who it selects.</p>
          ) : preview.error ? (
            <ErrorBox error={preview.error} />
          ) : preview.data ? (
            <>
              <p className="big-number">
                {fmtInt(preview.data.size)} <span>of {fmtInt(preview.data.profiles)} people</span>
              </p>
              <p className="hint">People who {describe(debounced)}.</p>
              <ul className="plain">
                {preview.data.sample.map((p) => (
                  <li key={p.profile_id}>{displayName(p.identifiers, p.profile_id)}</li>
                ))}
              </ul>
            </>
          ) : (
            <p className="hint">Counting…</p>
          )}
          <button
            type="button"
            className="primary"
            disabled={!ready || !name.trim() || save.isPending}
            onClick={() => save.mutate()}
          >
            {existing ? "Save changes" : "Save audience"}
          </button>
          {save.error && <ErrorBox error={save.error} />}
        </aside>
      </div>
    </>
  );
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}
