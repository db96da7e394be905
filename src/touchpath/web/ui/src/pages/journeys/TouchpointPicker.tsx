// Choosing a map touchpoint (a journey's entry or goal): a map from the saved maps and the
// shipped examples, then one of its touchpoints from a list grouped by stage; under them, what
// is chosen in full: the touchpoint, its stage, the map and the event it stands for.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { byStage, type MapDocLike, type TouchpointRef, touchpointChoices } from "./touchpoints";

export function TouchpointPicker({ what, value, onChange }: { what: string; value: TouchpointRef; onChange: (v: TouchpointRef) => void }) {
  const maps = useQuery({ queryKey: ["maps"], queryFn: () => unwrap(api.GET("/api/maps")) });
  const doc = useQuery({
    queryKey: ["maps", value.map, "doc", undefined],
    queryFn: () => unwrap(api.GET("/api/maps/{name}", { params: { path: { name: value.map }, query: {} } })),
    enabled: value.map !== "",
    retry: false,
  });
  const map = doc.data?.document as MapDocLike | undefined;
  const choices = map ? touchpointChoices(map) : [];
  const chosen = choices.find((c) => c.touchpoint === value.touchpoint);
  const listed = (maps.data ?? []).some((m) => m.name === value.map);
  return (
    <div className="tp-picker" role="group" aria-label={`${what}: map touchpoint`}>
      <label>
        Map
        <select value={value.map} onChange={(e) => onChange({ map: e.target.value, touchpoint: "" })}>
          <option value="">choose a map…</option>
          {value.map && !listed && <option value={value.map}>{value.map}</option>}
          {(maps.data ?? []).map((m) => (
            <option key={m.name} value={m.name}>
              {m.title ? `${m.title} (${m.name})` : m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Touchpoint
        <select value={value.touchpoint} disabled={!map} onChange={(e) => onChange({ ...value, touchpoint: e.target.value })}>
          <option value="">{map ? "choose a touchpoint…" : value.map ? "loading the map…" : "choose a map first"}</option>
          {value.touchpoint && map && !chosen && <option value={value.touchpoint}>{value.touchpoint} (not on this map)</option>}
          {byStage(choices).map((g) => (
            <optgroup key={g.stage} label={`Stage: ${g.title}`}>
              {g.touchpoints.map((c) => (
                <option key={c.touchpoint} value={c.touchpoint}>
                  {c.stageTitle} › {c.touchpoint}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      </label>
      {doc.error && <p className="field-error">Map “{value.map}” could not be read: {doc.error.message}</p>}
      {chosen && map ? (
        <div className="tp-chosen" aria-label={`${what}: chosen touchpoint`}>
          <strong>{chosen.touchpoint}</strong>
          <span>
            stage <strong>{chosen.stageTitle}</strong> of map{" "}
            <Link to={`/maps/${encodeURIComponent(map.name)}`}>{map.title ?? map.name}</Link>
          </span>
          <span className="hint">when someone does {chosen.event}</span>
        </div>
      ) : (
        value.touchpoint && map && <p className="field-error">Map “{map.title ?? map.name}” has no touchpoint “{value.touchpoint}”: choose one from the list.</p>
      )}
    </div>
  );
}
