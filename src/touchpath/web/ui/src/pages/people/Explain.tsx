// Why these identifiers are one person: the message that linked each, the merges, the drops.
import { useQuery } from "@tanstack/react-query";
import { getJson } from "../../api/client";
import { Query } from "../../components/States";
import { fmtTime } from "../../format";
import type { Explanation } from "./types";

/** The identity explanation of `refId`, asked for once `enabled` (default: at once). */
export function Explain({ refId, enabled = true }: { refId: string; enabled?: boolean }) {
  const why = useQuery({
    queryKey: ["profile", refId, "explain"],
    queryFn: () => getJson<Explanation>(`/api/profiles/${encodeURIComponent(refId)}/explain`),
    enabled,
  });
  return (
    <section className="panel" aria-label="Identity">
      <h2>
        Why these identifiers are one person
      </h2>
      <Query q={why} what="the identity explanation">
        {(x) => (
          <>
            <table className="rows">
              <thead>
                <tr>
                  <th scope="col">Identifier</th>
                  <th scope="col">Joined by message</th>
                  <th scope="col">At (UTC)</th>
                </tr>
              </thead>
              <tbody>
                {x.links.map((l) => (
                  <tr key={`${l.kind}:${l.value}`}>
                    <td className="person">
                      <span className="chip-kind">{l.kind}</span> {l.value}
                    </td>
                    <td>{l.message_id ? <code>{l.message_id}</code> : "–"}</td>
                    <td>{l.linked_at ? fmtTime(l.linked_at) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {x.merges.length > 0 && (
              <>
                <h3>Merges</h3>
                <ul className="plain">
                  {x.merges.map((m) => (
                    <li key={m.seq}>
                      {fmtTime(m.merged_at)}: profile <code>{m.merged_profile_id}</code> merged into{" "}
                      <code>{m.kept_profile_id}</code> by message <code>{m.message_id ?? "–"}</code>
                    </li>
                  ))}
                </ul>
              </>
            )}
            {x.drops.length > 0 && (
              <>
                <h3>Identifiers not joined</h3>
                <ul className="plain">
                  {x.drops.map((d) => (
                    <li key={`${d.seq}-${d.kind}-${d.value}`}>
                      {d.kind} <code>{d.value}</code>: {d.reason}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </Query>
    </section>
  );
}
