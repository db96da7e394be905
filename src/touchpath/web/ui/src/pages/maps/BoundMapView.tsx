// The classic journey map, bound to live numbers: stages as columns; touchpoints with reach and
// conversion; the emotion curve; actions and thoughts; pain points (found in the data and
// written by people); opportunities; blueprint lanes. Marks outline what a comparison found.
import { Link } from "react-router";
import type { Schemas } from "../../api/client";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { ChannelBadge } from "../../components/ChannelBadge";
import { type BoundMap, emotionOption, hours, pct } from "./model";

type Stage = Schemas["BoundStage"];
type DocStage = Schemas["Stage"];
type Lanes = Schemas["Lanes"];
const LANES: (keyof Lanes)[] = ["frontstage", "backstage", "people", "process", "technology"];

/** `fromHere(touchpoint)`: the address of a new journey entered at that touchpoint; when given,
 * each card offers "Create a journey from here". */
export function BoundMapView({ bound, marks, fromHere }: { bound: BoundMap; marks?: Set<string>; fromHere?: (touchpoint: string) => string }) {
  const stages = bound.stages;
  const docStages = new Map((bound.map.stages ?? []).map((s) => [s.name, s]));
  // Fixed column widths keep the rows aligned (each row is its own grid); wide maps scroll.
  const cols = { gridTemplateColumns: `130px repeat(${stages.length}, 230px)` };
  const hasLanes = (bound.map.stages ?? []).some((s) => (s.touchpoints ?? []).some((t) => t.lanes));
  const others = bound.others_size != null;
  return (
    <div className="journey" tabIndex={0} role="table" aria-label={`Stages and touchpoints of ${bound.map.title ?? bound.map.name}`}>
      <div className="jrow" role="row" style={cols}>
        <div className="jlabel" role="rowheader">
          Stage
        </div>
        {stages.map((s) => (
          <div key={s.name} role="columnheader" className={`jstage ${marks?.has(`stage:${s.name}`) ? "marked" : ""}`}>
            <strong>{s.title}</strong>
            <StageNumbers s={s} others={others} />
          </div>
        ))}
      </div>
      <Row label="Touchpoints" cols={cols}>
        {stages.map((s) => (
          <div key={s.name} role="cell" className="jcell">
            {(s.touchpoints ?? []).map((t) => (
              <TouchpointCard key={t.name} t={t} pain={bound.pain_points?.some((p) => p.touchpoint === t.name)} marked={marks?.has(`tp:${t.name}`)} others={others} fromHere={fromHere?.(t.name)} />
            ))}
          </div>
        ))}
      </Row>
      <div className="jrow" role="row" style={cols}>
        <div className="jlabel" role="rowheader">
          Emotion
        </div>
        <div role="cell" style={{ gridColumn: `2 / span ${stages.length}` }}>
          <EChart label="Emotion along the journey" option={emotionOption(bound)} height={150} />
        </div>
      </div>
      <Row label="Actions & thoughts" cols={cols}>
        {stages.map((s) => (
          <div key={s.name} role="cell" className="jcell">
            <ListOf items={authored(docStages.get(s.name), "actions")} />
            <ListOf items={authored(docStages.get(s.name), "thoughts").map((x) => `“${x}”`)} className="thoughts" />
          </div>
        ))}
      </Row>
      <Row label="Pain points" cols={cols}>
        {stages.map((s) => (
          <div key={s.name} role="cell" className="jcell">
            {(bound.pain_points ?? [])
              .filter((p) => p.stage === s.name)
              .map((p) => (
                <div key={`${p.rank}`} className="pain" title={`score ${p.score.toFixed(3)}`}>
                  <span className="rank">#{p.rank}</span> {p.summary}
                </div>
              ))}
            <ListOf items={authored(docStages.get(s.name), "pain_points")} className="authored-pain" />
          </div>
        ))}
      </Row>
      <Row label="Opportunities" cols={cols}>
        {stages.map((s) => (
          <div key={s.name} role="cell" className="jcell">
            <ListOf
              items={[
                ...(bound.opportunities ?? []).filter((o) => o.stage === s.name).map((o) => o.text),
                ...authored(docStages.get(s.name), "opportunities"),
              ]}
              className="opps"
            />
          </div>
        ))}
      </Row>
      {hasLanes &&
        LANES.map((lane) => (
          <Row key={lane} label={lane[0]!.toUpperCase() + lane.slice(1)} cols={cols}>
            {stages.map((s) => (
              <div key={s.name} role="cell" className="jcell lane">
                <ListOf items={(docStages.get(s.name)?.touchpoints ?? []).flatMap((t) => t.lanes?.[lane] ?? [])} />
              </div>
            ))}
          </Row>
        ))}
    </div>
  );
}

function Row({ label, cols, children }: { label: string; cols: React.CSSProperties; children: React.ReactNode }) {
  return (
    <div className="jrow" role="row" style={cols}>
      <div className="jlabel" role="rowheader">
        {label}
      </div>
      {children}
    </div>
  );
}

function authored(stage: DocStage | undefined, field: "actions" | "thoughts" | "pain_points" | "opportunities"): string[] {
  return (stage?.touchpoints ?? []).flatMap((t) => t[field] ?? []);
}

function ListOf({ items, className }: { items: string[]; className?: string }) {
  if (items.length === 0) return null;
  return (
    <ul className={`jlist ${className ?? ""}`}>
      {items.map((x, i) => (
        <li key={i}>{x}</li>
      ))}
    </ul>
  );
}

function StageNumbers({ s, others }: { s: Stage; others: boolean }) {
  const m = s.persona;
  return (
    <dl className="jnums">
      <dt title="the people who reached this stage or a later one">reached (or later)</dt>
      <dd>
        {fmtInt(m.reach ?? 0)} {m.share != null && <span className="hint">({pct(m.share)})</span>}
      </dd>
      <dt>to next stage</dt>
      <dd>{pct(m.to_next)}</dd>
      <dt>to goal</dt>
      <dd>
        {pct(m.to_goal)}
        {others && s.others && <span className="hint"> · others {pct(s.others.to_goal)}</span>}
      </dd>
      <dt>median to next</dt>
      <dd>{hours(m.median_hours_to_next)}</dd>
    </dl>
  );
}

function TouchpointCard(props: { t: Schemas["BoundTouchpoint"]; pain?: boolean; marked?: boolean; others: boolean; fromHere?: string }) {
  const { t } = props;
  const m = t.persona;
  return (
    <div className={`tp ${props.pain ? "tp-pain" : ""} ${props.marked ? "marked" : ""}`} aria-label={`Touchpoint ${t.name}`}>
      <div className="tp-head">
        <strong>{t.name}</strong> {t.channel && <ChannelBadge channel={t.channel} />}
      </div>
      <div className="tp-event">{t.event}</div>
      <div className="tp-nums">
        <span title="people who reached it">
          <b>{fmtInt(m.reach ?? 0)}</b> people
        </span>
        <span title="of them, reached the goal">
          <b>{pct(m.to_goal)}</b> to goal
        </span>
        {m.median_hours_to_next != null && <span>{hours(m.median_hours_to_next)} to next</span>}
        {t.online_share != null && (
          <span title="of them, also met on the website or in the app (joined by the loyalty card)">
            <b>{pct(t.online_share)}</b> also online
          </span>
        )}
      </div>
      {(m.feedback ?? 0) > 0 && (
        <div className="tp-fb">
          {m.nps != null && <span>NPS {Math.round(m.nps)}</span>}
          {m.csat != null && <span>CSAT {m.csat.toFixed(1)}</span>}
          {m.sentiment != null && <span>sentiment {m.sentiment.toFixed(2)}</span>}
          <span className="hint">{m.feedback} responses</span>
        </div>
      )}
      {props.others && t.others && (
        <div className="tp-others hint">
          others: {fmtInt(t.others.reach ?? 0)} people, {pct(t.others.to_goal)} to goal
        </div>
      )}
      {props.fromHere && (
        <Link className="tp-act" to={props.fromHere} aria-label={`Create a journey from here: ${t.name}`}>
          Create a journey from here
        </Link>
      )}
    </div>
  );
}
