// Feedback: NPS, CSAT, effort and the sentiment of what people wrote, per touchpoint, with the
// phrases that recur in negative comments. The state is in the address.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { COLUMNS, usePropertyKeys } from "../../api/lookups";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { SaveInsight } from "../../components/SaveInsight";
import { Empty, Query } from "../../components/States";
import { Suggest } from "../../components/Suggest";
import { fmtPct } from "../../format";
import { type FeedbackResult, type FeedbackRow, feedbackOption, feedbackSpec, fmtSentiment, readFeedback, writeFeedback } from "./feedback";
import { feedbackQuery } from "./queries";

const score = (v: number | null | undefined, unit = "") => (v == null ? "–" : `${Math.round(v)}${unit}`);
const avg = (v: number | null | undefined) => (v == null ? "–" : v.toFixed(1));

export default function FeedbackPage() {
  const [params, setParams] = useSearchParams();
  const state = useMemo(() => readFeedback(params), [params]);
  const [s, setS] = useState(state);
  useEffect(() => setS(state), [state]);
  const keys = usePropertyKeys(null);
  const result = useQuery({
    ...feedbackQuery(state),
    placeholderData: (prev) => prev,
  });
  const apply = (e: FormEvent) => {
    e.preventDefault();
    setParams(writeFeedback(s));
  };
  return (
    <>
      <div className="title-row">
        <h1>Feedback</h1>
        <SaveInsight spec={feedbackSpec(state)} suggested="Feedback by touchpoint" />
      </div>
      <p className="lead">
        What customers say at each touchpoint: NPS and CSAT surveys, effort scores, and the sentiment of their comments, with the
        phrases that keep coming back when they are unhappy.
      </p>
      <form className="panel toolbar" onSubmit={apply} aria-label="Feedback options">
        <Suggest
          label="Touchpoint property of a response"
          value={s.property}
          onChange={(property) => setS({ ...s, property })}
          options={[...COLUMNS.map((c) => ({ value: c })), ...(keys.data ?? []).map((k) => ({ value: k.key }))]}
          width={220}
        />
        <label>
          Negative phrases per touchpoint
          <input type="number" min={0} max={20} value={s.phrases} onChange={(e) => setS({ ...s, phrases: Number(e.target.value) })} style={{ width: 70 }} />
        </label>
        <button type="submit" className="primary">
          Show feedback
        </button>
      </form>
      <Query q={result} what="the feedback">
        {(r) =>
          r.overall.responses === 0 ? (
            <Empty title="No feedback yet">
              <span>
                Send survey events (NPS Survey Completed with a score, CSAT Survey Completed with a rating, Review Submitted with
                a text), each with a touchpoint property.
              </span>
            </Empty>
          ) : (
            <Feedback r={r} fetching={result.isFetching} />
          )
        }
      </Query>
    </>
  );
}

function Feedback({ r, fetching }: { r: FeedbackResult; fetching: boolean }) {
  const o = r.overall;
  const rows = [...r.touchpoints].sort((a, b) => b.responses - a.responses);
  return (
    <>
      <section className="cards" aria-label="Overall">
        <Card label={`NPS (${fmtInt(o.nps_responses)} responses)`} value={score(o.nps)} tone={o.nps} />
        <Card label={`CSAT, satisfied (${fmtInt(o.csat_responses)})`} value={score(o.csat, "%")} />
        <Card label={`Sentiment of ${fmtInt(o.texts)} comments`} value={fmtSentiment(o.sentiment_avg)} tone={o.sentiment_avg} />
        <Card label="Negative comments" value={fmtPct(o.negative_share)} />
      </section>
      <section className="panel" aria-label="Feedback chart">
        <p className="hint">NPS and CSAT per touchpoint{fetching ? " · updating…" : ""}</p>
        <EChart label="NPS and CSAT per touchpoint" option={feedbackOption(r)} height={Math.max(200, 60 * rows.length + 60)} />
      </section>
      <table className="rows panel" aria-label="Feedback per touchpoint">
        <caption>Per touchpoint, most responses first</caption>
        <thead>
          <tr>
            <th scope="col">Touchpoint</th>
            <th scope="col" className="num">Responses</th>
            <th scope="col" className="num">NPS</th>
            <th scope="col" className="num">CSAT</th>
            <th scope="col" className="num">CSAT average</th>
            <th scope="col" className="num">Effort (CES)</th>
            <th scope="col" className="num">Sentiment</th>
            <th scope="col" className="num">Negative</th>
            <th scope="col">Recurring negative phrases</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((x) => (
            <Row key={x.name} x={x} phrases={r.negative_phrases[x.name] ?? []} />
          ))}
        </tbody>
      </table>
    </>
  );
}

function Row({ x, phrases }: { x: FeedbackRow; phrases: { phrase: string; count: number }[] }) {
  return (
    <tr>
      <th scope="row">{x.name}</th>
      <td className="num">{fmtInt(x.responses)}</td>
      <td className="num">{score(x.nps)}</td>
      <td className="num">{score(x.csat, "%")}</td>
      <td className="num">{avg(x.csat_avg)}</td>
      <td className="num">{avg(x.ces_avg)}</td>
      <td className={`num ${(x.sentiment_avg ?? 0) < -0.2 ? "neg" : ""}`}>{fmtSentiment(x.sentiment_avg)}</td>
      <td className={`num ${(x.negative_share ?? 0) >= 0.2 ? "neg" : ""}`}>{fmtPct(x.negative_share)}</td>
      <td className="wrap">
        {phrases.length === 0
          ? "–"
          : phrases.map((p) => (
              <span className="chip" key={p.phrase}>
                “{p.phrase}” ×{p.count}
              </span>
            ))}
      </td>
    </tr>
  );
}

function Card({ label, value, tone }: { label: string; value: string; tone?: number | null }) {
  return (
    <div className="card">
      <span className="card-label">{label}</span>
      <span className={`card-value ${tone != null && tone < 0 ? "neg" : ""}`}>{value}</span>
    </div>
  );
}
