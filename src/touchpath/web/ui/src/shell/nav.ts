// The navigation, by section. Areas that land later (journeys, destinations, experiments) add
// their entries here.
export interface NavItem {
  to: string;
  label: string;
  /** Active only on this exact address (not on the addresses under it). */
  end?: boolean;
}
export interface NavSection {
  title: string;
  items: NavItem[];
}

export const NAV: NavSection[] = [
  { title: "", items: [{ to: "/", label: "Home" }] },
  {
    title: "Data",
    items: [
      { to: "/events", label: "Events" },
      { to: "/catalogue", label: "Catalogue" },
      { to: "/plans", label: "Tracking plans" },
      { to: "/violations", label: "Violations" },
      { to: "/insights/funnel", label: "Funnels" },
      { to: "/insights/paths", label: "Paths" },
      { to: "/insights/retention", label: "Retention" },
      { to: "/insights/discovery", label: "Process discovery" },
      { to: "/insights/attribution", label: "Attribution" },
      { to: "/insights/feedback", label: "Feedback" },
      { to: "/insights", label: "Saved insights", end: true },
      { to: "/dashboards", label: "Dashboards" },
    ],
  },
  {
    title: "Customers",
    items: [
      { to: "/people", label: "People" },
      { to: "/audiences", label: "Audiences" },
      { to: "/traits", label: "Computed traits" },
    ],
  },
  { title: "Journeys", items: [{ to: "/maps", label: "Journey maps" }] },
  {
    title: "Act",
    items: [
      { to: "/journeys", label: "Journeys" },
      { to: "/decisions", label: "Decisions" },
      { to: "/destinations", label: "Destinations" },
      { to: "/experiments", label: "Experiments" },
    ],
  },
  { title: "Demo", items: [{ to: "/demo", label: "Living demo" }] },
];

/** Shown to admins and owners. */
export const ADMIN_NAV: NavSection = {
  title: "Admin",
  items: [
    { to: "/admin/users", label: "Users" },
    { to: "/admin/tokens", label: "API tokens" },
    { to: "/admin/sources", label: "Sources & write keys" },
  ],
};
