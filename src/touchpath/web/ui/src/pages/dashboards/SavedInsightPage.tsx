// One saved insight, run now, full width.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { Query } from "../../components/States";
import { InsightTile, type Saved } from "./InsightTile";

export default function SavedInsightPage() {
  const name = useParams().name ?? "";
  const insight = useQuery({
    queryKey: ["insights", "one", name],
    queryFn: () => unwrap(api.GET("/api/insights/{name}", { params: { path: { name } } })),
  });
  return (
    <>
      <p className="crumbs">
        <Link to="/insights">Saved insights</Link> /
      </p>
      <h1>{name}</h1>
      <Query q={insight} what="the insight">
        {(i) => <InsightTile insight={i as unknown as Saved} height={480} />}
      </Query>
    </>
  );
}
