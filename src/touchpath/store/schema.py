"""Migrations written before areas owned theirs (see `touchpath.store.migrations`); they move to
their areas' `migrations/` folders. Never edit an applied one; add new ones as files."""

from __future__ import annotations

from touchpath.store.migrations import Migration

__all__ = ["MIGRATIONS", "Migration"]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "event log, sources, rejected messages",
        """
        CREATE TABLE sources (
            id          VARCHAR PRIMARY KEY,
            name        VARCHAR NOT NULL UNIQUE,
            write_key   VARCHAR NOT NULL UNIQUE,
            created_at  TIMESTAMP NOT NULL
        );
        -- The event log: append-only, one row per accepted message. Times are UTC.
        -- For page and screen calls `event` holds the page or screen name.
        CREATE TABLE events (
            seq                 BIGINT NOT NULL,
            message_id          VARCHAR NOT NULL,
            source              VARCHAR NOT NULL,
            type                VARCHAR NOT NULL,
            event               VARCHAR,
            anonymous_id        VARCHAR,
            user_id             VARCHAR,
            group_id            VARCHAR,
            previous_id         VARCHAR,
            timestamp           TIMESTAMP NOT NULL,
            original_timestamp  TIMESTAMP,
            sent_at             TIMESTAMP,
            received_at         TIMESTAMP NOT NULL,
            channel             VARCHAR NOT NULL,
            context             JSON,
            properties          JSON,
            traits              JSON
        );
        -- Well-formed JSON that is not a valid message is kept here with the reason.
        CREATE TABLE rejected (
            received_at  TIMESTAMP NOT NULL,
            source       VARCHAR,
            message_id   VARCHAR,
            type         VARCHAR,
            reason       VARCHAR NOT NULL,
            payload      VARCHAR NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "identifier map and events resolved to profiles",
        """
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
        """,
    ),
    Migration(
        3,
        "suppressions",
        """
        -- Identifiers whose future messages are accepted (200) and dropped, as Segment and
        -- RudderStack do after a suppression request. kind is user_id or anonymous_id.
        CREATE TABLE suppressions (
            kind        VARCHAR NOT NULL,
            value       VARCHAR NOT NULL,
            created_at  TIMESTAMP NOT NULL,
            reason      VARCHAR,
            PRIMARY KEY (kind, value)
        );
        """,
    ),
    Migration(
        25,
        "sentiment of free text, scored at ingest",
        """
        -- One row per scored text property of an event (touchpath.analytics.sentiment):
        -- VADER's compound score in [-1, 1] and its label (positive, neutral, negative).
        CREATE TABLE sentiment (
            seq       BIGINT NOT NULL,
            property  VARCHAR NOT NULL,
            score     DOUBLE NOT NULL,
            label     VARCHAR NOT NULL
        );
        """,
    ),
    Migration(
        30,
        "journey map documents, versioned",
        """
        -- Every saved version of every journey map document (the YAML as written).
        CREATE TABLE maps (
            name        VARCHAR NOT NULL,
            version     INTEGER NOT NULL,
            yaml        VARCHAR NOT NULL,
            title       VARCHAR,
            type        VARCHAR NOT NULL,
            created_at  TIMESTAMP NOT NULL,
            PRIMARY KEY (name, version)
        );
        """,
    ),
    Migration(
        10,
        "identity graph, profiles, traits, computed traits, audiences",
        """
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
        """,
    ),
)
MIGRATIONS += (
    Migration(
        20,
        "journey events sorted by profile and time (touchpath optimize)",
        """
        -- A copy of the journey events' step-relevant columns in (profile, time, seq) order, so
        -- funnels read them in one streaming pass without a sort (touchpath.analytics.journey).
        -- pno numbers the profiles in that order. Rebuilt on demand; used only while fresh.
        CREATE TABLE journey_events (
            pno         INTEGER NOT NULL,
            ts          TIMESTAMP NOT NULL,
            seq         BIGINT NOT NULL,
            type        VARCHAR NOT NULL,
            event       VARCHAR,
            channel     VARCHAR NOT NULL
        );
        CREATE TABLE journey_profiles (pno INTEGER NOT NULL, profile_id VARCHAR NOT NULL);
        -- What the copy was built from: the event log and identifier map it matches, and how
        -- many events share their profile and time with the one before (ties).
        CREATE TABLE journey_build (
            built_at        TIMESTAMP NOT NULL,
            events          BIGINT NOT NULL,
            max_seq         BIGINT,
            identifiers_fp  VARCHAR NOT NULL,
            ties            BIGINT NOT NULL
        );
        """,
    ),
)
MIGRATIONS += (
    Migration(
        11,
        "static audiences",
        """
        -- 'rule': members follow the condition in spec (refreshes recompute them); 'static': a
        -- saved list (e.g. a funnel's drop-offs) that refreshes leave alone.
        ALTER TABLE audiences ADD COLUMN kind VARCHAR NOT NULL DEFAULT 'rule';
        """,
    ),
)
MIGRATIONS += (
    Migration(
        21,
        "journey copy: small integer codes of the activity names",
        """
        -- The journey copy's activity (event name, or type) as an integer, named by
        -- journey_names, so the DFG compares and groups integers instead of text. Copies built
        -- before this have no codes: they count as stale until the next `touchpath optimize`.
        ALTER TABLE journey_events ADD COLUMN code INTEGER;
        CREATE TABLE journey_names (code INTEGER NOT NULL, name VARCHAR NOT NULL);
        DELETE FROM journey_build;
        """,
    ),
)
