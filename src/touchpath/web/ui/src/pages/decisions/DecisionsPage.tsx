// Decisions: what a site or app shows each person (a JSON variant chosen by rules on audiences,
// traits and the page), with where each is live; the way to start a new one.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { Empty, Query } from "../../components/States";
import { fmtTime } from "../../format";
import { NAME } from "./model";

export default function DecisionsPage() {
  const list = useQuery({ queryKey: ["decisions"], queryFn: () => unwrap(api.GET("/api/decisions")) });
  const me = useMe();
  return (
    <>
      <div className="title-row">
        <h1>Decisions</h1>
      </div>
      <p className="lead">
        A decision chooses what a page or app shows each person: rules on audiences, traits and the page
        lead to a variant (JSON your site renders), everyone else gets the default, and an optional holdout
        measures whether the rules help. Pages ask <code>POST /v1/decide</code> with their write key.
      </p>
      {can(me.data, "editor") && <NewDecision taken={(list.data ?? []).map((d) => d.name)} />}
      <Query q={list} what="the decisions">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No decisions yet">
              <span>Name one above to write its variants and rules; publish it on a source to make it live.</span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Decisions">
              <thead>
                <tr>
                  <th scope="col">Decision</th>
                  <th scope="col">Variants</th>
                  <th scope="col" className="num">Rules</th>
                  <th scope="col" className="num">Holdout</th>
                  <th scope="col">Live on</th>
                  <th scope="col">Last change</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((d) => (
                  <tr key={d.name}>
                    <td>
                      <Link to={`/decisions/${encodeURIComponent(d.name)}`}>{d.name}</Link>
                      {d.description && <div className="hint">{d.description}</div>}
                    </td>
                    <td className="wrap">{d.variants.join(", ")}</td>
                    <td className="num">{d.rules}</td>
                    <td className="num">{d.holdout ? `${Math.round(d.holdout * 100)}%` : "none"}</td>
                    <td>
                      {d.publications.length === 0 ? (
                        <span className="hint">not published</span>
                      ) : (
                        d.publications.map((p) => (
                          <span key={p.source_id} className="badge">
                            {p.source} · v{p.version}
                            {p.version < d.latest ? " (older)" : ""}
                          </span>
                        ))
                      )}
                    </td>
                    <td>
                      v{d.latest} · {fmtTime(d.updated_at)} <span className="hint">by {d.updated_by}</span>
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

function NewDecision({ taken }: { taken: string[] }) {
  const [name, setName] = useState("");
  const navigate = useNavigate();
  const bad = name !== "" && !NAME.test(name) ? "use letters, digits and - _ . (no spaces)" : taken.includes(name) ? "a decision has this name" : null;
  return (
    <form
      className="panel toolbar"
      aria-label="Start a decision"
      onSubmit={(e) => {
        e.preventDefault();
        if (name && !bad) void navigate(`/decisions/new?name=${encodeURIComponent(name)}`);
      }}
    >
      <label>
        Name of a new decision
        <input value={name} placeholder="e.g. home-hero" onChange={(e) => setName(e.target.value.trim())} aria-invalid={bad !== null} style={{ width: 240 }} />
        {bad && <span className="field-error">{bad}</span>}
      </label>
      <button type="submit" className="primary" disabled={!name || bad !== null}>
        Create
      </button>
    </form>
  );
}
