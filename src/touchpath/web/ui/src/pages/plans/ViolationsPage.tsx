// What tracking plans found: violation counts by event, property, source or kind, each with
// its latest example (docs/tracking-plans.md). The grouping is in the URL.
import { useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api, type Schemas, unwrap } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { Empty, Query } from "../../components/States";
import { fmtTime } from "../../format";

type By = NonNullable<Schemas["Violations"]["by"]>;
const TABS: { by: By; label: string }[] = [
  { by: "event", label: "By event" },
  { by: "property", label: "By property" },
  { by: "source", label: "By source" },
  { by: "kind", label: "By kind" },
];

export default function ViolationsPage() {
  const [params, setParams] = useSearchParams();
  const by = (params.get("by") as By) ?? "event";
  const q = useQuery({
    queryKey: ["plans", "violations", by],
    queryFn: () => unwrap(api.GET("/api/plans/violations", { params: { query: { by } } })),
    refetchInterval: 10_000,
  });
  const label = (g: Schemas["ViolationCount"]) =>
    by === "property" ? `${g.event ?? ""} · ${g.property || "(message)"}` : (g[by] ?? "") || "(none)";
  return (
    <>
      <h1>Violations</h1>
      <p className="lead">
        Messages that broke their source&apos;s <Link to="/plans">tracking plan</Link>, counted by what
        was wrong. Blocked messages are also under rejected on the Events page.
      </p>
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.by}
            type="button"
            role="tab"
            aria-selected={by === t.by}
            onClick={() => setParams({ by: t.by }, { replace: true })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <Query q={q} what="the violations">
        {(v) =>
          v.groups.length === 0 ? (
            <Empty title="No violations">
              <span>Every message checked against a plan so far met it.</span>
            </Empty>
          ) : (
            <>
              <p className="hint">{fmtInt(v.total)} violations in all</p>
              <table className="rows panel" aria-label={`Violations by ${by}`}>
                <thead>
                  <tr>
                    <th scope="col">{TABS.find((t) => t.by === by)?.label.replace("By ", "").replace(/^./, (c) => c.toUpperCase())}</th>
                    <th scope="col" className="num">Violations</th>
                    <th scope="col" className="num">Messages</th>
                    <th scope="col" className="num">Blocked</th>
                    <th scope="col">Kinds</th>
                    <th scope="col">Latest example</th>
                    <th scope="col">Last seen (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {v.groups.map((g, i) => (
                    <tr key={`${label(g)}-${i}`}>
                      <td>{label(g)}</td>
                      <td className="num">{fmtInt(g.violations)}</td>
                      <td className="num">{fmtInt(g.messages)}</td>
                      <td className="num">{fmtInt(g.blocked)}</td>
                      <td>
                        {g.kinds.map((k) => (
                          <span key={k} className="badge">
                            {k.replace(/_/g, " ")}
                          </span>
                        ))}
                      </td>
                      <td className="wrap warn">
                        {g.example}
                        <details>
                          <summary>message</summary>
                          <code className="payload">{g.example_payload}</code>
                        </details>
                      </td>
                      <td>{fmtTime(g.last_seen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Query>
    </>
  );
}
