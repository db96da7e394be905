-- 2: identifier map and events resolved to profiles
-- Every identifier seen, mapped to the profile it resolves to (filled by touchpath.identity).
CREATE TABLE identifiers (
    kind        VARCHAR NOT NULL,   -- user_id, email, anonymous_id, device_id, ...
    value       VARCHAR NOT NULL,
    profile_id  VARCHAR NOT NULL,
    first_seen  TIMESTAMP,
    last_seen   TIMESTAMP,
    PRIMARY KEY (kind, value)
);
-- The event log with each event's profile, resolved at query time, so an anonymous
-- history joins the profile as soon as the visitor is identified. Until identity has
-- seen an event, its profile is 'u:<userId>' or 'a:<anonymousId>'.
CREATE VIEW resolved_events AS
SELECT e.*,
    coalesce(i.profile_id,
             CASE WHEN e.user_id IS NOT NULL THEN 'u:' || e.user_id
                  ELSE 'a:' || e.anonymous_id END) AS profile_id
FROM events e
LEFT JOIN identifiers i
    ON i.kind = CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END
   AND i.value = coalesce(e.user_id, e.anonymous_id);
