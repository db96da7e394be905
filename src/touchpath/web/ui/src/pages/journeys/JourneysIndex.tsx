// Journeys: every journey with its status, live version and how many people entered, are in it
// now and converted. "New journey" opens the builder on a blank one.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { fmtInt } from "../../charts/options";
import { Empty, Query } from "../../components/States";
import "./journeys.css";

export const STATUS: Record<string, string> = {
  draft: "Draft",
  live: "Live",
  paused: "Paused",
  archived: "Archived (draining)",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status}`}>{STATUS[status] ?? status}</span>;
}

const ENTRY: Record<string, string> = { event: "on an event", audience: "on joining an audience", touchpoint: "at a map touchpoint", schedule: "on a schedule", api: "through the API" };

const pct = (a: number, b: number) => (b ? `${((a / b) * 100).toFixed(1)}%` : "–");

export default function JourneysIndex() {
  const list = useQuery({ queryKey: ["journeys"], queryFn: () => unwrap(api.GET("/api/journeys")), refetchInterval: 10_000 });
  const me = useMe();
  const navigate = useNavigate();
  const [name, setName] = useState("");
  const valid = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name);
  return (
    <>
      <div className="title-row">
        <h1>Journeys</h1>
        {can(me.data, "editor") && (
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              if (valid) void navigate(`/journeys/new?name=${encodeURIComponent(name)}`);
            }}
          >
            <label>
              <span className="sr-only">Name of the new journey</span>
              <input placeholder="new-journey-name" value={name} onChange={(e) => setName(e.target.value)} />
            </label>
            <button type="submit" className="primary" disabled={!valid}>
              New journey
            </button>
          </form>
        )}
      </div>
      <p className="lead">
        Journeys move people through waits, branches and messages, from events, audiences and map
        touchpoints. Each shows who entered, who is in it now and who reached its goal.
      </p>
      <Query q={list} what="the journeys">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No journeys yet">
              <span>Name one above and press “New journey” to open the builder, or save a YAML document with <code>touchpath journey save</code>.</span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Journeys">
              <thead>
                <tr>
                  <th scope="col">Journey</th>
                  <th scope="col">Status</th>
                  <th scope="col">Version</th>
                  <th scope="col">Entry</th>
                  <th scope="col" className="num">Entered</th>
                  <th scope="col" className="num">In it now</th>
                  <th scope="col" className="num">Converted</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((j) => (
                  <tr key={j.name}>
                    <td>
                      <Link to={`/journeys/${encodeURIComponent(j.name)}`}>{j.title || j.name}</Link>
                      {j.title && <div className="hint">{j.name}</div>}
                    </td>
                    <td>
                      <StatusBadge status={j.status} />
                    </td>
                    <td>
                      {j.live_version != null ? `v${j.live_version} live` : "not published"}
                      {j.latest_version !== j.live_version && <div className="hint">latest draft v{j.latest_version}</div>}
                    </td>
                    <td>{ENTRY[j.entry] ?? j.entry}</td>
                    <td className="num">{fmtInt(j.entered ?? 0)}</td>
                    <td className="num">{fmtInt(j.in_flight ?? 0)}</td>
                    <td className="num">
                      {fmtInt(j.converted ?? 0)} <span className="hint">{pct(j.converted ?? 0, j.entered ?? 0)}</span>
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
