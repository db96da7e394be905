// The raw events, and a drawer with the JSON of the one chosen (its seq in the URL).
import { useSearchParams } from "react-router";
import { Link } from "react-router";
import type { Schemas } from "../../api/client";
import { ChannelBadge } from "../../components/ChannelBadge";
import { Drawer } from "../../components/Drawer";
import { fmtTime } from "../../format";

type Row = Schemas["EventRow"];

export function EventsTable(props: { events: Row[]; more?: () => void; loadingMore: boolean }) {
  const [params, setParams] = useSearchParams();
  const seq = Number(params.get("seq") ?? NaN);
  const open = props.events.find((e) => e.seq === seq);
  const choose = (s: number | null) => {
    const next = new URLSearchParams(params);
    if (s === null) next.delete("seq");
    else next.set("seq", String(s));
    setParams(next, { replace: true });
  };
  if (props.events.length === 0) return <p>No events match.</p>;
  return (
    <>
      <table className="rows" aria-label="Events">
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Event</th>
            <th scope="col">Channel</th>
            <th scope="col">Person</th>
            <th scope="col">Properties</th>
          </tr>
        </thead>
        <tbody>
          {props.events.map((e) => (
            <tr
              key={e.seq}
              className="clickable"
              tabIndex={0}
              aria-label={`${e.event ?? e.type} at ${fmtTime(e.timestamp)}`}
              onClick={() => choose(e.seq)}
              onKeyDown={(k) => (k.key === "Enter" ? choose(e.seq) : undefined)}
            >
              <td>{fmtTime(e.timestamp)}</td>
              <td>{e.event ?? `(${e.type})`}</td>
              <td>
                <ChannelBadge channel={e.channel} />
              </td>
              <td className="person">{e.user_id ?? e.anonymous_id}</td>
              <td className="props">{previewProps(e.properties)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {props.more && (
        <button type="button" onClick={props.more} disabled={props.loadingMore}>
          {props.loadingMore ? "Loading…" : "Load older events"}
        </button>
      )}
      {open && (
        <Drawer title={`${open.event ?? open.type} · ${fmtTime(open.timestamp)}`} onClose={() => choose(null)}>
          <p>
            Person:{" "}
            <Link to={`/people/${encodeURIComponent(open.user_id ?? open.anonymous_id ?? "")}`}>
              {open.user_id ?? open.anonymous_id}
            </Link>
          </p>
          <pre className="json" aria-label="Event JSON" tabIndex={0}>
            {JSON.stringify(open, null, 2)}
          </pre>
        </Drawer>
      )}
    </>
  );
}

export function previewProps(p: Record<string, unknown>): string {
  return Object.entries(p)
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`)
    .join(" · ");
}
