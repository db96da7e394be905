-- 20: journey events sorted by profile and time (touchpath optimize)
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
