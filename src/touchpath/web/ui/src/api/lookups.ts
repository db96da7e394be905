// Autocomplete sources shared by every builder: event names, property keys, property values.
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";

export function useEventNames() {
  return useQuery({
    queryKey: ["explore", "names"],
    queryFn: () => unwrap(api.GET("/api/explore/names", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
}

export function usePropertyKeys(event: string | null) {
  return useQuery({
    queryKey: ["explore", "properties", event],
    queryFn: () =>
      unwrap(api.GET("/api/explore/properties", { params: { query: { event: event || undefined } } })),
    staleTime: 60_000,
  });
}

export function usePropertyValues(property: string, event: string | null) {
  return useQuery({
    queryKey: ["explore", "values", property, event],
    queryFn: () =>
      unwrap(
        api.GET("/api/explore/values", {
          params: { query: { property, event: event || undefined, limit: 50 } },
        }),
      ),
    enabled: property.length > 0,
    staleTime: 60_000,
  });
}

/** Columns every event has, offered before its property keys. */
export const COLUMNS = ["channel", "type", "source", "event"];
