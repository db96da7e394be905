// Autocomplete sources shared by every builder: event names, property keys, property values.
import { useQuery } from "@tanstack/react-query";
import { createContext, useContext } from "react";
import { api, unwrap } from "./client";

/** Whether the lookups below may load now. A form sets it once the user first focuses one of
 * its fields, so a page's first numbers do not wait behind its autocomplete queries. */
export const LookupsActive = createContext(true);

export function useEventNames() {
  const active = useContext(LookupsActive);
  return useQuery({
    enabled: active,
    queryKey: ["explore", "names"],
    queryFn: () => unwrap(api.GET("/api/explore/names", { params: { query: { limit: 500 } } })),
    staleTime: 60_000,
  });
}

export function usePropertyKeys(event: string | null) {
  const active = useContext(LookupsActive);
  return useQuery({
    enabled: active,
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
    enabled: useContext(LookupsActive) && property.length > 0,
    staleTime: 60_000,
  });
}

/** Columns every event has, offered before its property keys. */
export const COLUMNS = ["channel", "type", "source", "event"];
