// The living demo: whether the simulated business runs, how fast, how many people are active;
// pause and resume it; and its planted truths, hidden until asked (read the experiment first,
// then check it against the truth). The reveal is in the URL (?truth=1).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { can, useMe } from "../../auth/session";
import { ErrorBox, Query } from "../../components/States";
import { describeReactions, pct, type Truth } from "./truth";

export default function LiveDemoPage() {
  const q = useQuery({
    queryKey: ["demo-live"],
    queryFn: () => unwrap(api.GET("/api/demo/live")),
    refetchInterval: 2000,
  });
  const me = useMe();
  const queries = useQueryClient();
  const toggle = useMutation({
    mutationFn: (pause: boolean) =>
      unwrap(pause ? api.POST("/api/demo/live/pause") : api.POST("/api/demo/live/resume")),
    onSuccess: (s) => queries.setQueryData(["demo-live"], s),
  });
  const [params, setParams] = useSearchParams();
  const reveal = params.get("truth") === "1";
  return (
    <>
      <div className="title-row"><h1>Living demo</h1></div>
      <p className="lead">A simulated business that goes on after its history: people keep arriving through the tracking API and answer the messages your journeys send them, with effects planted in the demo. Find a pain point, act on it, and see whether it worked.</p>
      <Query q={q} what="the living demo">
        {(s) => (
          <section className="panel" aria-label="The business now">
            <h2>The business is <span className={`badge ${s.state}`}>{s.state}</span></h2>
            <dl className="kv">
              <dt>Simulated time</dt><dd>{s.now ? s.now.replace("T", " ").slice(0, 16) + " UTC" : "not started"}</dd>
              <dt>Clock</dt><dd>{s.clock_factor ? `${s.clock_factor}× the wall` : "—"}</dd>
              <dt>New people</dt><dd>{s.rate_per_hour} per simulated hour</dd>
              <dt>People active</dt><dd>{s.people_active.toLocaleString()} of {s.people.toLocaleString()}</dd>
              <dt>Messages answered</dt><dd>{s.messages_answered.toLocaleString()}</dd>
            </dl>
            {can(me.data, "editor") && (
              <button type="button" disabled={toggle.isPending} onClick={() => toggle.mutate(!s.paused)}>
                {s.paused ? "Resume" : "Pause"}
              </button>
            )}
            {toggle.error && <ErrorBox error={toggle.error} />}
          </section>
        )}
      </Query>
      <section className="panel" aria-label="Planted truths">
        <h2>Planted truths</h2>
        {reveal ? (
          <TruthPanel />
        ) : (
          <>
            <p>The sizes of the effects planted in this business are hidden, so you can find them with the analyses first.</p>
            <button type="button" onClick={() => setParams({ truth: "1" })}>Reveal the planted truths</button>
          </>
        )}
      </section>
    </>
  );
}

function TruthPanel() {
  const q = useQuery({
    queryKey: ["demo-live-truth"],
    queryFn: async () => (await unwrap(api.GET("/api/demo/live/truth"))) as unknown as Truth,
  });
  return (
    <Query q={q} what="the planted truths">
      {(t) => (
        <>
          <ul>{describeReactions(t).map((line) => <li key={line}>{line}</li>)}</ul>
          {t.measured.length === 0 ? (
            <p>No messages have reached the business's people yet: publish a journey that sends to them.</p>
          ) : (
          <table>
            <caption>What people did with the messages they got</caption>
            <thead>
              <tr><th scope="col">Channel</th><th scope="col">Messages</th><th scope="col">Planted chance to come back</th><th scope="col">Came back</th><th scope="col">By day</th><th scope="col">At night</th><th scope="col">Bought</th><th scope="col">Unsubscribed</th></tr>
            </thead>
            <tbody>
              {t.measured.map((m) => (
                <tr key={m.channel}>
                  <td>{m.channel}</td><td>{m.messages}</td><td>{pct(m.planted_click)}</td><td>{pct(m.clicked)}</td>
                  <td>{pct(m.clicked_day)}</td><td>{pct(m.clicked_night)}</td><td>{pct(m.bought)}</td><td>{pct(m.unsubscribed)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
        </>
      )}
    </Query>
  );
}
