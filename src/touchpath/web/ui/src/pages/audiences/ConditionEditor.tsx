// The audience builder: a tree of groups (all of / any of) whose leaves are "did an event",
// "trait" and "computed trait" tests; any leaf or group can be negated.
import { useQuery } from "@tanstack/react-query";
import { api, getJson, unwrap } from "../../api/client";
import { COLUMNS, useEventNames, usePropertyKeys } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { Suggest } from "../../components/Suggest";
import {
  COMPARE_OPS,
  type Cond,
  children,
  emptyGroup,
  type Group,
  newPerformed,
  type NotCond,
  type Performed,
  type TraitCond,
  days,
  typedValue,
  valueText,
  withChildren,
} from "./conditions";

interface Props {
  cond: Cond;
  onChange: (c: Cond) => void;
  onRemove?: () => void;
  path: string;
}

/** One node: negation toggle, then the node's own editor. */
export function ConditionEditor({ cond, onChange, onRemove, path }: Props) {
  const negated = cond.kind === "not";
  const inner = negated ? ((cond as NotCond).cond as Cond) : cond;
  const setInner = (c: Cond) => onChange(negated ? { kind: "not", cond: c } : c);
  const isGroup = inner.kind === "and" || inner.kind === "or";
  return (
    <div className={`cond ${isGroup ? "cond-group" : "cond-leaf"}`} role="group" aria-label={`Condition ${path}`}>
      <div className="cond-head">
        {onRemove && (
          <label className="inline">
            <input
              type="checkbox"
              checked={negated}
              onChange={(e) => onChange(e.target.checked ? { kind: "not", cond: inner } : inner)}
            />
            not
          </label>
        )}
        {isGroup ? (
          <GroupEditor group={inner as Group} onChange={setInner} path={path} />
        ) : inner.kind === "performed" ? (
          <PerformedEditor p={inner as Performed} onChange={setInner} />
        ) : (
          <TraitEditor t={inner as TraitCond} onChange={setInner} />
        )}
        {onRemove && (
          <button type="button" className="danger" onClick={onRemove} aria-label={`Remove condition ${path}`}>
            Remove
          </button>
        )}
      </div>
    </div>
  );
}

function GroupEditor({ group, onChange, path }: { group: Group; onChange: (c: Cond) => void; path: string }) {
  const list = children(group);
  const set = (l: Cond[]) => onChange(withChildren(group, l));
  return (
    <div className="group-body">
      <label>
        People who match
        <select
          value={group.kind}
          onChange={(e) => onChange(withChildren(emptyGroup(e.target.value as "and" | "or"), list))}
        >
          <option value="and">all of these</option>
          <option value="or">any of these</option>
        </select>
      </label>
      {list.map((c, i) => (
        <ConditionEditor
          key={i}
          cond={c}
          path={`${path}.${i + 1}`}
          onChange={(nc) => set(list.map((x, j) => (j === i ? nc : x)))}
          onRemove={() => set(list.filter((_, j) => j !== i))}
        />
      ))}
      <div className="toolbar add-row">
        <button type="button" onClick={() => set([...list, newPerformed()])}>
          + Did an event
        </button>
        <button type="button" onClick={() => set([...list, { kind: "trait", trait: "", op: "eq", value: "" }])}>
          + Trait
        </button>
        <button type="button" onClick={() => set([...list, { kind: "computed", trait: "", op: "gte", value: 1 }])}>
          + Computed trait
        </button>
        <button type="button" onClick={() => set([...list, emptyGroup("or")])}>
          + Group
        </button>
      </div>
    </div>
  );
}

type Times = "at_least" | "at_most" | "never";

function PerformedEditor({ p, onChange }: { p: Performed; onChange: (c: Cond) => void }) {
  const names = useEventNames();
  const keys = usePropertyKeys(p.event.event || null);
  const mode: Times = p.at_most === 0 ? "never" : p.at_most != null && p.at_least == null ? "at_most" : "at_least";
  const count = mode === "at_most" ? (p.at_most ?? 1) : (p.at_least ?? 1);
  const setTimes = (m: Times, n: number) =>
    onChange({
      ...p,
      at_least: m === "at_least" ? n : null,
      at_most: m === "at_most" ? n : m === "never" ? 0 : null,
    });
  const where = p.event.where ?? [];
  const setWhere = (w: typeof where) => onChange({ ...p, event: { ...p.event, where: w } });
  const keyOptions = [...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key }))];
  return (
    <div className="leaf-body">
      <div className="toolbar">
        <Suggest
          label="Did event"
          value={p.event.event ?? ""}
          placeholder="any event"
          onChange={(event) => onChange({ ...p, event: { ...p.event, event: event || null } })}
          options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
        />
        <label>
          How often
          <select value={mode} onChange={(e) => setTimes(e.target.value as Times, count)}>
            <option value="at_least">at least</option>
            <option value="at_most">at most</option>
            <option value="never">not at all</option>
          </select>
        </label>
        {mode !== "never" && (
          <label>
            Times
            <input
              type="number"
              min={0}
              value={count}
              style={{ width: 70 }}
              onChange={(e) => setTimes(mode, Math.max(0, Number(e.target.value)))}
            />
          </label>
        )}
        <label>
          In the last … days
          <input
            type="number"
            min={1}
            placeholder="ever"
            value={days(p.within)}
            style={{ width: 90 }}
            onChange={(e) => onChange({ ...p, within: e.target.value ? `${Number(e.target.value)}d` : null })}
          />
        </label>
      </div>
      {where.map((w, i) => (
        <div className="toolbar" key={i} role="group" aria-label={`Event property ${i + 1}`}>
          <span className="where">{i === 0 ? "where" : "and"}</span>
          <Suggest
            label="Property"
            value={w.property}
            onChange={(property) => setWhere(where.map((x, j) => (j === i ? { ...x, property } : x)))}
            options={keyOptions}
            width={160}
          />
          <OpSelect op={w.op ?? "eq"} onChange={(op) => setWhere(where.map((x, j) => (j === i ? { ...x, op, value: typedValue(op, valueText(x.value)) } : x)))} />
          <label>
            Value
            <input
              value={valueText(w.value)}
              onChange={(e) => setWhere(where.map((x, j) => (j === i ? { ...x, value: typedValue(x.op ?? "eq", e.target.value) } : x)))}
            />
          </label>
          <button type="button" onClick={() => setWhere(where.filter((_, j) => j !== i))} aria-label={`Remove event property ${i + 1}`}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="small" onClick={() => setWhere([...where, { property: "", op: "eq", value: "" }])}>
        + Event property
      </button>
    </div>
  );
}

function OpSelect({ op, onChange }: { op: string; onChange: (op: CompareOpT) => void }) {
  return (
    <label>
      Operator
      <select value={op} onChange={(e) => onChange(e.target.value as CompareOpT)}>
        {COMPARE_OPS.map((o) => (
          <option key={o.op} value={o.op}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
type CompareOpT = (typeof COMPARE_OPS)[number]["op"];

function TraitEditor({ t, onChange }: { t: TraitCond; onChange: (c: Cond) => void }) {
  const computed = t.kind === ("computed" as string);
  const traitNames = useQuery({
    queryKey: ["explore", "trait-names"],
    queryFn: () => unwrap(api.GET("/api/explore/trait-names")),
    enabled: !computed,
    staleTime: 60_000,
  });
  const computedNames = useQuery({
    queryKey: ["traits"],
    queryFn: () => getJson<{ name: string; op: string }[]>("/api/traits"),
    enabled: computed,
    staleTime: 60_000,
  });
  const options = computed
    ? (computedNames.data ?? []).map((c) => ({ value: c.name, hint: c.op }))
    : (traitNames.data ?? []).map((c) => ({ value: c.name, hint: `${fmtInt(c.count)} people` }));
  const needsValue = t.op !== "is_set" && t.op !== "is_not_set";
  return (
    <div className="leaf-body toolbar">
      <Suggest
        label={computed ? "Computed trait" : "Trait"}
        value={t.trait}
        onChange={(trait) => onChange({ ...t, trait } as Cond)}
        options={options}
        width={180}
      />
      <OpSelect op={t.op ?? "eq"} onChange={(op) => onChange({ ...t, op, value: typedValue(op, valueText(t.value)) } as Cond)} />
      {needsValue && (
        <label>
          Value
          <input value={valueText(t.value)} onChange={(e) => onChange({ ...t, value: typedValue(t.op ?? "eq", e.target.value) } as Cond)} />
        </label>
      )}
    </div>
  );
}
