// What the decision being edited (saved or not) shows a chosen person on a chosen page, and why:
// the variant, its content as the page would get it, each rule's outcome and the facts the rules
// read. Nothing is recorded. The person and the page are in the address.
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { PersonPicker } from "../../components/PersonPicker";
import { ErrorBox } from "../../components/States";
import { useDebounced } from "../audiences/AudienceEditPage";
import { type DecisionDoc, pageContext } from "./model";

export function PreviewPanel({ doc, ready }: { doc: DecisionDoc; ready: boolean }) {
  const [params, setParams] = useSearchParams();
  const person = params.get("person");
  const who = params.get("who") ?? person ?? "";
  const path = params.get("page") ?? "";
  const set = (changes: Record<string, string | null>) =>
    setParams(
      (p) => {
        const q = new URLSearchParams(p);
        for (const [k, v] of Object.entries(changes)) {
          if (v === null || v === "") q.delete(k);
          else q.set(k, v);
        }
        return q;
      },
      { replace: true },
    );
  const draft = useDebounced(doc, 350);
  const context = useDebounced(pageContext(path), 350);
  const preview = useQuery({
    queryKey: ["decisions", "preview", draft, person, context],
    queryFn: () =>
      unwrap(api.POST("/api/decisions/preview", { body: { decision: draft as never, identifier: `profile_id:${person}`, context } })),
    enabled: ready && person !== null,
    placeholderData: (prev) => prev,
  });
  return (
    <aside className="panel preview" aria-label="Preview" aria-live="polite">
      <h2>Preview</h2>
      <p className="hint">What this draft shows one person. Nothing is recorded.</p>
      <PersonPicker
        value={person ? { profile_id: person, label: who } : null}
        onChange={(p) => set({ person: p?.profile_id ?? null, who: p?.label ?? null })}
        label="Person"
      />
      <label>
        On page
        <input value={path} placeholder="/ (any page)" onChange={(e) => set({ page: e.target.value })} />
      </label>
      {!person ? (
        <p className="hint">Search by user id, email, anonymous id or device id to choose someone.</p>
      ) : !ready ? (
        <p className="hint">Fix the draft to preview it.</p>
      ) : preview.error ? (
        <ErrorBox error={preview.error} />
      ) : preview.data ? (
        <PreviewResult r={preview.data} who={who} />
      ) : (
        <p className="hint">Deciding…</p>
      )}
    </aside>
  );
}

type Result = Schemas["PreviewResult"];

function PreviewResult({ r, who }: { r: Result; who: string }) {
  const why =
    r.arm === "holdout"
      ? "In the holdout: the default, whatever the rules say."
      : r.rule
        ? `Rule “${r.rule}” matched.`
        : "No rule matched: the default.";
  const facts = [
    ...r.audiences.map((a) => `in ${a}`),
    ...Object.entries(r.traits).map(([k, v]) => `${k} = ${v == null ? "not set" : JSON.stringify(v)}`),
    ...Object.entries(r.computed_traits).map(([k, v]) => `${k} = ${v == null ? "not set" : JSON.stringify(v)}`),
  ];
  return (
    <div className="preview-result">
      <p>
        <strong>{who}</strong> sees
      </p>
      <p className="big-number" data-testid="preview-variant">{r.variant}</p>
      <p>{why}</p>
      <pre className="preview-box" aria-label="Content the page gets">{JSON.stringify(r.content, null, 2)}</pre>
      {r.rules.length > 0 && (
        <ul className="plain rule-trace" aria-label="Rules">
          {r.rules.map((t) => (
            <li key={String(t.rule)}>
              <span aria-hidden="true">{t.matched ? "✓" : "✗"}</span> {String(t.rule)}{" "}
              <span className="hint">{t.matched ? "holds" : r.arm === "holdout" ? "not read" : "does not hold"}</span>
            </li>
          ))}
        </ul>
      )}
      <p className="hint">
        What the rules read: {facts.length ? facts.join(" · ") : "nothing of this person"}
        {r.profile_id === null && " (nobody has this identifier yet)"}
      </p>
    </div>
  );
}
