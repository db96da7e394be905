// The Events page's filters: event, channels, dates, property conditions, breakdown, interval.
// Edits are kept locally and applied to the URL with "Apply" (or Enter), so typing never
// refetches on every keystroke.
import { type FormEvent, useEffect, useState } from "react";
import { COLUMNS, LookupsActive, useEventNames, usePropertyKeys, usePropertyValues } from "../../api/lookups";
import { Suggest } from "../../components/Suggest";
import { fmtInt } from "../../charts/options";
import { type Cond, type EventFilters, type Interval, OPS } from "./filters";

interface Props {
  value: EventFilters;
  channels: string[];
  onApply: (f: EventFilters) => void;
}

export function FilterBar(props: Props) {
  const [active, setActive] = useState(false);
  return (
    <LookupsActive.Provider value={active}>
      <div onFocus={() => setActive(true)}>
        <Filters {...props} />
      </div>
    </LookupsActive.Provider>
  );
}

function Filters({ value, channels, onApply }: Props) {
  const [f, setF] = useState(value);
  useEffect(() => setF(value), [value]);
  const names = useEventNames();
  const keys = usePropertyKeys(f.event || null);
  const keyOptions = [
    ...COLUMNS.map((c) => ({ value: c, hint: "column" })),
    ...(keys.data ?? []).map((k) => ({ value: k.key, hint: k.examples.slice(0, 3).join(", ") })),
  ];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <form className="panel filters" onSubmit={submit} aria-label="Filters">
      <div className="toolbar">
        <Suggest
          label="Event"
          value={f.event}
          placeholder="any event"
          onChange={(event) => setF({ ...f, event })}
          options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
          width={220}
        />
        <label>
          Channel
          <select
            value={f.channels[0] ?? ""}
            onChange={(e) => setF({ ...f, channels: e.target.value ? [e.target.value] : [] })}
          >
            <option value="">any channel</option>
            {channels.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          From
          <input type="date" value={f.start} onChange={(e) => setF({ ...f, start: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" value={f.end} onChange={(e) => setF({ ...f, end: e.target.value })} />
        </label>
        <Suggest
          label="Break down by"
          value={f.breakdown}
          placeholder="nothing"
          onChange={(breakdown) => setF({ ...f, breakdown })}
          options={keyOptions}
          width={170}
        />
        <label>
          Per
          <select value={f.interval} onChange={(e) => setF({ ...f, interval: e.target.value as Interval })}>
            <option value="hour">hour</option>
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
      </div>
      {f.where.map((c, i) => (
        <ConditionRow
          key={i}
          index={i}
          cond={c}
          event={f.event}
          keyOptions={keyOptions}
          onChange={(nc) => setF({ ...f, where: f.where.map((x, j) => (j === i ? nc : x)) })}
          onRemove={() => setF({ ...f, where: f.where.filter((_, j) => j !== i) })}
        />
      ))}
      <div className="toolbar">
        <button
          type="button"
          onClick={() => setF({ ...f, where: [...f.where, { property: "", op: "eq", value: "" }] })}
        >
          + Property condition
        </button>
        <button type="submit" className="primary">
          Apply
        </button>
        <button
          type="button"
          onClick={() => onApply({ event: "", channels: [], start: "", end: "", where: [], breakdown: "", interval: "day" })}
        >
          Clear
        </button>
      </div>
    </form>
  );
}

export function ConditionRow(props: {
  index: number;
  /** What the row is called for screen readers (default "Condition"): "Step 2 condition". */
  group?: string;
  cond: Cond;
  event: string;
  keyOptions: { value: string; hint?: string }[];
  onChange: (c: Cond) => void;
  onRemove: () => void;
}) {
  const { cond, onChange, index } = props;
  const name = `${props.group ?? "Condition"} ${index + 1}`;
  const values = usePropertyValues(cond.property, props.event || null);
  const needsValue = OPS.find((o) => o.op === cond.op)?.needsValue ?? true;
  return (
    <div className="toolbar condition" role="group" aria-label={name}>
      <span className="where">{index === 0 ? "where" : "and"}</span>
      <Suggest
        label="Property"
        value={cond.property}
        onChange={(property) => onChange({ ...cond, property })}
        options={props.keyOptions}
        width={180}
      />
      <label>
        Operator
        <select value={cond.op} onChange={(e) => onChange({ ...cond, op: e.target.value as Cond["op"] })}>
          {OPS.map((o) => (
            <option key={o.op} value={o.op}>
              {o.label}
            </option>
          ))}
        </select>
      </label>
      {needsValue && (
        <Suggest
          label="Value"
          value={cond.value}
          onChange={(value) => onChange({ ...cond, value })}
          options={(values.data ?? []).map((v) => ({ value: v.name, hint: `${fmtInt(v.count)}` }))}
          width={180}
        />
      )}
      <button type="button" className="danger" onClick={props.onRemove} aria-label={`Remove ${name.toLowerCase()}`}>
        Remove
      </button>
    </div>
  );
}
