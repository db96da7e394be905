// The tabs of the messaging area: destinations, delivery log, dead letters, templates, groups,
// event forwarding and the sending policy.
import { NavLink } from "react-router";
import "../journeys/journeys.css";

const TABS = [
  ["/destinations", "Destinations"],
  ["/destinations/messages", "Delivery log"],
  ["/destinations/dead-letters", "Dead letters"],
  ["/destinations/templates", "Templates"],
  ["/destinations/groups", "Subscription groups"],
  ["/destinations/forwarding", "Event forwarding"],
  ["/destinations/policy", "Sending policy"],
];

export function MessagingTabs() {
  return (
    <nav className="tabs page-tabs" aria-label="Messaging">
      {TABS.map(([to, label]) => (
        <NavLink key={to} to={to!} end className="button">
          {label}
        </NavLink>
      ))}
    </nav>
  );
}

export const STATE_TEXT: Record<string, string> = {
  pending: "waiting to send",
  sending: "sending",
  delivered: "delivered",
  sent: "sent",
  refused: "refused by policy",
  dead: "failed (dead letter)",
};

export function StateBadge({ state }: { state: string }) {
  const tone = state === "delivered" || state === "sent" ? "status-live" : state === "dead" ? "status-dead" : state === "refused" ? "status-archived" : "status-paused";
  return <span className={`badge ${tone}`}>{STATE_TEXT[state] ?? state}</span>;
}
