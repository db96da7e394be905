// Journey maps: every saved map (latest version) and the shipped examples.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../api/client";
import { Empty, Query } from "../../components/States";

const TYPES: Record<string, string> = {
  current_state: "Current state",
  future_state: "Future state",
  day_in_the_life: "Day in the life",
  blueprint: "Service blueprint",
};

export default function MapsIndex() {
  const maps = useQuery({ queryKey: ["maps"], queryFn: () => unwrap(api.GET("/api/maps")) });
  return (
    <>
      <h1>Journey maps</h1>
      <p className="lead">
        Each map&apos;s stages and touchpoints are event definitions, bound to the live events:
        reach, conversion, drop-off, time between steps and feedback per touchpoint.
      </p>
      <Query q={maps} what="the maps">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No maps yet">
              <span>
                Write one in YAML (docs/maps.md) and save it with <code>touchpath map save</code>.
              </span>
            </Empty>
          ) : (
            <table className="rows panel" aria-label="Journey maps">
              <thead>
                <tr>
                  <th scope="col">Map</th>
                  <th scope="col">Type</th>
                  <th scope="col">Version</th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <tr key={m.name}>
                    <td>
                      <a href={`/maps/${encodeURIComponent(m.name)}`}>{m.title ?? m.name}</a>
                      <div className="hint">{m.name}</div>
                    </td>
                    <td>{TYPES[m.type] ?? m.type}</td>
                    <td>{m.version == null ? "example" : `v${m.version}`}</td>
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
