// Dashboards: named sets of saved insights; create one here, fill it from its page.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, send, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, ErrorBox, Query } from "../../components/States";

export default function DashboardsIndex() {
  const me = useMe();
  const boards = useQuery({ queryKey: ["dashboards"], queryFn: () => unwrap(api.GET("/api/dashboards")) });
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const navigate = useNavigate();
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: (n: string) => send("PUT", `/api/dashboards/${encodeURIComponent(n)}`, { description, insights: [] }),
    onSuccess: (_, n) => {
      void queries.invalidateQueries({ queryKey: ["dashboards"] });
      void navigate(`/dashboards/${encodeURIComponent(n)}`);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name.trim());
  };
  return (
    <>
      <div className="title-row">
        <h1>Dashboards</h1>
        <Link to="/insights">Saved insights</Link>
      </div>
      <p className="lead">Saved insights side by side, each read afresh when the dashboard opens.</p>
      {can(me.data, "editor") && (
        <form className="panel toolbar" onSubmit={submit} aria-label="New dashboard">
          <label>
            New dashboard
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} placeholder="e.g. Monday review" style={{ width: 240 }} />
          </label>
          <label>
            Description
            <input value={description} onChange={(e) => setDescription(e.target.value)} placeholder="optional" style={{ width: 280 }} />
          </label>
          <button type="submit" className="primary" disabled={!name.trim() || create.isPending}>
            Create
          </button>
        </form>
      )}
      {create.error && <ErrorBox error={create.error} />}
      <Query q={boards} what="the dashboards">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No dashboards yet">
              <span>Create one above, then add saved insights to it.</span>
            </Empty>
          ) : (
            <div className="links">
              {list.map((b) => (
                <Link key={b.name} className="link-card" to={`/dashboards/${encodeURIComponent(b.name)}`}>
                  <strong>{b.name}</strong>
                  <span>{b.description || `${b.insights.length} insights`}</span>
                  <span>{b.insights.map((i) => i.name).join(" · ") || "empty"}</span>
                </Link>
              ))}
            </div>
          )
        }
      </Query>
    </>
  );
}
