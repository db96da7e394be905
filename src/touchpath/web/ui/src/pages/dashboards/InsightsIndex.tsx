// Saved insights: every analysis kept under a name, newest change first, each opened as a chart
// (run now) or in the page that edits it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, send, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { KIND_LABELS, pageUrl } from "./tiles";

export default function InsightsIndex() {
  const me = useMe();
  const list = useQuery({ queryKey: ["insights"], queryFn: () => unwrap(api.GET("/api/insights")) });
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: (name: string) => send("DELETE", `/api/insights/${encodeURIComponent(name)}`),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["insights"] });
      void queries.invalidateQueries({ queryKey: ["dashboards"] });
    },
  });
  return (
    <>
      <div className="title-row">
        <h1>Saved insights</h1>
        <Link to="/dashboards">Dashboards</Link>
      </div>
      <p className="lead">
        Analyses kept under a name. Each is run afresh when opened, so it always counts today&apos;s events. Save one with
        &quot;Save insight&quot; on any analysis page.
      </p>
      {remove.error && <ErrorBox error={remove.error} />}
      <Query q={list} what="the saved insights">
        {(items) =>
          items.length === 0 ? (
            <Empty title="No saved insights yet">
              <span>
                Build a <Link to="/insights/funnel">funnel</Link>, <Link to="/insights/paths">paths</Link>,{" "}
                <Link to="/insights/retention">retention</Link>, <Link to="/insights/discovery">process discovery</Link>,{" "}
                <Link to="/insights/attribution">attribution</Link> or <Link to="/insights/feedback">feedback</Link> analysis and
                press &quot;Save insight&quot;.
              </span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Saved insights">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Description</th>
                  <th scope="col">Changed</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((i) => {
                  const open = pageUrl(i.spec as { kind: string } & Record<string, unknown>);
                  return (
                    <tr key={i.name}>
                      <td>
                        <Link to={`/insights/saved/${encodeURIComponent(i.name)}`}>{i.name}</Link>
                      </td>
                      <td>{KIND_LABELS[i.kind] ?? i.kind}</td>
                      <td className="wrap">{i.description}</td>
                      <td>{i.updated_at ? fmtTime(i.updated_at) : ""}</td>
                      <td className="actions">
                        {open && <Link to={open}>Edit</Link>}{" "}
                        {can(me.data, "editor") && (
                          <button
                            type="button"
                            className="small"
                            onClick={() => window.confirm(`Delete the insight ${i.name}? It is taken off every dashboard.`) && remove.mutate(i.name)}
                          >
                            Delete <span className="sr-only">{i.name}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Query>
    </>
  );
}
