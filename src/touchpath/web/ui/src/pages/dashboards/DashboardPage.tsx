// A dashboard: its saved insights as tiles (each run now), with insights added and removed here.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, send, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, ErrorBox, Query } from "../../components/States";
import { InsightTile, type Saved } from "./InsightTile";

export default function DashboardPage() {
  const name = useParams().name ?? "";
  const me = useMe();
  const editor = can(me.data, "editor");
  const path = `/api/dashboards/${encodeURIComponent(name)}`;
  const board = useQuery({
    queryKey: ["dashboards", name],
    queryFn: () => unwrap(api.GET("/api/dashboards/{name}", { params: { path: { name } } })),
  });
  const saved = useQuery({ queryKey: ["insights"], queryFn: () => unwrap(api.GET("/api/insights")), enabled: editor });
  const [pick, setPick] = useState("");
  const queries = useQueryClient();
  const navigate = useNavigate();
  const changed = () => void queries.invalidateQueries({ queryKey: ["dashboards"] });
  const add = useMutation({ mutationFn: (insight: string) => send("POST", `${path}/insights`, { insight }), onSuccess: changed });
  const remove = useMutation({
    mutationFn: (insight: string) => send("DELETE", `${path}/insights/${encodeURIComponent(insight)}`),
    onSuccess: changed,
  });
  const drop = useMutation({
    mutationFn: () => send("DELETE", path),
    onSuccess: () => {
      changed();
      void navigate("/dashboards");
    },
  });
  return (
    <>
      <p className="crumbs">
        <Link to="/dashboards">Dashboards</Link> /
      </p>
      <Query q={board} what="the dashboard">
        {(b) => {
          const on = new Set(b.insights.map((i) => i.name));
          const choices = (saved.data ?? []).filter((i) => !on.has(i.name));
          return (
            <>
              <div className="title-row">
                <h1>{b.name}</h1>
                {editor && (
                  <>
                    <label>
                      <span className="sr-only">Saved insight to add</span>
                      <select value={pick} onChange={(e) => setPick(e.target.value)}>
                        <option value="">Add a saved insight…</option>
                        {choices.map((i) => (
                          <option key={i.name} value={i.name}>
                            {i.name}
                          </option>
                        ))}
                      </select>
                    </label>
                    <button
                      type="button"
                      className="primary"
                      disabled={!pick || add.isPending}
                      onClick={() => {
                        add.mutate(pick);
                        setPick("");
                      }}
                    >
                      Add
                    </button>
                    <button type="button" onClick={() => window.confirm(`Delete the dashboard ${b.name}? Its insights stay saved.`) && drop.mutate()}>
                      Delete dashboard
                    </button>
                  </>
                )}
              </div>
              {b.description && <p className="lead">{b.description}</p>}
              {[add.error, remove.error, drop.error].filter(Boolean).map((e, i) => (
                <ErrorBox key={i} error={e} />
              ))}
              {b.insights.length === 0 ? (
                <Empty title="This dashboard is empty">
                  <span>
                    Add a saved insight above, or save one from any analysis page (<Link to="/insights/funnel">Funnels</Link>,{" "}
                    <Link to="/insights/discovery">Process discovery</Link>…).
                  </span>
                </Empty>
              ) : (
                <div className="tiles">
                  {b.insights.map((i) => (
                    <InsightTile
                      key={i.name}
                      insight={i as unknown as Saved}
                      actions={
                        editor && (
                          <button type="button" className="small" onClick={() => remove.mutate(i.name)}>
                            Remove <span className="sr-only">{i.name}</span>
                          </button>
                        )
                      }
                    />
                  ))}
                </div>
              )}
            </>
          );
        }}
      </Query>
    </>
  );
}
