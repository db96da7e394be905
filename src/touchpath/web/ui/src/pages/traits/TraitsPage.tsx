// Computed traits: a value per person computed from their events (count, sum, last, most frequent…),
// defined here with a live preview of what it would hold, and usable in audiences.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { api, getJson, type Schemas, send, unwrap } from "../../api/client";
import { COLUMNS, useEventNames, usePropertyKeys } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { Suggest } from "../../components/Suggest";
import { Empty, ErrorBox, Query } from "../../components/States";
import { useDebounced } from "../audiences/AudienceEditPage";
import { days } from "../audiences/conditions";

type Trait = Schemas["ComputedTrait"];
type AggOp = Trait["op"];

export const AGG_OPS: { op: AggOp; label: string }[] = [
  { op: "count", label: "number of events" },
  { op: "sum", label: "sum of a property" },
  { op: "avg", label: "average of a property" },
  { op: "min", label: "smallest value of a property" },
  { op: "max", label: "largest value of a property" },
  { op: "first", label: "first value of a property" },
  { op: "last", label: "latest value of a property" },
  { op: "most_frequent", label: "most frequent value of a property" },
  { op: "unique_count", label: "number of distinct values of a property" },
  { op: "unique_list", label: "list of distinct values of a property" },
];

/** A trait's definition in words, e.g. `sum of revenue over Order Completed in the last 90 days`. */
export function describeTrait(t: Trait): string {
  const what = t.op === "count" ? "number of" : `${AGG_OPS.find((o) => o.op === t.op)?.label.replace(" a property", "")} ${t.property ?? "?"} over`;
  const ev = t.event?.event ?? "any event";
  return `${what} ${ev}${t.within ? ` in the last ${days(t.within)} days` : ""}`.replace(/ of of /, " of ");
}

export default function TraitsPage() {
  const list = useQuery({ queryKey: ["traits"], queryFn: () => getJson<Trait[]>("/api/traits") });
  const [params, setParams] = useSearchParams();
  const draft: Trait = useMemo(
    () => ({
      name: params.get("name") ?? "",
      op: (params.get("op") as AggOp) ?? "count",
      event: { event: params.get("event") || null, where: [] },
      property: params.get("property") || null,
      within: params.get("days") ? `${Number(params.get("days"))}d` : null,
    }),
    [params],
  );
  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => send("PUT", `/api/traits/${encodeURIComponent(draft.name)}`, draft),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["traits"] });
      setParams({});
    },
  });
  const remove = useMutation({
    mutationFn: (name: string) => send("DELETE", `/api/traits/${encodeURIComponent(name)}`),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["traits"] }),
  });
  return (
    <>
      <h1>Computed traits</h1>
      <p className="lead">
        A value per person computed from their events, kept current as events arrive: use them on a
        person&apos;s page and in audiences (“computed trait lifetime_revenue ≥ 500”).
      </p>
      <Query q={list} what="the computed traits">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No computed traits yet">
              <span>Define one below.</span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Computed traits">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Definition</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((t) => (
                  <tr key={t.name}>
                    <td>{t.name}</td>
                    <td className="wrap">{describeTrait(t)}</td>
                    <td>
                      <button
                        type="button"
                        onClick={() =>
                          set({
                            name: t.name,
                            op: t.op,
                            event: t.event?.event ?? null,
                            property: t.property ?? null,
                            days: t.within ? days(t.within) : null,
                          })
                        }
                      >
                        Edit
                      </button>{" "}
                      <button type="button" className="danger" onClick={() => remove.mutate(t.name)}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Query>
      <TraitBuilder draft={draft} set={set} onSave={() => save.mutate()} saving={save.isPending} />
      {save.error && <ErrorBox error={save.error} />}
    </>
  );
}

function TraitBuilder(props: {
  draft: Trait;
  set: (p: Record<string, string | null>) => void;
  onSave: () => void;
  saving: boolean;
}) {
  const { draft, set } = props;
  const names = useEventNames();
  const keys = usePropertyKeys(draft.event?.event ?? null);
  const needsProperty = draft.op !== "count";
  const ready = !needsProperty || !!draft.property;
  const debounced = useDebounced(draft, 350);
  const preview = useQuery({
    queryKey: ["trait-preview", debounced],
    queryFn: () => unwrap(api.POST("/api/explore/trait-preview", { body: { ...debounced, name: debounced.name || "preview" } })),
    enabled: !debounced.op || debounced.op === "count" || !!debounced.property,
    placeholderData: (prev) => prev,
  });
  return (
    <div className="builder">
      <section className="panel" aria-label="Define a computed trait">
        <h2>Define a computed trait</h2>
        <div className="toolbar">
          <label>
            Name
            <input value={draft.name} onChange={(e) => set({ name: e.target.value })} placeholder="e.g. lifetime_revenue" />
          </label>
          <label>
            Compute
            <select aria-label="Compute" value={draft.op} onChange={(e) => set({ op: e.target.value })}>
              {AGG_OPS.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {needsProperty && (
            <Suggest
              label="Property"
              value={draft.property ?? ""}
              onChange={(property) => set({ property })}
              options={[...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key, hint: k.examples.slice(0, 3).join(", ") }))]}
              width={170}
            />
          )}
          <Suggest
            label="Of events"
            value={draft.event?.event ?? ""}
            placeholder="any event"
            onChange={(event) => set({ event })}
            options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
          />
          <label>
            In the last … days
            <input
              type="number"
              min={1}
              placeholder="ever"
              style={{ width: 90 }}
              value={days(draft.within)}
              onChange={(e) => set({ days: e.target.value || null })}
            />
          </label>
        </div>
        <p className="hint">{describeTrait(draft)}</p>
        <button type="button" className="primary" disabled={!ready || !draft.name || props.saving} onClick={props.onSave}>
          Save computed trait
        </button>
      </section>
      <aside className="panel preview" aria-label="Preview" aria-live="polite">
        <h2>Preview</h2>
        {preview.error ? (
          <ErrorBox error={preview.error} />
        ) : !ready ? (
          <p className="hint">Choose the property to compute.</p>
        ) : preview.data ? (
          <>
            <p className="big-number">
              {fmtInt(preview.data.profiles)} <span>people would have a value</span>
            </p>
            <table className="rows" aria-label="Commonest values">
              <thead>
                <tr>
                  <th scope="col">Value</th>
                  <th scope="col" className="num">
                    People
                  </th>
                </tr>
              </thead>
              <tbody>
                {preview.data.top_values.map((v) => (
                  <tr key={v.name}>
                    <td className="person">{v.name}</td>
                    <td className="num">{fmtInt(v.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p className="hint">Computing…</p>
        )}
      </aside>
    </div>
  );
}
