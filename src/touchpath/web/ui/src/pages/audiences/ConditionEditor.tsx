// The condition builder: a tree of groups (all of / any of) whose leaves are "did an event",
// "trait" and "computed trait" tests (audiences), or "in audience", trait, computed trait and
// page/screen context tests (decisions, through `LeafKinds`); any leaf or group can be negated.
import { useQuery } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { api, getJson, unwrap } from "../../api/client";
import { COLUMNS, useEventNames, usePropertyKeys } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { Suggest } from "../../components/Suggest";
import {
  AUDIENCE_LEAVES,
  COMPARE_OPS,
  type Cond,
  children,
  emptyGroup,
  type Group,
  type LeafKind,
  newLeaf,
  type NotCond,
  type Performed,
  type TraitCond,
  days,
  typedValue,
  valueText,
  withChildren,
} from "./conditions";

/** The leaf kinds the builder offers (audiences' by default). */
export const LeafKinds = createContext<LeafKind[]>(AUDIENCE_LEAVES);

const ADD_LABEL: Record<LeafKind, string> = {
  performed: "+ Did an event",
  trait: "+ Trait",
  computed: "+ Computed trait",
  audience: "+ In audience",
  context: "+ Page or screen",
};

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
        ) : inner.kind === ("audience" as string) ? (
          <AudienceLeaf c={inner as unknown as AudienceCond} onChange={(c) => setInner(c as unknown as Cond)} />
        ) : inner.kind === ("context" as string) ? (
          <ContextLeaf c={inner as unknown as ContextCond} onChange={(c) => setInner(c as unknown as Cond)} />
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
  const leaves = useContext(LeafKinds);
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
        {leaves.map((k) => (
          <button key={k} type="button" onClick={() => set([...list, newLeaf(k)])}>
            {ADD_LABEL[k]}
          </button>
        ))}
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

interface AudienceCond {
  kind: "audience";
  audience: string;
}
interface ContextCond {
  kind: "context";
  path: string;
  op?: string;
  value?: unknown;
}

function AudienceLeaf({ c, onChange }: { c: AudienceCond; onChange: (c: AudienceCond) => void }) {
  const audiences = useQuery({
    queryKey: ["audiences"],
    queryFn: () => getJson<{ name: string; size: number }[]>("/api/audiences"),
    staleTime: 60_000,
  });
  return (
    <div className="leaf-body toolbar">
      <Suggest
        label="Is in audience"
        value={c.audience}
        onChange={(audience) => onChange({ ...c, audience })}
        options={(audiences.data ?? []).map((a) => ({ value: a.name, hint: `${fmtInt(a.size)} people` }))}
        width={220}
      />
    </div>
  );
}

/** Paths a page or app usually sends in its context (any dotted path works). */
const CONTEXT_PATHS = ["page.path", "page.url", "page.referrer", "page.title", "screen.name", "locale", "campaign.source", "campaign.name", "device.type", "os.name"];

function ContextLeaf({ c, onChange }: { c: ContextCond; onChange: (c: ContextCond) => void }) {
  const needsValue = c.op !== "is_set" && c.op !== "is_not_set";
  return (
    <div className="leaf-body toolbar">
      <Suggest
        label="Page or screen field"
        value={c.path}
        onChange={(path) => onChange({ ...c, path })}
        options={CONTEXT_PATHS.map((value) => ({ value }))}
        placeholder="page.path"
        width={180}
      />
      <OpSelect op={c.op ?? "eq"} onChange={(op) => onChange({ ...c, op, value: typedValue(op, valueText(c.value)) })} />
      {needsValue && (
        <label>
          Value
          <input value={valueText(c.value)} placeholder="/checkout" onChange={(e) => onChange({ ...c, value: typedValue(c.op ?? "eq", e.target.value) })} />
        </label>
      )}
    </div>
  );
}
