// A person: identifiers, traits, computed traits, audiences, the cross-channel timeline grouped
// by session, and why their identifiers are one person. Admins may delete or suppress them.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { Query } from "../../components/States";
import { fmtTime } from "../../format";
import { DangerZone } from "./DangerZone";
import { Explain } from "./Explain";
import { displayName } from "./sessions";
import { profileQuery, timelineQuery } from "./queries";
import { TimelineView } from "./TimelineView";

export default function PersonPage() {
  const ref = useParams().ref ?? "";
  // The profile and the timeline are asked for side by side, both by the address's reference
  // (the timeline used to wait for the profile's id); the identity explanation, lowest on
  // the page, waits until the timeline is in rather than compete with it.
  const profile = useQuery(profileQuery(ref));
  const timeline = useQuery(timelineQuery(ref));
  return (
    <Query q={profile} what="the person">
      {(p) => {
        const name = displayName(p.identifiers, p.profile_id);
        const userId = p.identifiers.find((i) => i.kind === "user_id")?.value;
        return (
          <>
            <p className="crumbs">
              <Link to="/people">People</Link> /
            </p>
            <h1>{name}</h1>
            <p className="lead">
              Profile <code>{p.profile_id}</code>
              {p.created_at ? ` · first seen ${fmtTime(p.created_at)}` : ""}
            </p>
            <div className="grid2">
              <section className="panel" aria-label="Identifiers">
                <h2>Identifiers</h2>
                <table className="rows">
                  <thead>
                    <tr>
                      <th scope="col">Kind</th>
                      <th scope="col">Value</th>
                      <th scope="col">Last seen</th>
                    </tr>
                  </thead>
                  <tbody>
                    {p.identifiers.map((i) => (
                      <tr key={`${i.kind}:${i.value}`}>
                        <td>{i.kind}</td>
                        <td className="person">{i.value}</td>
                        <td>{i.last_seen ? fmtTime(i.last_seen) : "–"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              <section className="panel" aria-label="Traits and audiences">
                <h2>Traits</h2>
                <KeyValues values={p.traits} empty="No traits sent yet (identify calls set them)." />
                <h2>Computed traits</h2>
                <KeyValues values={p.computed_traits} empty="No computed trait has a value for this person." />
                <h2>Audiences</h2>
                {p.audiences.length === 0 ? (
                  <p className="hint">In no audience.</p>
                ) : (
                  <ul className="plain">
                    {p.audiences.map((a) => (
                      <li key={a.audience}>
                        <Link to={`/audiences/${encodeURIComponent(a.audience)}`}>{a.audience}</Link>{" "}
                        <span className="hint">since {fmtTime(a.entered_at)}</span>
                      </li>
                    ))}
                  </ul>
                )}
              </section>
            </div>
            <TimelineView refId={ref} />
            <Explain refId={ref} enabled={!timeline.isPending} />
            {userId && <DangerZone userId={userId} />}
          </>
        );
      }}
    </Query>
  );
}

function KeyValues({ values, empty }: { values: Record<string, unknown>; empty: string }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return <p className="hint">{empty}</p>;
  return (
    <dl className="kv">
      {entries.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === "object" ? JSON.stringify(v) : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
