-- 1: event log, sources, rejected messages
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
