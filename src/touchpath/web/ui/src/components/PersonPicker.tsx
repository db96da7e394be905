// Choose one person by part of any identifier (user id, email, anonymous id, device): used by
// dry runs, test sends and previews, which all need "a real person".
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, unwrap } from "../api/client";

export interface Picked {
  profile_id: string;
  label: string;
}

export function PersonPicker({ value, onChange, label = "Person" }: { value: Picked | null; onChange: (p: Picked | null) => void; label?: string }) {
  const [q, setQ] = useState("");
  const hits = useQuery({
    queryKey: ["explore", "people", q],
    queryFn: () => unwrap(api.GET("/api/explore/people", { params: { query: { q, limit: 8 } } })),
    enabled: value === null && q.trim().length > 0,
    staleTime: 30_000,
  });
  if (value)
    return (
      <div className="picked">
        <span>
          {label}: <strong>{value.label}</strong>
        </span>
        <button type="button" onClick={() => onChange(null)}>
          Change
        </button>
      </div>
    );
  return (
    <div className="person-picker">
      <label>
        {label}
        <input placeholder="user id, email, anonymous id…" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      <ul aria-label="People found">
        {(hits.data ?? []).map((h) => {
          const first = (q && h.identifiers.find((i) => i.value.toLowerCase().includes(q.toLowerCase()))) || h.identifiers[0];
          const text = first ? `${first.value}` : h.profile_id;
          return (
            <li key={h.profile_id}>
              <button type="button" className="link" onClick={() => onChange({ profile_id: h.profile_id, label: text })}>
                {text}
              </button>
              <span className="hint">{first?.kind}</span>
            </li>
          );
        })}
        {hits.data?.length === 0 && <li className="hint">nobody matches</li>}
      </ul>
    </div>
  );
}
