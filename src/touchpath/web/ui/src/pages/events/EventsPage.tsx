// Events: filter by event, channel, dates and property conditions; break down by a property;
// the trend; the raw events with a JSON drawer; the rejected messages. All state is in the URL.
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import { useSearchParams } from "react-router";
import { api, unwrap } from "../../api/client";
import { EChart } from "../../charts/EChart";
import { fmtInt, trendOption } from "../../charts/options";
import { Empty, Query } from "../../components/States";
import { EventsTable } from "./EventsTable";
import { FilterBar } from "./FilterBar";
import { type EventFilters, readFilters, toRequest, writeFilters } from "./filters";
import { RejectedTable } from "./RejectedTable";

export default function EventsPage() {
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => readFilters(params), [params]);
  const tab = params.get("tab") === "rejected" ? "rejected" : "events";
  const apply = (f: EventFilters) => {
    const next = writeFilters(f, params);
    next.delete("seq");
    setParams(next);
  };
  const setTab = (t: string) => {
    const next = new URLSearchParams(params);
    if (t === "events") next.delete("tab");
    else next.set("tab", t);
    setParams(next);
  };
  const summary = useQuery({
    queryKey: ["explore", "summary"],
    queryFn: () => unwrap(api.GET("/api/explore/summary")),
  });
  const channels = useQuery({
    queryKey: ["explore", "values", "channel", null],
    queryFn: () => unwrap(api.GET("/api/explore/values", { params: { query: { property: "channel" } } })),
    staleTime: 60_000,
  });
  return (
    <>
      <h1>Events</h1>
      <div className="tabs" role="tablist" aria-label="Events or rejected messages">
        <button type="button" role="tab" aria-selected={tab === "events"} onClick={() => setTab("events")}>
          Events
        </button>
        <button type="button" role="tab" aria-selected={tab === "rejected"} onClick={() => setTab("rejected")}>
          Rejected messages{summary.data ? ` (${fmtInt(summary.data.rejected)})` : ""}
        </button>
      </div>
      {tab === "rejected" ? (
        <RejectedTable />
      ) : (
        <>
          <FilterBar value={filters} channels={(channels.data ?? []).map((c) => c.name)} onApply={apply} />
          <Trend filters={filters} />
          <RawEvents filters={filters} />
        </>
      )}
    </>
  );
}

function Trend({ filters }: { filters: EventFilters }) {
  const body = { ...toRequest(filters), interval: filters.interval, breakdown: filters.breakdown || null };
  const trend = useQuery({
    queryKey: ["explore", "trend", body],
    queryFn: () => unwrap(api.POST("/api/explore/trend", { body })),
    placeholderData: (prev) => prev,
  });
  return (
    <Query q={trend} what="the trend">
      {(t) =>
        t.events === 0 ? (
          <Empty title="No events match these filters">
            <span>Widen the dates, or remove a condition.</span>
          </Empty>
        ) : (
          <section className="panel" aria-label="Trend">
            <div className="figures">
              <div>
                <span className="card-value">{fmtInt(t.events)}</span> events
              </div>
              <div>
                <span className="card-value">{fmtInt(t.people)}</span> people
              </div>
            </div>
            <EChart
              label={`Events per ${t.interval}${filters.breakdown ? ` by ${filters.breakdown}` : ""}`}
              option={trendOption(
                t.series.map((s) => ({ name: s.name, points: s.points.map((p) => ({ t: p.t, value: p.value })) })),
              )}
            />
            {filters.breakdown && (
              <table className="rows" aria-label={`Events by ${filters.breakdown}`}>
                <thead>
                  <tr>
                    <th scope="col">{filters.breakdown}</th>
                    <th scope="col" className="num">
                      Events
                    </th>
                    <th scope="col" className="num">
                      Share
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {t.series.map((s) => (
                    <tr key={s.name}>
                      <td>{s.name}</td>
                      <td className="num">{fmtInt(s.total)}</td>
                      <td className="num">{((100 * s.total) / t.events).toFixed(1)}%</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        )
      }
    </Query>
  );
}

function RawEvents({ filters }: { filters: EventFilters }) {
  const base = toRequest(filters);
  const pages = useInfiniteQuery({
    queryKey: ["explore", "events", base],
    queryFn: ({ pageParam }) =>
      unwrap(api.POST("/api/explore/events", { body: { ...base, limit: 50, before_seq: pageParam } })),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before_seq ?? undefined,
  });
  return (
    <section className="panel" aria-label="Raw events">
      <h2>
        Raw events <span className="hint">newest first; click a row for its JSON</span>
      </h2>
      <Query q={pages} what="the events">
        {(data) => (
          <EventsTable
            events={data.pages.flatMap((p) => p.events)}
            more={pages.hasNextPage ? () => void pages.fetchNextPage() : undefined}
            loadingMore={pages.isFetchingNextPage}
          />
        )}
      </Query>
    </section>
  );
}
