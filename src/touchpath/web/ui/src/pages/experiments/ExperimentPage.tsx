// One experiment's result, read now: the verdict in one sentence, then which arm wins, by how
// much, how sure and whether to wait; the sample-ratio check (a broken assignment withholds the
// verdict); each metric per arm; and the lift with its interval over time.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { EChart } from "../../charts/EChart";
import { fmtInt } from "../../charts/options";
import { Query } from "../../components/States";
import { liftOption } from "./chart";
import { sourceOf } from "./ExperimentsPage";
import "../journeys/journeys.css";

const load = (name: string) => unwrap(api.GET("/api/experiments/{name}/results", { params: { path: { name } } }));
type Result = Awaited<ReturnType<typeof load>>;

const VERDICT: Record<string, [string, string]> = {
  winner: ["win", "We have a winner"],
  loser: ["lose", "The change is worse"],
  no_difference: ["", "No meaningful difference"],
  keep_running: ["wait", "Keep it running"],
  guardrail_harmed: ["lose", "A guardrail got worse"],
  srm: ["lose", "Assignment looks broken"],
};

const pct = (v: number | null | undefined, digits = 1) => (v == null ? "–" : `${(v * 100).toFixed(digits)}%`);
const signed = (v: number | null | undefined) => (v == null ? "–" : `${v > 0 ? "+" : ""}${(v * 100).toFixed(1)}%`);

export default function ExperimentPage() {
  const name = useParams().name!;
  const q = useQuery({ queryKey: ["experiments", name, "results"], queryFn: () => load(name), refetchInterval: 30_000 });
  return (
    <>
      <p className="crumbs"><Link to="/experiments">Experiments</Link> / {name}</p>
      <h1>{name}</h1>
      <Query q={q} what="the result">{(r) => <ResultView r={r} />}</Query>
    </>
  );
}

function ResultView({ r }: { r: Result }) {
  const primary = r.metrics.find((m) => !m.guardrail) ?? r.metrics[0];
  const best = primary?.comparisons.find((c) => c.arm === r.winner) ?? primary?.comparisons[0];
  const [tone, headline] = VERDICT[r.verdict] ?? ["", r.verdict];
  const exposed = Object.values(r.exposures).reduce((a, b) => a + b, 0);
  const fewest = Math.min(...Object.values(r.exposures));
  return (
    <>
      <p className="hint">{sourceOf(r.experiment_id)} · control: {r.control} · {fmtInt(exposed)} people exposed{r.multiple_exposures ? ` (${fmtInt(r.multiple_exposures)} saw more than one arm and are left out)` : ""}</p>
      {r.srm && (
        <div className="state error" role="alert">
          <strong>Sample ratio mismatch</strong>
          <p>The arms are not the sizes the split promised (p = {r.srm_p_value.toExponential(1)}): assignment or logging is broken, so no verdict is given. Check the split before reading the numbers.</p>
        </div>
      )}
      <section className="panel" aria-label="Verdict">
        <div className={`verdict ${tone}`}>{headline}</div>
        <p>{r.summary}</p>
        <div className="cards">
          <div className="card"><span className="card-label">Which arm wins</span><span className="card-value">{r.winner ?? "none yet"}</span></div>
          <div className="card"><span className="card-label">By how much ({primary?.name})</span><span className="card-value">{signed(best?.lift)}</span><span className="hint">{best?.lift_ci ? `likely between ${signed(best.lift_ci[0])} and ${signed(best.lift_ci[1])}` : "not enough people yet"}</span></div>
          <div className="card"><span className="card-label">How sure</span><span className="card-value">{best?.chance_to_win != null ? pct(best.chance_to_win, 0) : best ? `p = ${best.p_value.toFixed(3)}` : "–"}</span><span className="hint">{best?.chance_to_win != null ? `chance ${best.arm} beats ${r.control}` : ""}{best?.significant ? " · significant" : " · not significant yet"}</span></div>
          <div className="card"><span className="card-label">Wait?</span><span className="card-value">{r.verdict === "keep_running" ? "Yes" : "No"}</span><span className="hint">{r.verdict === "keep_running" && r.needed_per_arm ? `about ${fmtInt(r.needed_per_arm)} people per arm needed; the smallest arm has ${fmtInt(fewest)}` : `${r.sequential ? "sequential test: safe to look daily" : "fixed-horizon test"}, α = ${r.alpha}`}</span></div>
        </div>
      </section>
      <section className="panel" aria-label="Lift over time">
        <h2>Lift over time</h2>
        <p className="hint">Each arm against {r.control}; the band is the {r.sequential ? "always-valid" : ""} interval. When the band leaves the dashed line, the difference is real.</p>
        {r.series.length ? <EChart option={liftOption(r.series as never)} label="Lift of each arm over time, with its interval" height={300} /> : <p className="hint">No days with enough people yet.</p>}
      </section>
      {r.metrics.map((m) => (
        <section key={m.name} className="panel" aria-label={`Metric ${m.name}`}>
          <h2>{m.name} <span className="hint">{m.kind}{m.guardrail ? " · guardrail" : " · primary"}</span></h2>
          <table className="rows">
            <thead><tr><th scope="col">Arm</th><th scope="col" className="num">People</th><th scope="col" className="num">{m.kind === "conversion" || m.kind === "retention" ? "Converted" : "Per person"}</th><th scope="col" className="num">Lift vs {r.control}</th><th scope="col">Interval</th><th scope="col" className="num">Chance to win</th><th scope="col">Reading</th></tr></thead>
            <tbody>
              {m.arms.map((a) => {
                const c = m.comparisons.find((x) => x.arm === a.arm);
                return (
                  <tr key={a.arm}>
                    <td><strong>{a.arm}</strong>{a.arm === r.control && <span className="hint"> control</span>}</td>
                    <td className="num">{fmtInt(a.n)}</td>
                    <td className="num">{m.kind === "conversion" || m.kind === "retention" ? pct(a.mean) : a.mean.toFixed(2)}</td>
                    <td className="num">{c ? signed(c.lift) : ""}</td>
                    <td>{c?.lift_ci ? `${signed(c.lift_ci[0])} to ${signed(c.lift_ci[1])}` : ""}</td>
                    <td className="num">{c?.chance_to_win != null ? pct(c.chance_to_win, 0) : ""}</td>
                    <td>{c ? (c.direction === "unclear" ? "unclear yet" : c.direction) + (c.cuped ? " · CUPED" : "") : ""}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      ))}
    </>
  );
}
