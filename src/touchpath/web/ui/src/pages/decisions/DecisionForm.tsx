// The parts of a decision a marketer edits: the variants (JSON the site renders) with the default,
// the ordered rules (a condition, then a variant or a split), the holdout and the goal.
import { useEffect, useState } from "react";
import { useEventNames } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { Suggest } from "../../components/Suggest";
import { ConditionEditor, LeafKinds } from "../audiences/ConditionEditor";
import { type Cond, DECISION_LEAVES, newLeaf } from "../audiences/conditions";
import { JsonBox } from "../journeys/fields";
import { type DecisionDoc, describeRule, freshName, removeVariant, renameVariant, type RuleDoc, shares, windowDays } from "./model";

type Edit = { doc: DecisionDoc; onChange: (d: DecisionDoc) => void; readOnly?: boolean };

export function VariantsPanel({ doc, onChange, readOnly }: Edit) {
  const names = Object.keys(doc.variants);
  const add = () => {
    const n = freshName("variant", names);
    onChange({ ...doc, variants: { ...doc.variants, [n]: {} } });
  };
  return (
    <section className="panel" aria-label="Variants">
      <h2>Variants <span className="hint">what the page may show: JSON your site renders</span></h2>
      <p className="hint">
        Strings may name a value of the person or the page: <code>{"{{ computed.last_category }}"}</code>,{" "}
        <code>{"{{ traits.first_name }}"}</code>, <code>{"{{ context.page.path }}"}</code>.
      </p>
      <fieldset className="variants" disabled={readOnly}>
        <legend className="sr-only">Variants</legend>
        {names.map((n, i) => (
          <div key={i} className="variant" role="group" aria-label={`Variant ${n}`}>
            <div className="toolbar">
              <NameBox label="Name" value={n} onCommit={(to) => to && !names.includes(to) && onChange(renameVariant(doc, n, to))} />
              <label className="inline">
                <input type="radio" name="default-variant" checked={doc.default === n} onChange={() => onChange({ ...doc, default: n })} /> the default
                (everyone no rule picks)
              </label>
              {names.length > 1 && (
                <button type="button" className="danger" onClick={() => onChange(removeVariant(doc, n))} aria-label={`Remove variant ${n}`}>
                  Remove
                </button>
              )}
            </div>
            <JsonBox label="Content (JSON)" value={doc.variants[n]} rows={3} onChange={(v) => onChange({ ...doc, variants: { ...doc.variants, [n]: (v ?? {}) as Record<string, unknown> } })} />
          </div>
        ))}
        <button type="button" onClick={add}>
          + Variant
        </button>
      </fieldset>
    </section>
  );
}

/** A name typed freely and applied when the box loses focus (renames touch every rule). */
function NameBox({ label, value, onCommit }: { label: string; value: string; onCommit: (v: string) => void }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <label>
      {label}
      <input value={text} onChange={(e) => setText(e.target.value)} onBlur={() => onCommit(text.trim())} style={{ width: 180 }} />
    </label>
  );
}

export function RulesPanel({ doc, onChange, readOnly }: Edit) {
  const set = (rules: RuleDoc[]) => onChange({ ...doc, rules });
  const move = (i: number, by: number) => {
    const r = [...doc.rules];
    const [x] = r.splice(i, 1);
    r.splice(i + by, 0, x!);
    set(r);
  };
  const add = () =>
    set([...doc.rules, { name: freshName("rule", doc.rules.map((r) => r.name)), when: { kind: "and", all: [newLeaf("audience")] }, variant: Object.keys(doc.variants).find((v) => v !== doc.default) ?? doc.default }]);
  return (
    <section className="panel" aria-label="Rules">
      <h2>Who sees what <span className="hint">rules are read in order; the first that holds decides</span></h2>
      <fieldset disabled={readOnly}>
        <legend className="sr-only">Rules</legend>
        <LeafKinds.Provider value={DECISION_LEAVES}>
          {doc.rules.map((r, i) => (
            <RuleEditor
              key={i}
              n={i + 1}
              rule={r}
              doc={doc}
              onChange={(nr) => set(doc.rules.map((x, j) => (j === i ? nr : x)))}
              onRemove={() => set(doc.rules.filter((_, j) => j !== i))}
              onMove={(by) => move(i, by)}
              last={i === doc.rules.length - 1}
            />
          ))}
        </LeafKinds.Provider>
        <p className="everyone-else">
          {doc.rules.length ? "Everyone else" : "Everyone"} sees <strong>{doc.default || "…"}</strong>
          {(doc.holdout ?? 0) > 0 && <>, and so does the {Math.round((doc.holdout ?? 0) * 100)}% holdout whatever the rules say</>}.
        </p>
        <button type="button" onClick={add}>
          + Rule
        </button>
      </fieldset>
    </section>
  );
}

interface RuleProps {
  n: number;
  rule: RuleDoc;
  doc: DecisionDoc;
  onChange: (r: RuleDoc) => void;
  onRemove: () => void;
  onMove: (by: number) => void;
  last: boolean;
}

function RuleEditor({ n, rule, doc, onChange, onRemove, onMove, last }: RuleProps) {
  const variants = Object.keys(doc.variants);
  const splitting = rule.split != null;
  return (
    <div className="rule" role="group" aria-label={`Rule ${n}`}>
      <div className="toolbar">
        <span className="step-no" aria-hidden="true">{n}</span>
        <NameBox label="Rule name" value={rule.name} onCommit={(name) => onChange({ ...rule, name })} />
        <span className="grow" />
        <button type="button" onClick={() => onMove(-1)} disabled={n === 1} aria-label={`Move rule ${n} up`}>↑</button>
        <button type="button" onClick={() => onMove(1)} disabled={last} aria-label={`Move rule ${n} down`}>↓</button>
        <button type="button" className="danger" onClick={onRemove} aria-label={`Remove rule ${n}`}>Remove</button>
      </div>
      <ConditionEditor cond={rule.when} onChange={(when: Cond) => onChange({ ...rule, when })} path={String(n)} />
      <div className="toolbar">
        <label>
          Then show
          <select
            value={splitting ? "__split" : (rule.variant ?? "")}
            onChange={(e) =>
              onChange(
                e.target.value === "__split"
                  ? { ...rule, variant: null, split: Object.fromEntries(variants.map((v) => [v, 1])) }
                  : { ...rule, variant: e.target.value, split: null },
              )
            }
          >
            {variants.map((v) => (
              <option key={v} value={v}>{v}</option>
            ))}
            <option value="__split">a random split between variants…</option>
          </select>
        </label>
        {splitting && <SplitEditor split={rule.split!} variants={variants} onChange={(split) => onChange({ ...rule, split })} />}
      </div>
      <p className="hint">{describeRule(rule)}</p>
    </div>
  );
}

function SplitEditor({ split, variants, onChange }: { split: Record<string, number>; variants: string[]; onChange: (s: Record<string, number>) => void }) {
  const pct = Object.fromEntries(shares(split));
  return (
    <div className="split" role="group" aria-label="Split weights">
      {variants.map((v) => (
        <label key={v}>
          {v} weight{split[v] != null && <span className="hint">{pct[v]}%</span>}
          <input
            type="number"
            min={0}
            step="any"
            style={{ width: 80 }}
            value={split[v] ?? 0}
            onChange={(e) => {
              const w = Number(e.target.value);
              const next = { ...split };
              if (w > 0) next[v] = w;
              else delete next[v];
              onChange(next);
            }}
          />
        </label>
      ))}
      <span className="hint">Each person keeps their arm: assignment hashes their profile id.</span>
    </div>
  );
}

export function SettingsPanel({ doc, onChange, readOnly }: Edit) {
  const names = useEventNames();
  const goal = doc.goal?.event ?? "";
  return (
    <section className="panel" aria-label="Holdout and goal">
      <h2>Holdout and goal</h2>
      <fieldset className="toolbar" disabled={readOnly}>
        <legend className="sr-only">Holdout and goal</legend>
        <label>
          Holdout (% of people)
          <input
            type="number"
            min={0}
            max={99}
            step={1}
            style={{ width: 90 }}
            value={Math.round((doc.holdout ?? 0) * 1000) / 10}
            onChange={(e) => onChange({ ...doc, holdout: Math.max(0, Number(e.target.value)) / 100 })}
          />
        </label>
        <Suggest
          label="Goal: the conversion event"
          value={goal}
          placeholder="e.g. Order Completed"
          onChange={(event) => onChange({ ...doc, goal: event ? { ...(doc.goal ?? {}), event } : null })}
          options={(names.data ?? []).map((n) => ({ value: n.name, hint: `${fmtInt(n.count)} events` }))}
          width={240}
        />
        <label>
          Counts within (days of first seeing it)
          <input
            type="number"
            min={1}
            style={{ width: 90 }}
            value={windowDays(doc.goal_window)}
            onChange={(e) => onChange({ ...doc, goal_window: Math.max(1, Number(e.target.value)) * 86400 })}
          />
        </label>
      </fieldset>
      <p className="hint">
        The holdout gets the default whatever the rules say, so the rules&apos; lift on the goal can be measured against it.
      </p>
    </section>
  );
}
