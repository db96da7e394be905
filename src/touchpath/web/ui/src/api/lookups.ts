// Autocomplete sources shared by every builder: event names, property keys, property values.
import { useQuery } from "@tanstack/react-query";
import { type ComponentType, createContext, createElement, useContext, useState } from "react";
import { api, unwrap } from "./client";

/** Whether the lookups below may load now. A form sets it once the user first focuses one of
 * its fields, so a page's first numbers do not wait behind its autocomplete queries. */
export const LookupsActive = createContext(true);

/** Event, page and screen names from the event catalogue (docs/catalogue.md), most frequent
 * first, as `{name, count}`. */
/** A page whose autocomplete lookups wait until one of its fields has focus: on a first load
 * the page's own numbers are then the only requests (the catalogue's names and the latest
 * events' property keys are full scans that competed with them on the server). */
export function withLookupsOnFocus<P extends object>(Page: ComponentType<P>): ComponentType<P> {
  return function LookupsOnFocus(props: P) {
    const [active, setActive] = useState(false);
    return createElement(
      "div",
      { className: "contents", onFocus: () => setActive(true) },
      createElement(LookupsActive.Provider, { value: active }, createElement(Page, props)),
    );
  };
}

export function useEventNames() {
  const active = useContext(LookupsActive);
  return useQuery({
    enabled: active,
    queryKey: ["catalogue", "names"],
    queryFn: async () => {
      const { events } = await unwrap(api.GET("/api/catalogue/events"));
      const counts = new Map<string, number>();
      for (const e of events) if (e.event) counts.set(e.event, (counts.get(e.event) ?? 0) + e.count);
      return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
    },
    staleTime: 60_000,
  });
}

/** An event's property keys from the catalogue, with the types their values were seen with as
 * the hint (`examples`); of any event (the latest events' keys) when none is chosen. */
export function usePropertyKeys(event: string | null) {
  const active = useContext(LookupsActive);
  return useQuery({
    enabled: active,
    queryKey: ["catalogue", "keys", event],
    queryFn: async () => {
      if (!event) return unwrap(api.GET("/api/explore/properties", { params: { query: {} } }));
      const found = await unwrap(api.GET("/api/catalogue/properties", { params: { query: { event } } }));
      const keys = new Map<string, { key: string; count: number; examples: string[] }>();
      for (const p of found.properties) {
        const k = keys.get(p.key) ?? { key: p.key, count: 0, examples: [] };
        k.count += p.count;
        k.examples.push(p.value_type);
        keys.set(p.key, k);
      }
      return [...keys.values()].sort((a, b) => b.count - a.count);
    },
    retry: false,
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
