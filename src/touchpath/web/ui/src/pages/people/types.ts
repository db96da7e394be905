// Shapes of /api/profiles/{ref}, /explain and /timeline (these routes answer plain JSON
// objects; the fields below are the ones this page reads, see touchpath.profiles.lookup).

export interface Profile {
  profile_id: string;
  created_at: string | null;
  identifiers: { kind: string; value: string; first_seen: string | null; last_seen: string | null }[];
  traits: Record<string, unknown>;
  computed_traits: Record<string, unknown>;
  audiences: { audience: string; entered_at: string }[];
}

export interface Explanation {
  profile_id: string;
  links: { kind: string; value: string; linked_seq: number | null; message_id: string | null; linked_at: string | null }[];
  merges: {
    seq: number;
    message_id: string | null;
    merged_at: string;
    kept_profile_id: string;
    merged_profile_id: string;
    identifiers: unknown;
  }[];
  drops: { seq: number; message_id: string | null; kind: string; value: string; reason: string }[];
}

export interface TimelineEvent {
  seq: number;
  timestamp: string;
  type: string;
  event: string | null;
  channel: string | null;
  source: string;
  user_id: string | null;
  anonymous_id: string | null;
  message_id: string;
  properties: Record<string, unknown> | null;
  /** Identifiers (not the user id) that joined this event to the person, e.g. the loyalty card of a shop purchase. */
  linked_by?: { kind: string; value: string }[];
}

export interface Timeline {
  profile_id: string;
  total: number;
  events: TimelineEvent[];
}
