import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { ApiError } from "./api/client";
import { prefetchAudience } from "./pages/audiences/queries";
import { prefetchPage } from "./pages/insights/queries";
import { prefetchPerson } from "./pages/people/queries";
import { router } from "./routes";
import "./styles.css";

const queries: QueryClient = new QueryClient({
  // A 401 from any request means the session ended: ask who is signed in (the sign-in shows).
  queryCache: new QueryCache({
    onError: (e, q) => {
      if (e instanceof ApiError && e.status === 401 && q.queryKey[0] !== "me") {
        void queries.invalidateQueries({ queryKey: ["me"] });
      }
    },
  }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      // A 4xx is an answer (not found, a bad filter): show it; retry only what may pass.
      retry: (n, e) => n < 1 && !(e instanceof ApiError && e.status < 500),
      refetchOnWindowFocus: false,
    },
  },
});

// An analysis page, a person's page or the new-audience page opened by its address asks for
// its numbers now, while its code loads.
const { pathname, search } = window.location;
prefetchPage(queries, pathname, new URLSearchParams(search));
prefetchPerson(queries, pathname);
prefetchAudience(queries, pathname, new URLSearchParams(search));

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
