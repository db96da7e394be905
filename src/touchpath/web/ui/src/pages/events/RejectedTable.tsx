// Messages that were well-formed JSON but broke the spec, kept with the reason.
import { useQuery } from "@tanstack/react-query";
import { getJson } from "../../api/client";
import { Empty, Query } from "../../components/States";
import { fmtTime } from "../../format";

interface Rejected {
  received_at: string;
  source: string;
  message_id: string | null;
  type: string | null;
  reason: string;
  payload: string;
}

export function RejectedTable() {
  const rows = useQuery({
    queryKey: ["rejected"],
    queryFn: () => getJson<Rejected[]>("/api/rejected?limit=200"),
    refetchInterval: 5_000,
  });
  return (
    <Query q={rows} what="the rejected messages">
      {(list) =>
        list.length === 0 ? (
          <Empty title="No rejected messages">
            <span>Every message received so far met the Segment spec.</span>
          </Empty>
        ) : (
          <table className="rows panel" aria-label="Rejected messages">
            <thead>
              <tr>
                <th scope="col">Received (UTC)</th>
                <th scope="col">Reason</th>
                <th scope="col">Message as received</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r, i) => (
                <tr key={`${r.message_id}-${i}`}>
                  <td>{fmtTime(r.received_at)}</td>
                  <td className="warn wrap">{r.reason}</td>
                  <td className="wrap">
                    <code className="payload">{r.payload}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Query>
  );
}
