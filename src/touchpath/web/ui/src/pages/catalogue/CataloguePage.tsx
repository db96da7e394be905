// The event catalogue: every event the store has seen, and per event its property keys with
// the types their values were seen with (docs/catalogue.md). The chosen event is in the URL.
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { fmtInt } from "../../charts/options";
import { Empty, Query } from "../../components/States";
import { fmtTime } from "../../format";

export default function CataloguePage() {
  const [params, setParams] = useSearchParams();
  const event = params.get("event");
  const type = params.get("type") ?? "";
  const q = params.get("q") ?? "";
  const events = useQuery({
    queryKey: ["catalogue", "events"],
    queryFn: () => unwrap(api.GET("/api/catalogue/events")),
  });
  const props = useQuery({
    queryKey: ["catalogue", "properties", event, type],
    enabled: event !== null,
    queryFn: () =>
      unwrap(
        api.GET("/api/catalogue/properties", {
          params: { query: { event: event ?? "", type: type || undefined } },
        }),
      ),
  });
  const set = (patch: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v !== null) next.set(k, v);
      else next.delete(k);
    }
    setParams(next, { replace: true });
  };
  return (
    <>
      <h1>Event catalogue</h1>
      <p className="lead">
        Every event, page and screen the store has been sent, with the properties each carried and
        the types of their values. A key seen with two types shows a client that sends it wrong; an
        analysis that names something not listed here is an error that suggests the closest name.
      </p>
      <div className="toolbar">
        <label>
          Find
          <input value={q} placeholder="event name" onChange={(e) => set({ q: e.target.value || null })} />
        </label>
      </div>
      <div className="grid2">
        <Query q={events} what="the catalogue">
          {(data) => {
            const rows = data.events.filter((e) => e.event.toLowerCase().includes(q.toLowerCase()));
            return rows.length === 0 ? (
              <Empty title="No events yet">
                <span>Events appear here as soon as a source sends them.</span>
              </Empty>
            ) : (
              <table className="rows panel" aria-label="Events">
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Type</th>
                    <th scope="col" className="num">Count</th>
                    <th scope="col" className="num">Properties</th>
                    <th scope="col">Last seen (UTC)</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((e) => (
                    <tr
                      key={`${e.type}/${e.event}`}
                      className="clickable"
                      aria-selected={event === e.event && type === e.type}
                      onClick={() => set({ event: e.event, type: e.type })}
                    >
                      <td>
                        <a
                          href={`?event=${encodeURIComponent(e.event)}&type=${e.type}`}
                          onClick={(ev) => ev.preventDefault()}
                        >
                          {e.event || "(traits)"}
                        </a>
                      </td>
                      <td>{e.type}</td>
                      <td className="num">{fmtInt(e.count)}</td>
                      <td className="num">{e.properties}</td>
                      <td>{fmtTime(e.last_seen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            );
          }}
        </Query>
        <section className="panel" aria-label="Properties">
          {event === null ? (
            <Empty title="Choose an event">
              <span>Its properties and their types show here.</span>
            </Empty>
          ) : (
            <>
              <h2>
                {event || "Traits"} <span className="hint">{type}</span>
              </h2>
              <Query q={props} what="the properties">
                {(p) =>
                  p.properties.length === 0 ? (
                    <Empty title="No properties">
                      <span>Messages of this event carried no properties.</span>
                    </Empty>
                  ) : (
                    <table className="rows" aria-label={`Properties of ${event}`}>
                      <thead>
                        <tr>
                          <th scope="col">Property</th>
                          <th scope="col">Type</th>
                          <th scope="col" className="num">Count</th>
                          <th scope="col">First seen</th>
                          <th scope="col">Last seen</th>
                        </tr>
                      </thead>
                      <tbody>
                        {p.properties.map((k) => (
                          <tr key={`${k.key}/${k.value_type}`}>
                            <td>{k.key}</td>
                            <td>
                              <span className="badge">{k.value_type}</span>
                            </td>
                            <td className="num">{fmtInt(k.count)}</td>
                            <td>{fmtTime(k.first_seen)}</td>
                            <td>{fmtTime(k.last_seen)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  )
                }
              </Query>
            </>
          )}
        </section>
      </div>
    </>
  );
}
