// What a store with no events shows: how to send the first one, with a real write key. Keys are
// shown whole only when made, so an admin gets a new one here (the old keeps working a day).
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, type Schemas, unwrap } from "../../api/client";
import { CopyBlock } from "../../components/Copy";
import { ErrorBox, Query } from "../../components/States";
import { curlSnippet, nodeSnippet, pythonSnippet } from "./snippets";

const TABS = { curl: curlSnippet, Python: pythonSnippet, "Node.js": nodeSnippet } as const;
type Tab = keyof typeof TABS;

export function FirstEvent({ rejected }: { rejected: number }) {
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => unwrap(api.GET("/api/sources")) });
  return (
    <section className="panel first-event" aria-labelledby="first-event-title">
      <h2 id="first-event-title">Send your first event</h2>
      <p>
        This store has no events yet. Any Segment SDK can send to Touchpath by changing only its
        host; events appear here within a second.
      </p>
      {rejected > 0 && (
        <p className="warn">
          {rejected} message{rejected === 1 ? " was" : "s were"} received but rejected; see the
          reason under Events → Rejected.
        </p>
      )}
      {sources.error instanceof ApiError && sources.error.status === 403 ? (
        <p>
          Write keys are managed by admins: ask one for a key of a source (Admin → Sources &amp;
          write keys makes a new one), or run <code>touchpath sources rotate NAME</code>.
        </p>
      ) : (
      <Query q={sources} what="your sources">
        {(list) => <KeyAndSnippets source={list[0]} />}
      </Query>
      )}
    </section>
  );
}

const PLACEHOLDER = "YOUR_WRITE_KEY";

function KeyAndSnippets({ source }: { source: Schemas["SourceOut"] | undefined }) {
  const [tab, setTab] = useState<Tab>("curl");
  const origin = window.location.origin;
  const rotate = useMutation({
    mutationFn: (name: string) =>
      unwrap(api.POST("/api/sources/{name}/rotate", { params: { path: { name } }, body: { grace_hours: 24 } })),
  });
  if (!source)
    return (
      <p>
        Create a source first, to get a write key: <code>touchpath sources add web</code> or{" "}
        <code>POST /api/sources</code>.
      </p>
    );
  const key = rotate.data?.write_key ?? source.write_key ?? null;
  return (
    <>
      {key ? (
        <>
          <p>
            New write key of source <strong>{source.name}</strong> (copy it now: it is shown this
            once):
          </p>
          <CopyBlock text={key} label="Write key" />
        </>
      ) : (
        <p>
          Source <strong>{source.name}</strong> has the write key{" "}
          <code>{source.key_prefix ?? "(none live)"}…</code>, shown whole only when it was made.{" "}
          <button type="button" onClick={() => rotate.mutate(source.name)} disabled={rotate.isPending}>
            Make a new write key
          </button>{" "}
          (the current one keeps working for 24 hours).
        </p>
      )}
      {rotate.error && <ErrorBox error={rotate.error} />}
      <div className="tabs" role="tablist" aria-label="How to send">
        {(Object.keys(TABS) as Tab[]).map((t) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
            {t}
          </button>
        ))}
      </div>
      <CopyBlock text={TABS[tab](origin, key ?? PLACEHOLDER)} label={`${tab} snippet`} />
    </>
  );
}
