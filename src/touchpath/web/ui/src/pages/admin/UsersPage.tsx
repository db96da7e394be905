// Users: add (with a one-time password shown once), change role, new password, disable.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, type Schemas, unwrap } from "../../api/client";
import { ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { SecretOnce } from "./Secret";

type Role = Schemas["User"]["role"];
export const ROLES: Role[] = ["viewer", "editor", "admin", "owner"];

export default function UsersPage() {
  const queries = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: () => unwrap(api.GET("/api/users")) });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [secret, setSecret] = useState<{ title: string; value: string } | null>(null);
  const done = () => void queries.invalidateQueries({ queryKey: ["users"] });
  const add = useMutation({
    mutationFn: () => unwrap(api.POST("/api/users", { body: { email, role } })),
    onSuccess: (r) => {
      setSecret({ title: `Password of ${r.user.email}:`, value: r.password });
      setEmail("");
      done();
    },
  });
  const patch = useMutation({
    mutationFn: (v: { ref: string; role: Role }) =>
      unwrap(api.PATCH("/api/users/{ref}", { params: { path: { ref: v.ref } }, body: { role: v.role } })),
    onSuccess: done,
  });
  const reset = useMutation({
    mutationFn: (ref: string) => unwrap(api.POST("/api/users/{ref}/password", { params: { path: { ref } } })),
    onSuccess: (r) => setSecret({ title: `New password of ${r.user.email}:`, value: r.password }),
  });
  const disable = useMutation({
    mutationFn: (ref: string) => unwrap(api.DELETE("/api/users/{ref}", { params: { path: { ref } } })),
    onSuccess: done,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  const error = add.error ?? patch.error ?? reset.error ?? disable.error;
  return (
    <>
      <h1>Users</h1>
      <p className="lead">
        Viewers read everything; editors also change audiences, traits and maps; admins also manage
        sources, users, tokens and privacy; owners everything.
      </p>
      <form className="panel toolbar" onSubmit={submit} aria-label="Add a user">
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" className="primary" disabled={add.isPending}>
          Add user
        </button>
      </form>
      {secret && <SecretOnce title={secret.title} secret={secret.value} onDone={() => setSecret(null)} />}
      {error && <ErrorBox error={error} />}
      <Query q={users} what="the users">
        {(list) => (
          <table className="rows panel" aria-label="Users">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Added</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((u) => (
                <tr key={u.id}>
                  <td>
                    {u.email} {u.disabled_at && <span className="badge muted">disabled</span>}
                  </td>
                  <td>
                    <select
                      aria-label={`Role of ${u.email}`}
                      value={u.role}
                      disabled={!!u.disabled_at}
                      onChange={(e) => patch.mutate({ ref: u.id, role: e.target.value as Role })}
                    >
                      {ROLES.map((r) => (
                        <option key={r}>{r}</option>
                      ))}
                    </select>
                  </td>
                  <td>{fmtTime(u.created_at)}</td>
                  <td>
                    {!u.disabled_at && (
                      <>
                        <button type="button" onClick={() => reset.mutate(u.id)}>
                          New password
                        </button>{" "}
                        <button
                          type="button"
                          className="danger"
                          onClick={() => window.confirm(`Disable ${u.email}? Their sessions end and tokens are revoked.`) && disable.mutate(u.id)}
                        >
                          Disable
                        </button>
                      </>
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
