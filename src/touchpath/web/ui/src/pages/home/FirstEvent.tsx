// What a store with no events shows: how to send the first one, with a real write key.
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, ApiError, unwrap } from "../../api/client";
import { CopyBlock } from "../../components/Copy";
import { Query } from "../../components/States";
import { curlSnippet, nodeSnippet, pythonSnippet } from "./snippets";

const TABS = { curl: curlSnippet, Python: pythonSnippet, "Node.js": nodeSnippet } as const;
type Tab = keyof typeof TABS;

export function FirstEvent({ rejected }: { rejected: number }) {
  const sources = useQuery({ queryKey: ["sources"], queryFn: () => unwrap(api.GET("/api/sources")) });
  const [tab, setTab] = useState<Tab>("curl");
  const origin = window.location.origin;
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
          Write keys are shown to admins: ask one for the key of a source (Admin → Sources &amp; write
          keys), or run <code>touchpath sources list</code>.
        </p>
      ) : (
      <Query q={sources} what="your sources">
        {(list) => {
          const source = list[0];
          if (!source)
            return (
              <p>
                Create a source first, to get a write key: <code>touchpath sources add web</code>{" "}
                or <code>POST /api/sources</code>.
              </p>
            );
          return (
            <>
              <p>
                Write key of source <strong>{source.name}</strong>:
              </p>
              <CopyBlock text={source.write_key} label="Write key" />
              <div className="tabs" role="tablist" aria-label="How to send">
                {(Object.keys(TABS) as Tab[]).map((t) => (
                  <button
                    key={t}
                    type="button"
                    role="tab"
                    aria-selected={tab === t}
                    onClick={() => setTab(t)}
                  >
                    {t}
                  </button>
                ))}
              </div>
              <CopyBlock text={TABS[tab](origin, source.write_key)} label={`${tab} snippet`} />
            </>
          );
        }}
      </Query>
      )}
    </section>
  );
}
