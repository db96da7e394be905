// One audience: what it means, its members, CSV export, edit and delete.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams } from "react-router";
import { getJson, send } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { ErrorBox, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { originText } from "./AudiencesPage";
import { describe, encodeDraft } from "./conditions";
import type { AudienceRow, Members } from "./types";

export default function AudiencePage() {
  const name = useParams().name ?? "";
  const enc = encodeURIComponent(name);
  const navigate = useNavigate();
  const queries = useQueryClient();
  const all = useQuery({ queryKey: ["audiences"], queryFn: () => getJson<AudienceRow[]>("/api/audiences") });
  const members = useQuery({
    queryKey: ["audiences", name, "members"],
    queryFn: () => getJson<Members>(`/api/audiences/${enc}/members`),
  });
  const remove = useMutation({
    mutationFn: () => send("DELETE", `/api/audiences/${enc}`),
    onSuccess: () => {
      void queries.invalidateQueries({ queryKey: ["audiences"] });
      void navigate("/audiences");
    },
  });
  const row = all.data?.find((a) => a.name === name);
  return (
    <>
      <p className="crumbs">
        <Link to="/audiences">Audiences</Link> /
      </p>
      <div className="title-row">
        <h1>{name}</h1>
        {row?.condition && (
          <Link className="button" to={`/audiences/${enc}/edit?c=${encodeDraft(row.condition)}`}>
            Edit
          </Link>
        )}
        <a className="button" href={`/api/audiences/${enc}/members?format=csv`} download={`${name}.csv`}>
          Download CSV
        </a>
        <button
          type="button"
          className="danger"
          onClick={() => window.confirm(`Delete the audience ${name}?`) && remove.mutate()}
        >
          Delete
        </button>
      </div>
      {row && (
        <p className="lead">
          {row.condition ? `People who ${describe(row.condition)}.` : `A static list${originText(row.origin)}.`}
        </p>
      )}
      {remove.error && <ErrorBox error={remove.error} />}
      <Query q={members} what="the members">
        {(m) => (
          <section className="panel" aria-label="Members">
            <h2>
              {fmtInt(m.size)} {m.size === 1 ? "person" : "people"}
              {m.size > 200 && <span className="hint">the first 200 shown; the CSV has all</span>}
            </h2>
            <table className="rows">
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Email</th>
                  <th scope="col">Member since (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {m.members.slice(0, 200).map((p) => (
                  <tr key={p.profile_id}>
                    <td>
                      <Link to={`/people/${encodeURIComponent(p.profile_id)}`}>{p.user_id ?? p.profile_id}</Link>
                    </td>
                    <td>{p.email ?? ""}</td>
                    <td>{fmtTime(p.entered_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
      </Query>
    </>
  );
}
