// One journey map bound to live numbers. The server keeps bound maps cached, so this opens at
// once; the range and the version are in the address.
import { useQuery } from "@tanstack/react-query";
import { Link, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { useEventNames } from "../../api/lookups";
import { fmtInt } from "../../charts/options";
import { Query } from "../../components/States";
import { can, useMe } from "../../auth/session";
import { fromHereLink } from "../journeys/touchpoints";
import { BoundMapView } from "./BoundMapView";
import { freshnessLine, missingEvents, STAGE_TYPES, type BoundMap } from "./model";

export default function MapViewer() {
  const name = useParams().name ?? "";
  const [params, setParams] = useSearchParams();
  const start = params.get("start") ?? "";
  const end = params.get("end") ?? "";
  const version = params.get("version") ? Number(params.get("version")) : undefined;
  const range = { start: start ? `${start}T00:00:00Z` : undefined, end: end ? `${end}T23:59:59Z` : undefined };
  const doc = useQuery({
    queryKey: ["maps", name, "doc", version],
    queryFn: () => unwrap(api.GET("/api/maps/{name}", { params: { path: { name }, query: { version } } })),
  });
  const bound = useQuery({
    queryKey: ["maps", name, "bind", version, start, end],
    queryFn: () =>
      version === undefined
        ? unwrap(api.GET("/api/maps/{name}/bind", { params: { path: { name }, query: range } }))
        : unwrap(api.POST("/api/maps/bind", { params: { query: range }, body: doc.data!.document as never })),
    enabled: version === undefined || doc.data !== undefined,
    refetchInterval: 15_000,
  });
  const versions = useQuery({
    queryKey: ["maps", name, "versions"],
    queryFn: () => unwrap(api.GET("/api/maps/{name}/versions", { params: { path: { name } } })),
  });
  const names = useEventNames();
  const editor = can(useMe().data, "editor");
  const known = new Set((names.data ?? []).map((n) => n.name));
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next);
  };
  const enc = encodeURIComponent(name);
  return (
    <>
      <p className="crumbs">
        <Link to="/maps">Journey maps</Link> /
      </p>
      <Query q={doc} what="the map">
        {(d) => {
          const m = d.document;
          const missing = names.data ? missingEvents(m, known) : [];
          return (
            <>
              <div className="title-row">
                <h1>{m.title ?? m.name}</h1>
                <Link className="button primary" to={`/maps/${enc}/edit${version ? `?version=${version}` : ""}`}>
                  Edit
                </Link>
                <Link className="button" to={`/maps/compare?a=${enc}&b=${enc}${(versions.data?.length ?? 0) > 1 ? `@${versions.data![1]}` : ""}`}>
                  Compare
                </Link>
                <span className="export">
                  Export{" "}
                  {(["pdf", "png", "svg"] as const).map((f) => (
                    <a key={f} className="button" href={`/api/maps/${enc}/render.${f}`} download={`${name}.${f}`}>
                      {f.toUpperCase()}
                    </a>
                  ))}
                </span>
              </div>
              <p className="lead">
                {STAGE_TYPES[m.type ?? "current_state"]} · persona <strong>{m.persona?.name ?? "Everyone"}</strong>
                {m.persona?.audience ? (
                  <>
                    {" "}
                    (audience <Link to={`/audiences/${encodeURIComponent(m.persona.audience)}`}>{m.persona.audience}</Link>)
                  </>
                ) : null}
                {m.goal ? ` · goal: ${m.goal.event}` : ""}
                {m.description ? ` · ${m.description}` : ""}
              </p>
              <div className="toolbar">
                <label>
                  From
                  <input type="date" value={start} onChange={(e) => setParam("start", e.target.value)} />
                </label>
                <label>
                  To
                  <input type="date" value={end} onChange={(e) => setParam("end", e.target.value)} />
                </label>
                <label>
                  Version
                  <select value={version ?? ""} onChange={(e) => setParam("version", e.target.value)}>
                    <option value="">latest{d.version ? ` (v${d.version})` : " (example)"}</option>
                    {(versions.data ?? []).map((v) => (
                      <option key={v} value={v}>
                        v{v}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              {missing.length > 0 && (
                <div className="banner warn" role="status">
                  <strong>This store has no events named {missing.map((e) => `“${e}”`).join(", ")}.</strong> The
                  touchpoints that use them show no numbers until such events arrive; edit their match
                  conditions to use events this store has.
                </div>
              )}
              <Query q={bound} what="the numbers (binding the map to the events)">
                {(b) => (
                  <>
                    {missing.length === 0 && (b.missing_events ?? []).length > 0 && (
                      <div className="banner warn" role="status">
                        <strong>This store has no events named {(b.missing_events ?? []).map((e) => `“${e}”`).join(", ")}.</strong> The
                        numbers below are 0 because the events are missing, not because nobody did it: bind this map to a store
                        that has them, or edit its touchpoints.
                      </div>
                    )}
                    <p className="hint">
                      {fmtInt(b.persona_size)} people in the persona
                      {b.others_size != null ? `, ${fmtInt(b.others_size)} others` : ""}
                      {b.goal_reach != null ? ` · ${fmtInt(b.goal_reach)} reached the goal` : ""}
                    </p>
                    <Freshness bound={b} />
                    <p className="hint stage-reach">{b.stage_reach}</p>
                    <BoundMapView bound={b} fromHere={editor ? (tp) => fromHereLink(m.name, tp, m.goal?.event) : undefined} />
                    {(b.pending ?? []).length > 0 && (
                      <p className="hint">Not bound: {(b.pending ?? []).join("; ")}</p>
                    )}
                  </>
                )}
              </Query>
            </>
          );
        }}
      </Query>
    </>
  );
}

/** "Numbers as of 14:32:05 UTC (2 min ago) · newer events arrived; next refresh from ...". */
function Freshness({ bound }: { bound: BoundMap }) {
  const f = freshnessLine(bound, new Date());
  return (
    <p className={`freshness${f.stale ? " stale" : ""}`} role="status" data-testid="map-freshness">
      <strong>Numbers as of {f.asOf}</strong> ({f.age}){f.state ? ` · ${f.state}` : ""}
    </p>
  );
}
