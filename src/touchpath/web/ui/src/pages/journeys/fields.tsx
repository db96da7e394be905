// Small form fields the journey builder and the other acting pages share: text, number,
// select, checkbox and a JSON box that keeps what was typed until it parses.
import { useEffect, useState } from "react";

export function Text(p: { label: string; value: unknown; onChange: (v: string) => void; placeholder?: string; list?: string; width?: number }) {
  return (
    <label>
      {p.label}
      <input value={p.value == null ? "" : String(p.value)} placeholder={p.placeholder} list={p.list} style={p.width ? { width: p.width } : undefined} onChange={(e) => p.onChange(e.target.value)} />
    </label>
  );
}

export function Num(p: { label: string; value: unknown; onChange: (v: number) => void; min?: number; step?: number }) {
  return (
    <label>
      {p.label}
      <input type="number" value={p.value == null ? "" : Number(p.value)} min={p.min} step={p.step ?? "any"} style={{ width: 90 }} onChange={(e) => p.onChange(Number(e.target.value))} />
    </label>
  );
}

export function Select(p: { label: string; value: unknown; onChange: (v: string) => void; options: (string | [string, string])[] }) {
  return (
    <label>
      {p.label}
      <select value={p.value == null ? "" : String(p.value)} onChange={(e) => p.onChange(e.target.value)}>
        {p.options.map((o) => {
          const [v, t] = typeof o === "string" ? [o, o] : o;
          return (
            <option key={v} value={v}>
              {t}
            </option>
          );
        })}
      </select>
    </label>
  );
}

export function Check(p: { label: string; value: unknown; onChange: (v: boolean) => void }) {
  return (
    <label className="inline">
      <input type="checkbox" checked={!!p.value} onChange={(e) => p.onChange(e.target.checked)} /> {p.label}
    </label>
  );
}

/** A JSON value typed as text; `onChange` gets the value each time the text parses. */
export function JsonBox(p: { label: string; value: unknown; onChange: (v: unknown) => void; rows?: number }) {
  const [text, setText] = useState(() => JSON.stringify(p.value ?? {}, null, 2));
  const [bad, setBad] = useState<string | null>(null);
  useEffect(() => {
    setText((t) => {
      try {
        return JSON.stringify(JSON.parse(t)) === JSON.stringify(p.value ?? {}) ? t : JSON.stringify(p.value ?? {}, null, 2);
      } catch {
        return t;
      }
    });
  }, [p.value]);
  return (
    <label>
      {p.label}
      <textarea
        rows={p.rows ?? 4}
        value={text}
        aria-invalid={bad !== null}
        onChange={(e) => {
          setText(e.target.value);
          try {
            p.onChange(JSON.parse(e.target.value));
            setBad(null);
          } catch (err) {
            setBad(err instanceof Error ? err.message : "not JSON");
          }
        }}
      />
      {bad && <span className="field-error">not valid JSON: {bad}</span>}
    </label>
  );
}

/** A value typed as text: numbers and true/false become themselves, the rest stays text. */
export function typed(v: string): unknown {
  if (/^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  if (v === "true" || v === "false") return v === "true";
  return v;
}

export const OPS: [string, string][] = [
  ["eq", "is"],
  ["neq", "is not"],
  ["gt", ">"],
  ["gte", "≥"],
  ["lt", "<"],
  ["lte", "≤"],
  ["contains", "contains"],
  ["not_contains", "does not contain"],
  ["in", "is one of"],
  ["not_in", "is not one of"],
  ["regex", "matches"],
  ["is_set", "is set"],
  ["is_not_set", "is not set"],
];
