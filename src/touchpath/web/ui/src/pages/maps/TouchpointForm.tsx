// One touchpoint of the map being edited: its event definition and what people wrote about it.
import { COLUMNS, usePropertyKeys } from "../../api/lookups";
import { Suggest } from "../../components/Suggest";
import { COMPARE_OPS, typedValue, valueText } from "../audiences/conditions";
import type { DocTouchpoint } from "./editing";
import { lines, unlines } from "./editing";

const TEXTS = [
  ["actions", "Actions (one a line)"],
  ["thoughts", "Thoughts"],
  ["pain_points", "Pain points"],
  ["opportunities", "Opportunities"],
] as const;
const LANES = ["frontstage", "backstage", "people", "process", "technology"] as const;

export function TouchpointForm(props: {
  tp: DocTouchpoint;
  stages: string[];
  stage: number;
  nameOptions: { value: string; hint?: string }[];
  onChange: (patch: Partial<DocTouchpoint>) => void;
  onMove: (stage: number) => void;
  onRemove: () => void;
}) {
  const { tp, onChange } = props;
  const keys = usePropertyKeys(tp.match.event || null);
  const where = tp.match.where ?? [];
  const setWhere = (w: typeof where) => onChange({ match: { ...tp.match, where: w } });
  const keyOptions = [...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key, hint: k.examples.slice(0, 3).join(", ") }))];
  return (
    <section className="panel" aria-label={`Touchpoint ${tp.name}`}>
      <div className="toolbar">
        <label>
          Touchpoint
          <input value={tp.name} onChange={(e) => onChange({ name: e.target.value })} />
        </label>
        <Suggest
          label="Event"
          value={tp.match.event}
          onChange={(event) => onChange({ match: { ...tp.match, event } })}
          options={props.nameOptions}
          width={220}
        />
        <label>
          Channel
          <input
            value={typeof tp.match.channel === "string" ? tp.match.channel : ""}
            placeholder="any"
            onChange={(e) => onChange({ match: { ...tp.match, channel: e.target.value || null } })}
            style={{ width: 110 }}
          />
        </label>
        <label>
          Emotion
          <select
            value={tp.emotion ?? ""}
            onChange={(e) => onChange({ emotion: e.target.value === "" ? null : Number(e.target.value) })}
          >
            <option value="">from feedback</option>
            <option value="2">very good (+2)</option>
            <option value="1">good (+1)</option>
            <option value="0">neutral (0)</option>
            <option value="-1">bad (−1)</option>
            <option value="-2">very bad (−2)</option>
          </select>
        </label>
        <label>
          Stage
          <select value={props.stage} onChange={(e) => props.onMove(Number(e.target.value))}>
            {props.stages.map((s, i) => (
              <option key={i} value={i}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="danger" onClick={props.onRemove}>
          Remove touchpoint
        </button>
      </div>
      {where.map((w, i) => (
        <div className="toolbar" key={i} role="group" aria-label={`Match condition ${i + 1}`}>
          <span className="where">{i === 0 ? "where" : "and"}</span>
          <Suggest
            label="Property"
            value={w.property}
            onChange={(property) => setWhere(where.map((x, j) => (j === i ? { ...x, property } : x)))}
            options={keyOptions}
            width={160}
          />
          <label>
            Operator
            <select
              value={w.op ?? "eq"}
              onChange={(e) => {
                const op = e.target.value as (typeof COMPARE_OPS)[number]["op"];
                setWhere(where.map((x, j) => (j === i ? { ...x, op, value: typedValue(op, valueText(x.value)) } : x)));
              }}
            >
              {COMPARE_OPS.map((o) => (
                <option key={o.op} value={o.op}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Value
            <input
              value={valueText(w.value)}
              onChange={(e) => setWhere(where.map((x, j) => (j === i ? { ...x, value: typedValue(x.op ?? "eq", e.target.value) } : x)))}
            />
          </label>
          <button type="button" onClick={() => setWhere(where.filter((_, j) => j !== i))} aria-label={`Remove match condition ${i + 1}`}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => setWhere([...where, { property: "", op: "eq", value: "" }])}>
        + Match condition
      </button>
      <div className="text-grid">
        {TEXTS.map(([field, label]) => (
          <label key={field}>
            {label}
            <textarea rows={3} value={unlines(tp[field])} onChange={(e) => onChange({ [field]: lines(e.target.value) })} />
          </label>
        ))}
      </div>
      <details>
        <summary>Blueprint lanes</summary>
        <div className="text-grid">
          {LANES.map((lane) => (
            <label key={lane}>
              {lane[0]!.toUpperCase() + lane.slice(1)}
              <textarea
                rows={2}
                value={unlines(tp.lanes?.[lane])}
                onChange={(e) => onChange({ lanes: { ...(tp.lanes ?? {}), [lane]: lines(e.target.value) } })}
              />
            </label>
          ))}
        </div>
      </details>
    </section>
  );
}
