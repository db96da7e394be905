// Exposure and conversion per variant, read by the experiments engine from the decision's
// exposure events: people who saw each arm, how many reached the goal, the lift against the
// control and how sure that is.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { Query } from "../../components/States";
import { fmtDuration } from "../../format";

const pct = (v: number | null | undefined) => (v == null ? "–" : `${(v * 100).toFixed(1)}%`);
const signed = (v: number | null | undefined) => (v == null ? "–" : `${v > 0 ? "+" : ""}${(v * 100).toFixed(1)}%`);

export function NumbersPanel({ name, version }: { name: string; version: number }) {
  const q = useQuery({
    queryKey: ["decisions", name, "results", version],
    queryFn: () => unwrap(api.GET("/api/decisions/{name}/results", { params: { path: { name }, query: { version } } })),
    refetchInterval: 30_000,
  });
  return (
    <section className="panel" aria-label="Exposure and conversion">
      <h2>Exposure and conversion per variant</h2>
      <Query q={q} what="the numbers">
        {(r) => {
          const exposed = r.arms.reduce((a, b) => a + b.exposed, 0);
          if (exposed === 0) return <p className="hint">Nobody has been shown this decision yet: publish it and let a page ask <code>/v1/decide</code>.</p>;
          return (
            <>
              <p className="hint">
                {fmtInt(exposed)} people shown it{r.goal ? `; a conversion is ${r.goal} within ${fmtDuration(r.window)} of first seeing it` : "; set a goal to count conversions"}; each arm is compared with <strong>{r.control}</strong>.
                {r.multiple_exposures > 0 && ` ${fmtInt(r.multiple_exposures)} people saw more than one arm and are left out.`}
              </p>
              {r.srm && (
                <div className="state error" role="alert">
                  <strong>The arms are not the sizes the split promised</strong>
                  <p>Assignment or logging may be broken; read the lift with care.</p>
                </div>
              )}
              {r.summary && <p><strong>{r.summary}</strong></p>}
              <table className="rows" aria-label="Per variant">
                <thead>
                  <tr>
                    <th scope="col">Variant</th>
                    <th scope="col" className="num">People shown</th>
                    <th scope="col" className="num">Converted</th>
                    <th scope="col" className="num">Rate</th>
                    <th scope="col" className="num">Lift vs {r.control}</th>
                    <th scope="col">Interval</th>
                    <th scope="col" className="num">Chance to win</th>
                  </tr>
                </thead>
                <tbody>
                  {r.arms.map((a) => (
                    <tr key={a.arm}>
                      <td>
                        <strong>{a.arm}</strong>
                        {a.arm === r.control && <span className="hint"> control</span>}
                      </td>
                      <td className="num">{fmtInt(a.exposed)}</td>
                      <td className="num">{a.conversions == null ? "–" : fmtInt(a.conversions)}</td>
                      <td className="num">{pct(a.conversion_rate)}</td>
                      <td className="num">{a.arm === r.control ? "" : signed(a.lift)}</td>
                      <td>{a.lift_ci ? `${signed(a.lift_ci[0])} to ${signed(a.lift_ci[1])}` : ""}</td>
                      <td className="num">{a.chance_to_win == null ? "" : pct(a.chance_to_win)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          );
        }}
      </Query>
    </section>
  );
}
