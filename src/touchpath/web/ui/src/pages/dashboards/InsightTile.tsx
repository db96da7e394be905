// One saved insight, read now: its name, kind, a one-line summary, its chart, and a link to the
// page that edits it. Used by a dashboard and by a saved insight's own page.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link } from "react-router";
import { getJson } from "../../api/client";
import { EChart } from "../../charts/EChart";
import { Query } from "../../components/States";
import { type DfgResult, dfgSize } from "../insights/discovery";
import { KIND_LABELS, pageUrl, tileChart, tileHeight, tileSummary } from "./tiles";

export interface Saved {
  name: string;
  kind: string;
  description: string;
  spec: { kind: string } & Record<string, unknown>;
}

type Result = { kind: string } & Record<string, unknown>;

export function InsightTile({ insight, actions, height }: { insight: Saved; actions?: ReactNode; height?: number }) {
  const result = useQuery({
    queryKey: ["insights", "result", insight.name, insight.spec],
    queryFn: () => getJson<Result>(`/api/insights/${encodeURIComponent(insight.name)}/result`),
  });
  const open = pageUrl(insight.spec);
  return (
    <section className="panel tile" aria-label={insight.name}>
      <h2>
        <Link to={`/insights/saved/${encodeURIComponent(insight.name)}`}>{insight.name}</Link>
        <span className="badge">{KIND_LABELS[insight.kind] ?? insight.kind}</span>
        {open && <Link to={open}>Edit</Link>}
        {actions}
      </h2>
      {insight.description && <p className="hint">{insight.description}</p>}
      <Query q={result} what={insight.name}>
        {(r) => {
          const option = tileChart(r);
          return (
            <>
              <p className="tile-summary">{tileSummary(r)}</p>
              {option && r.kind === "dfg" ? (
                // A graph keeps its natural size (boxes never overlap) and scrolls in the tile.
                <div className="scroll-x" tabIndex={0} role="group" aria-label={`${insight.name}: the graph, scrollable`}>
                  <div style={{ width: dfgSize(r as unknown as DfgResult).width, minWidth: "100%" }}>
                    <EChart label={`${insight.name}: ${KIND_LABELS[r.kind]}`} option={option} height={dfgSize(r as unknown as DfgResult).height} />
                  </div>
                </div>
              ) : option ? (
                <EChart label={`${insight.name}: ${KIND_LABELS[r.kind] ?? r.kind}`} option={option} height={height ?? tileHeight(r.kind)} />
              ) : (
                <pre className="json">{JSON.stringify(r, null, 1).slice(0, 1200)}</pre>
              )}
            </>
          );
        }}
      </Query>
    </section>
  );
}
