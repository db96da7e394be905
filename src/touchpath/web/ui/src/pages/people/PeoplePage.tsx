// People: search by any identifier (user id, email, anonymous id, device); the query is in the URL.
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { displayName } from "./sessions";

export default function PeoplePage() {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  const hits = useQuery({
    queryKey: ["explore", "people", q],
    queryFn: () => unwrap(api.GET("/api/explore/people", { params: { query: { q, limit: 50 } } })),
    placeholderData: (prev) => prev,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setParams(text ? { q: text } : {});
  };
  return (
    <>
      <h1>People</h1>
      <form className="toolbar" role="search" onSubmit={submit}>
        <label>
          Find a person by user id, email, anonymous id or device
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="e.g. u_000042 or @example.com"
            style={{ width: 380 }}
          />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </form>
      <Query q={hits} what="people">
        {(list) =>
          list.length === 0 ? (
            <Empty title={q ? `Nobody has an identifier containing “${q}”` : "No people yet"}>
              <span>People appear as their first events arrive.</span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="People">
              <caption className="hint">
                {q ? `People whose identifiers contain “${q}”` : "Most recently seen people"}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Identifiers</th>
                  <th scope="col">Last seen (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {list.map((p) => (
                  <tr key={p.profile_id}>
                    <td>
                      <Link to={`/people/${encodeURIComponent(p.profile_id)}`}>
                        {displayName(p.identifiers, p.profile_id)}
                      </Link>
                    </td>
                    <td className="wrap">
                      {p.identifiers.slice(0, 4).map((i) => (
                        <span key={`${i.kind}:${i.value}`} className="chip">
                          <span className="chip-kind">{i.kind}</span> {i.value}
                        </span>
                      ))}
                      {p.identifiers.length > 4 && <span className="hint">+{p.identifiers.length - 4} more</span>}
                    </td>
                    <td>{p.last_seen ? fmtTime(p.last_seen) : "–"}</td>
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
