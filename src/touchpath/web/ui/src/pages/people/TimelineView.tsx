// The person's events across devices and channels, grouped by session, newest first.
import { useQuery } from "@tanstack/react-query";
import { ChannelBadge } from "../../components/ChannelBadge";
import { Query } from "../../components/States";
import { fmtTime } from "../../format";
import { previewProps } from "../events/EventsTable";
import { groupSessions } from "./sessions";
import { timelineQuery } from "./queries";

/** The timeline of `refId` (a profile id or any identifier of the person). */
export function TimelineView({ refId }: { refId: string }) {
  const timeline = useQuery(timelineQuery(refId));
  return (
    <section className="panel" aria-label="Timeline">
      <h2>
        Timeline <span className="hint">every event across devices and channels, by session, newest first</span>
      </h2>
      <Query q={timeline} what="the timeline">
        {(t) => {
          const sessions = groupSessions(t.events);
          return (
            <>
              <p className="hint">
                {t.total.toLocaleString("en-US")} events in {sessions.length} sessions
                {t.total > t.events.length ? ` (the newest ${t.events.length} shown)` : ""}
              </p>
              {sessions.map((s) => (
                <details key={`${s.start}-${s.events[0]!.seq}`} className="session" open={sessions.indexOf(s) < 3}>
                  <summary>
                    <strong>{fmtTime(s.start)}</strong> · {s.events.length} event{s.events.length === 1 ? "" : "s"}{" "}
                    {s.channels.map((c) => (
                      <ChannelBadge key={c} channel={c} />
                    ))}
                    {s.devices.length > 1 && <span className="hint"> {s.devices.length} devices</span>}
                  </summary>
                  <table className="rows">
                    <tbody>
                      {s.events.map((e) => (
                        <tr key={e.seq}>
                          <td>{fmtTime(e.timestamp).slice(11)}</td>
                          <td>
                            {e.event ?? `(${e.type})`}
                            {(e.linked_by ?? []).map((l) => (
                              <span key={`${l.kind}:${l.value}`} className="hint linked-by" title="how this event joined the person">
                                {" "}
                                · linked by {l.kind.replace(/_/g, " ")} {l.value}
                              </span>
                            ))}
                          </td>
                          <td>
                            <ChannelBadge channel={e.channel} />
                          </td>
                          <td className="props">{e.properties ? previewProps(e.properties) : ""}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </details>
              ))}
            </>
          );
        }}
      </Query>
    </section>
  );
}
