// Every page and its URL. Pages load on demand, so the first one shows quickly.
import { lazy } from "react";
import { createBrowserRouter } from "react-router";
import { NotFound } from "./pages/NotFound";
import { Shell } from "./shell/Shell";

const HomePage = lazy(() => import("./pages/home/HomePage"));
const EventsPage = lazy(() => import("./pages/events/EventsPage"));
const PeoplePage = lazy(() => import("./pages/people/PeoplePage"));
const PersonPage = lazy(() => import("./pages/people/PersonPage"));
const MapsIndex = lazy(() => import("./pages/maps/MapsIndex"));

export const router = createBrowserRouter([
  {
    path: "/",
    element: <Shell />,
    children: [
      { index: true, element: <HomePage /> },
      { path: "events", element: <EventsPage /> },
      { path: "people", element: <PeoplePage /> },
      { path: "people/:ref", element: <PersonPage /> },
      { path: "maps", element: <MapsIndex /> },
      { path: "*", element: <NotFound /> },
    ],
  },
]);
