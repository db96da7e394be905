// Formatting shared by every page (pure; Vitest checks it).

/** An ISO time as `2026-10-31 14:05:09` (UTC, as the server stores it). */
export function fmtTime(iso: string): string {
  const m = iso.match(/^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/);
  return m ? `${m[1]} ${m[2]}` : iso;
}

/** A share 0..1 as a percentage with one decimal. */
export function fmtPct(share: number | null | undefined): string {
  return share == null || Number.isNaN(share) ? "–" : `${(share * 100).toFixed(1)}%`;
}

/** Seconds as a short duration: 45 s, 12 min, 3.5 h, 2.1 d. */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds == null) return "–";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 129600) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86400).toFixed(1)} d`;
}
