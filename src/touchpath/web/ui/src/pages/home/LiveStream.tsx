// The newest events, polled every 2 s; a row opens the event in the Events explorer.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { ChannelBadge } from "../../components/ChannelBadge";
import { Query } from "../../components/States";
import { fmtTime } from "../../format";

export function LiveStream() {
  const events = useQuery({
    queryKey: ["explore", "events", "live"],
    queryFn: () => unwrap(api.POST("/api/explore/events", { body: { limit: 15 } })),
    refetchInterval: 2_000,
  });
  return (
    <section className="panel">
      <h2>
        Live stream <span className="hint">newest first, refreshed every 2 s</span>
      </h2>
      <Query q={events} what="the newest events">
        {(page) => (
          <table className="rows" aria-label="Newest events">
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                <th scope="col">Event</th>
                <th scope="col">Channel</th>
                <th scope="col">Person</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((e) => {
                const who = e.user_id ?? e.anonymous_id ?? "";
                return (
                  <tr key={e.seq}>
                    <td>{fmtTime(e.timestamp)}</td>
                    <td>{e.event ?? `(${e.type})`}</td>
                    <td>
                      <ChannelBadge channel={e.channel} />
                    </td>
                    <td>
                      <Link to={`/people/${encodeURIComponent(who)}`}>{who}</Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </Query>
    </section>
  );
}
