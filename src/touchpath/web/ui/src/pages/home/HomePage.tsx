// Home: the day at a glance (counts, channels, top events, the live stream) and the way in to
// every other page.
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../api/client";
import { EChart } from "../../charts/EChart";
import { barsOption, fmtInt, hoursOption } from "../../charts/options";
import { Query } from "../../components/States";
import { FirstEvent } from "./FirstEvent";
import { LiveStream } from "./LiveStream";

export default function HomePage() {
  const summary = useQuery({
    queryKey: ["explore", "summary"],
    queryFn: () => unwrap(api.GET("/api/explore/summary")),
    refetchInterval: 5_000,
  });
  return (
    <>
      <h1>Home</h1>
      <Query q={summary} what="today's numbers">
        {(s) => {
          if (s.events === 0) return <FirstEvent rejected={s.rejected} />;
          const dayName = s.day_is_today ? "today" : "that day";
          const eventsLink = `/events?start=${s.day}&end=${s.day}`;
          return (
            <>
              <p className="lead">
                {s.day_is_today
                  ? `Today, ${s.day} (UTC), and all time.`
                  : `Nobody has done anything yet today: showing ${s.day}, the latest day people did something (UTC), and all time.`}{" "}
                <span className="hint">The day counts people&apos;s own touchpoints, not the events Touchpath writes about them (audience changes, journey steps, sends).</span>
              </p>
              <section className="cards" aria-label="Totals">
                <Card label={`Events ${dayName}`} value={fmtInt(s.day_events)} to={eventsLink} />
                <Card label={`People ${dayName}`} value={fmtInt(s.day_people)} to="/people" />
                <Card label="Events, all time" value={fmtInt(s.events)} to="/events" />
                <Card label="Rejected messages" value={fmtInt(s.rejected)} to="/events?tab=rejected" />
              </section>
              <section className="panel">
                <h2>Events per hour (UTC)</h2>
                <EChart
                  label="Events per hour"
                  height={180}
                  option={hoursOption(s.day_by_hour)}
                />
              </section>
              <div className="grid2">
                <section className="panel">
                  <h2>By channel</h2>
                  <EChart
                    label="Events by channel"
                    option={barsOption(
                      s.day_by_channel.map((c) => ({ label: c.name, value: c.count })),
                      { colourByChannel: true },
                    )}
                  />
                </section>
                <section className="panel">
                  <h2>Top events</h2>
                  <EChart
                    label="Top events"
                    option={barsOption(s.day_by_event.map((c) => ({ label: c.name, value: c.count })))}
                  />
                </section>
              </div>
              <Explore />
              <LiveStream />
            </>
          );
        }}
      </Query>
    </>
  );
}

const LINKS = [
  { to: "/events", title: "Events", text: "Filter, break down and read raw events." },
  { to: "/people", title: "People", text: "Find a person by any identifier; see their journey." },
  { to: "/audiences", title: "Audiences", text: "Build segments from behaviour and traits." },
  { to: "/maps", title: "Journey maps", text: "Stages and touchpoints bound to live numbers." },
];

function Explore() {
  return (
    <section aria-label="Go to" className="links">
      {LINKS.map((l) => (
        <Link key={l.to} to={l.to} className="link-card">
          <strong>{l.title}</strong>
          <span>{l.text}</span>
        </Link>
      ))}
    </section>
  );
}

function Card({ label, value, to }: { label: string; value: string; to: string }) {
  return (
    <Link className="card" to={to}>
      <span className="card-label">{label}</span>
      <span className="card-value">{value}</span>
    </Link>
  );
}
