// Audiences: every audience with its size and what it means; the way to build a new one.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { getJson } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { Empty, Query } from "../../components/States";
import { describe } from "./conditions";
import type { AudienceRow } from "./types";

export default function AudiencesPage() {
  const list = useQuery({ queryKey: ["audiences"], queryFn: () => getJson<AudienceRow[]>("/api/audiences") });
  return (
    <>
      <div className="title-row">
        <h1>Audiences</h1>
        <Link className="button primary" to="/audiences/new">
          New audience
        </Link>
      </div>
      <p className="lead">
        People who meet a condition on their events and traits, kept current as events arrive. Static
        audiences are saved lists, e.g. the people who dropped out of a funnel step.
      </p>
      <Query q={list} what="the audiences">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No audiences yet">
              <span>
                <Link to="/audiences/new">Build one</Link> from what people did and who they are.
              </span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Audiences">
              <thead>
                <tr>
                  <th scope="col">Audience</th>
                  <th scope="col" className="num">
                    People
                  </th>
                  <th scope="col">Who</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((a) => (
                  <tr key={a.name}>
                    <td>
                      <Link to={`/audiences/${encodeURIComponent(a.name)}`}>{a.name}</Link>
                    </td>
                    <td className="num">{fmtInt(a.size)}</td>
                    <td className="wrap">
                      {a.condition ? describe(a.condition) : <span className="hint">static list{originText(a.origin)}</span>}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Query>
    </>
  );
}

export function originText(origin: Record<string, unknown> | undefined): string {
  if (!origin || Object.keys(origin).length === 0) return "";
  const step = origin.step != null ? ` at step ${String(origin.step)}` : "";
  return origin.kind ? ` (${String(origin.kind)}${step})` : "";
}
