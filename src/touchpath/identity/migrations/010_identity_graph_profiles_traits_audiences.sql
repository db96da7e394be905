-- 10: identity graph, profiles, traits, computed traits, audiences
-- Which message linked each identifier to its profile (for `profiles explain`).
ALTER TABLE identifiers ADD COLUMN linked_seq BIGINT;
ALTER TABLE identifiers ADD COLUMN linked_at TIMESTAMP;
ALTER TABLE identifiers ADD COLUMN linked_by VARCHAR;
CREATE TABLE profiles (
    profile_id   VARCHAR PRIMARY KEY,
    created_seq  BIGINT NOT NULL,    -- the message that created it; the older one is kept
    created_at   TIMESTAMP NOT NULL
);
-- Every merge, with the message that caused it and the identifiers it carried.
CREATE TABLE merges (
    seq                BIGINT NOT NULL,
    message_id         VARCHAR,
    merged_at          TIMESTAMP NOT NULL,
    kept_profile_id    VARCHAR NOT NULL,
    merged_profile_id  VARCHAR NOT NULL,
    identifiers        JSON NOT NULL
);
-- Identifiers left out of a message because a merge would have broken a limit.
CREATE TABLE identity_drops (
    seq         BIGINT NOT NULL,
    message_id  VARCHAR,
    dropped_at  TIMESTAMP NOT NULL,
    kind        VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL
);
CREATE TABLE identity_state (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
-- Traits per profile, the latest value of each by event time.
CREATE TABLE profile_traits (
    profile_id  VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    value       JSON,
    updated_at  TIMESTAMP NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (profile_id, name)
);
CREATE TABLE computed_traits (
    name        VARCHAR PRIMARY KEY,
    spec        JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE computed_trait_values (
    name         VARCHAR NOT NULL,
    profile_id   VARCHAR NOT NULL,
    value        JSON,
    computed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (name, profile_id)
);
CREATE TABLE audiences (
    name        VARCHAR PRIMARY KEY,
    spec        JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE TABLE audience_members (
    audience    VARCHAR NOT NULL,
    profile_id  VARCHAR NOT NULL,
    entered_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (audience, profile_id)
);
-- Same columns as before. The user id decides when it is a known identifier; a blocked
-- one (e.g. 'null') has no row, so the event falls back to its anonymous id.
CREATE OR REPLACE VIEW resolved_events AS
SELECT e.*,
    coalesce(iu.profile_id, ia.profile_id,
             CASE WHEN e.user_id IS NOT NULL THEN 'u:' || e.user_id
                  ELSE 'a:' || e.anonymous_id END) AS profile_id
FROM events e
LEFT JOIN identifiers iu ON iu.kind = 'user_id' AND iu.value = e.user_id
LEFT JOIN identifiers ia ON ia.kind = 'anonymous_id' AND ia.value = e.anonymous_id;
