// The journey's own settings: title, entry (event, audience, map touchpoint, schedule, API),
// re-entry, exit rules and the goal, each written the way the document has it.
import { Check, Select, Text } from "./fields";
import { type JourneyDoc, type Json, fmtDuration } from "./model";
import { TouchpointPicker } from "./TouchpointPicker";
import { refOf } from "./touchpoints";

export function SettingsForm({ doc, onChange, problems, unsaved }: { doc: JourneyDoc; onChange: (d: JourneyDoc) => void; problems: { path: string; message: string }[]; unsaved?: boolean }) {
  const entry = doc.entry;
  const re = doc.re_entry ?? { mode: "never" };
  const exit = doc.exit ?? {};
  const goal = doc.goal ?? null;
  const goalKind = goal === null ? "none" : goal.touchpoint ? "touchpoint" : "event";
  // The goal is an event or a map touchpoint (one of them), within a time of entering.
  const setGoal = (g: Json | null) => onChange({ ...doc, goal: g === null ? null : { within: goal?.within ?? "7d", ...g } });
  const setEntry = (e: Json) => onChange({ ...doc, entry: e as JourneyDoc["entry"] });
  const setRe = (r: Json) => onChange({ ...doc, re_entry: r });
  const setExit = (x: Json) => onChange({ ...doc, exit: x });
  const blank = (v: string) => (v === "" ? undefined : v);
  const list = (v: unknown) => ((v as Json[] | string[] | undefined) ?? []).map((x) => (typeof x === "string" ? x : String((x as Json).event ?? ""))).join(", ");
  const split = (v: string) => v.split(",").map((s) => s.trim()).filter(Boolean);
  return (
    <section className="node-form" aria-label="Journey settings">
      <h2>Journey settings</h2>
      {problems.length > 0 && (
        <ul className="problems" aria-label="Problems of the settings">
          {problems.map((p) => (
            <li key={p.path + p.message}>
              <code>{p.path}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="form-grid">
        {unsaved && <Text label="Name (in addresses; fixed once saved)" value={doc.name} onChange={(v) => onChange({ ...doc, name: v })} />}
        <Text label="Title" value={doc.title} onChange={(v) => onChange({ ...doc, title: blank(v) ?? null })} />
        <fieldset>
          <legend>People enter when they…</legend>
          <Select
            label="Entry"
            value={entry.kind}
            onChange={(k) => setEntry(k === "event" ? { kind: k, event: { event: "" } } : k === "audience" ? { kind: k, audience: "", existing: false } : k === "touchpoint" ? { kind: k, map: "", touchpoint: "" } : k === "schedule" ? { kind: k, start: new Date().toISOString().slice(0, 16) + ":00Z", every: "1d" } : { kind: k })}
            options={[["event", "do an event"], ["audience", "join an audience"], ["touchpoint", "reach a map touchpoint"], ["schedule", "are in an audience, on a schedule"], ["api", "are entered through the API"]]}
          />
          {entry.kind === "event" && <Text label="Event" list="jl-events" value={(entry.event as Json | undefined)?.event} onChange={(v) => setEntry({ ...entry, event: { ...(entry.event as Json), event: blank(v) } })} />}
          {entry.kind === "audience" && (
            <>
              <Text label="Audience" list="jl-audiences" value={entry.audience} onChange={(v) => setEntry({ ...entry, audience: v })} />
              <Check label="also enter its current members on publish" value={entry.existing} onChange={(v) => setEntry({ ...entry, existing: v })} />
            </>
          )}
          {entry.kind === "touchpoint" && (
            <TouchpointPicker what="Entry" value={refOf(entry) ?? { map: "", touchpoint: "" }} onChange={(r) => setEntry({ ...entry, ...r })} />
          )}
          {entry.kind === "schedule" && (
            <>
              <Text label="First run (UTC, ISO time)" value={entry.start} onChange={(v) => setEntry({ ...entry, start: v })} />
              <Text label="Every (e.g. 1d, 1w)" value={fmtDuration(entry.every)} onChange={(v) => setEntry({ ...entry, every: blank(v) })} />
              <Text label="Audience (empty: everyone)" list="jl-audiences" value={entry.audience} onChange={(v) => setEntry({ ...entry, audience: blank(v) })} />
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Re-entry</legend>
          <Select label="May a person enter again?" value={re.mode ?? "never"} onChange={(m) => setRe({ mode: m, ...(m === "cooldown" ? { cooldown: "7d" } : m === "per_key" ? { key: "cart_id" } : {}) })} options={[["never", "never"], ["cooldown", "after a cool-down"], ["always", "every time (when not in it)"], ["per_key", "once per key (e.g. per cart)"]]} />
          {re.mode === "cooldown" && <Text label="Cool-down" value={fmtDuration(re.cooldown)} onChange={(v) => setRe({ ...re, cooldown: v })} />}
          {re.mode === "per_key" && <Text label="Key: entry event property" value={re.key} onChange={(v) => setRe({ ...re, key: v })} />}
        </fieldset>
        <fieldset>
          <legend>Exit early when…</legend>
          <Text label="they do any of these events (comma-separated)" value={list(exit.events)} onChange={(v) => setExit({ ...exit, events: split(v).map((e) => ({ event: e })) })} />
          <Text label="they leave any of these audiences" value={list(exit.audience_left)} onChange={(v) => setExit({ ...exit, audience_left: split(v) })} />
          <Check label="they reach the goal" value={exit.on_goal} onChange={(v) => setExit({ ...exit, on_goal: v })} />
          <Text label="they have been in it longer than" value={exit.max_time == null ? "" : fmtDuration(exit.max_time)} onChange={(v) => setExit({ ...exit, max_time: blank(v) })} placeholder="e.g. 30d" />
        </fieldset>
        <fieldset>
          <legend>Goal (for measurement)</legend>
          <Select
            label="Goal"
            value={goalKind}
            onChange={(k) => setGoal(k === "none" ? null : k === "touchpoint" ? { touchpoint: refOf(entry) ? { map: String(entry.map), touchpoint: "" } : { map: "", touchpoint: "" } } : { event: { event: "" } })}
            options={[["none", "none"], ["event", "doing an event"], ["touchpoint", "reaching a map touchpoint"]]}
          />
          {goalKind === "event" && <Text label="Goal event" list="jl-events" value={(goal?.event as Json | undefined)?.event} onChange={(v) => setGoal({ event: { ...(goal?.event as Json), event: v } })} />}
          {goalKind === "touchpoint" && <TouchpointPicker what="Goal" value={refOf(goal?.touchpoint) ?? { map: "", touchpoint: "" }} onChange={(r) => setGoal({ touchpoint: r })} />}
          {goal && <Text label="within (of entering)" value={fmtDuration(goal.within)} onChange={(v) => onChange({ ...doc, goal: { ...goal, within: v } })} />}
        </fieldset>
      </div>
    </section>
  );
}
