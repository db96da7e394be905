// Journey maps: every saved map (latest version) and the shipped examples.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router";
import { api, unwrap } from "../../api/client";
import { Empty, ErrorBox, Query } from "../../components/States";

const TYPES: Record<string, string> = {
  current_state: "Current state",
  future_state: "Future state",
  day_in_the_life: "Day in the life",
  blueprint: "Service blueprint",
};

export default function MapsIndex() {
  const maps = useQuery({ queryKey: ["maps"], queryFn: () => unwrap(api.GET("/api/maps")) });
  const navigate = useNavigate();
  const queries = useQueryClient();
  const discover = useMutation({
    // One step: discover a current-state map from the events and save it as a new map.
    mutationFn: async () => {
      const taken = new Set((maps.data ?? []).map((m) => m.name));
      let name = "discovered";
      for (let i = 2; taken.has(name); i++) name = `discovered-${i}`;
      const found = await unwrap(api.POST("/api/maps/discover", { params: { query: { name } } }));
      return unwrap(api.POST("/api/maps", { body: found.document as never }));
    },
    onSuccess: (saved) => {
      void queries.invalidateQueries({ queryKey: ["maps"] });
      void navigate(`/maps/${encodeURIComponent(saved.name)}`);
    },
  });
  return (
    <>
      <div className="title-row">
        <h1>Journey maps</h1>
        <button type="button" className="primary" disabled={discover.isPending} onClick={() => discover.mutate()}>
          {discover.isPending ? "Discovering…" : "Discover a map from the events"}
        </button>
        <Link className="button" to="/maps/new/edit">
          New map
        </Link>
        <Link className="button" to="/maps/compare">
          Compare maps
        </Link>
      </div>
      <p className="lead">
        Each map&apos;s stages and touchpoints are event definitions, bound to the live events:
        reach, conversion, drop-off, time between steps and feedback per touchpoint.
      </p>
      {discover.error && <ErrorBox error={discover.error} />}
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
                      <Link to={`/maps/${encodeURIComponent(m.name)}`}>{m.title ?? m.name}</Link>
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
