// Personal API tokens: create (the secret shown once), list with last use, revoke.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { SecretOnce } from "./Secret";
import { ROLES } from "./UsersPage";

type Role = Schemas["Token"]["role"];

export default function TokensPage() {
  const queries = useQueryClient();
  const [showRevoked, setShowRevoked] = useState(false);
  const tokens = useQuery({
    queryKey: ["tokens", showRevoked],
    queryFn: () => unwrap(api.GET("/api/tokens", { params: { query: { revoked: showRevoked } } })),
  });
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => unwrap(api.POST("/api/tokens", { body: { name, role } })),
    onSuccess: (r) => {
      setSecret(r.secret);
      setName("");
      void queries.invalidateQueries({ queryKey: ["tokens"] });
    },
  });
  const revoke = useMutation({
    mutationFn: (ref: string) => unwrap(api.DELETE("/api/tokens/{ref}", { params: { path: { ref } } })),
    onSuccess: () => void queries.invalidateQueries({ queryKey: ["tokens"] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <>
      <h1>API tokens</h1>
      <p className="lead">
        Scripts, servers and the CLI send a token as <code>Authorization: Bearer &lt;secret&gt;</code>.
        A token acts for you, with a role up to yours.
      </p>
      <form className="panel toolbar" onSubmit={submit} aria-label="Create a token">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. reporting" />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {secret && <SecretOnce title="The new token's secret:" secret={secret} onDone={() => setSecret(null)} />}
      {(create.error ?? revoke.error) && <ErrorBox error={create.error ?? revoke.error} />}
      <label className="inline">
        <input type="checkbox" checked={showRevoked} onChange={(e) => setShowRevoked(e.target.checked)} /> Show revoked
        tokens
      </label>
      <Query q={tokens} what="the tokens">
        {(list) => (
          <table className="rows panel" aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">For</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}</code>
                  </td>
                  <td>{t.role}</td>
                  <td>{t.email ?? "–"}</td>
                  <td>{fmtTime(t.created_at)}</td>
                  <td>{t.last_used_at ? fmtTime(t.last_used_at) : "never"}</td>
                  <td>
                    {t.revoked_at ? (
                      <span className="badge muted">revoked</span>
                    ) : (
                      <button type="button" className="danger" onClick={() => revoke.mutate(t.id)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Query>
    </>
  );
}
