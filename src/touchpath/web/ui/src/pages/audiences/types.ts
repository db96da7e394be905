// Shape of GET /api/audiences (plain JSON: a rule audience's spec, or a static one's origin).
import type { Cond } from "./conditions";

export interface AudienceRow {
  name: string;
  kind: "rule" | "static";
  size: number;
  condition?: Cond;
  origin?: Record<string, unknown>;
}

export interface Members {
  audience: string;
  size: number;
  members: { profile_id: string; user_id: string | null; email: string | null; entered_at: string }[];
}
