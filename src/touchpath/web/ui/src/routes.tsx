// Every page and its URL. Pages load on demand, so the first one shows quickly.
import { type ComponentType, lazy } from "react";
import { withLookupsOnFocus } from "./api/lookups";
import { createBrowserRouter } from "react-router";
import { NotFound } from "./pages/NotFound";
import { Shell } from "./shell/Shell";

/** The analysis pages load their autocomplete only once a field has focus (api/lookups). */
const lookupsOnFocus = (m: { default: ComponentType }) => ({ default: withLookupsOnFocus(m.default) });

const HomePage = lazy(() => import("./pages/home/HomePage"));
const EventsPage = lazy(() => import("./pages/events/EventsPage"));
const PeoplePage = lazy(() => import("./pages/people/PeoplePage"));
const PersonPage = lazy(() => import("./pages/people/PersonPage"));
const AudiencesPage = lazy(() => import("./pages/audiences/AudiencesPage"));
const AudiencePage = lazy(() => import("./pages/audiences/AudiencePage"));
const AudienceEditPage = lazy(() => import("./pages/audiences/AudienceEditPage"));
const TraitsPage = lazy(() => import("./pages/traits/TraitsPage"));
const UsersPage = lazy(() => import("./pages/admin/UsersPage"));
const TokensPage = lazy(() => import("./pages/admin/TokensPage"));
const SourcesPage = lazy(() => import("./pages/admin/SourcesPage"));
const FunnelPage = lazy(() => import("./pages/insights/FunnelPage").then(lookupsOnFocus));
const PathsPage = lazy(() => import("./pages/insights/PathsPage").then(lookupsOnFocus));
const RetentionPage = lazy(() => import("./pages/insights/RetentionPage").then(lookupsOnFocus));
const DiscoveryPage = lazy(() => import("./pages/insights/DiscoveryPage").then(lookupsOnFocus));
const AttributionPage = lazy(() => import("./pages/insights/AttributionPage").then(lookupsOnFocus));
const FeedbackPage = lazy(() => import("./pages/insights/FeedbackPage").then(lookupsOnFocus));
const InsightsIndex = lazy(() => import("./pages/dashboards/InsightsIndex"));
const SavedInsightPage = lazy(() => import("./pages/dashboards/SavedInsightPage"));
const DashboardsIndex = lazy(() => import("./pages/dashboards/DashboardsIndex"));
const DashboardPage = lazy(() => import("./pages/dashboards/DashboardPage"));
const CataloguePage = lazy(() => import("./pages/catalogue/CataloguePage"));
const PlansPage = lazy(() => import("./pages/plans/PlansPage"));
const ViolationsPage = lazy(() => import("./pages/plans/ViolationsPage"));
const MapsIndex = lazy(() => import("./pages/maps/MapsIndex"));
const MapViewer = lazy(() => import("./pages/maps/MapViewer"));
const MapEditor = lazy(() => import("./pages/maps/MapEditor"));
const MapCompare = lazy(() => import("./pages/maps/MapCompare"));
const JourneysIndex = lazy(() => import("./pages/journeys/JourneysIndex"));
const JourneyPage = lazy(() => import("./pages/journeys/JourneyPage"));
const DestinationsPage = lazy(() => import("./pages/destinations/DestinationsPage"));
const MessagesPage = lazy(() => import("./pages/destinations/MessagesPage"));
const DeadLettersPage = lazy(() => import("./pages/destinations/MessagesPage").then((m) => ({ default: m.DeadLettersPage })));
const TemplatesPage = lazy(() => import("./pages/destinations/TemplatesPage"));
const GroupsPage = lazy(() => import("./pages/destinations/GroupsPage"));
const ForwardingPage = lazy(() => import("./pages/destinations/ForwardingPage"));
const PolicyPage = lazy(() => import("./pages/destinations/PolicyPage"));
const ExperimentsPage = lazy(() => import("./pages/experiments/ExperimentsPage"));
const DecisionsPage = lazy(() => import("./pages/decisions/DecisionsPage"));
const DecisionPage = lazy(() => import("./pages/decisions/DecisionPage"));
const ExperimentPage = lazy(() => import("./pages/experiments/ExperimentPage"));
const LiveDemoPage = lazy(() => import("./pages/demo/LiveDemoPage"));

export const router = createBrowserRouter([
  {
    path: "/",
    element: <Shell />,
    children: [
      { index: true, element: <HomePage /> },
      { path: "events", element: <EventsPage /> },
      { path: "insights/funnel", element: <FunnelPage /> },
      { path: "insights/paths", element: <PathsPage /> },
      { path: "insights/retention", element: <RetentionPage /> },
      { path: "insights/discovery", element: <DiscoveryPage /> },
      { path: "insights/attribution", element: <AttributionPage /> },
      { path: "insights/feedback", element: <FeedbackPage /> },
      { path: "insights", element: <InsightsIndex /> },
      { path: "insights/saved/:name", element: <SavedInsightPage /> },
      { path: "dashboards", element: <DashboardsIndex /> },
      { path: "dashboards/:name", element: <DashboardPage /> },
      { path: "catalogue", element: <CataloguePage /> },
      { path: "plans", element: <PlansPage /> },
      { path: "violations", element: <ViolationsPage /> },
      { path: "people", element: <PeoplePage /> },
      { path: "people/:ref", element: <PersonPage /> },
      { path: "audiences", element: <AudiencesPage /> },
      { path: "audiences/new", element: <AudienceEditPage /> },
      { path: "audiences/:name", element: <AudiencePage /> },
      { path: "audiences/:name/edit", element: <AudienceEditPage key="edit" /> },
      { path: "traits", element: <TraitsPage /> },
      { path: "maps", element: <MapsIndex /> },
      { path: "maps/compare", element: <MapCompare /> },
      { path: "maps/:name", element: <MapViewer /> },
      { path: "maps/:name/edit", element: <MapEditor /> },
      { path: "journeys", element: <JourneysIndex /> },
      { path: "demo", element: <LiveDemoPage /> },
      { path: "journeys/:name", element: <JourneyPage /> },
      { path: "destinations", element: <DestinationsPage /> },
      { path: "destinations/messages", element: <MessagesPage /> },
      { path: "destinations/dead-letters", element: <DeadLettersPage /> },
      { path: "destinations/templates", element: <TemplatesPage /> },
      { path: "destinations/groups", element: <GroupsPage /> },
      { path: "destinations/forwarding", element: <ForwardingPage /> },
      { path: "destinations/policy", element: <PolicyPage /> },
      { path: "decisions", element: <DecisionsPage /> },
      { path: "decisions/:name", element: <DecisionPage /> },
      { path: "experiments", element: <ExperimentsPage /> },
      { path: "experiments/:name", element: <ExperimentPage /> },
      { path: "admin/users", element: <UsersPage /> },
      { path: "admin/tokens", element: <TokensPage /> },
      { path: "admin/sources", element: <SourcesPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
