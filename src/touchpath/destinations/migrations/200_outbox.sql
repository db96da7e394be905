-- The outbox (touchpath.destinations.outbox): every outgoing message, one row, written in the
-- same transaction as whatever decided to send it. The idempotency key is deterministic
-- (journeys: journey, version, profile, entry key, node, sequence), so deciding twice enqueues
-- once; the dispatcher delivers at least once and a receiver may dedupe on it.
CREATE TABLE outbox (
    id               VARCHAR PRIMARY KEY,       -- 'msg_' + a hash of the idempotency key
    idempotency_key  VARCHAR NOT NULL UNIQUE,
    destination      VARCHAR NOT NULL,          -- a configured destination's name
    channel          VARCHAR NOT NULL,          -- email, sms, push, webhook
    profile_id       VARCHAR,
    recipient        VARCHAR,                   -- address, phone, device token; NULL: from traits
    topic            VARCHAR,                   -- subscription topic (consent), NULL: none
    template         VARCHAR,                   -- a saved template's name, rendered at send time
    content          JSON,                      -- inline fields (subject, text, html, body, ...)
    context          JSON,                      -- the triggering event, for templates
    render           BOOLEAN NOT NULL,          -- render content fields as templates
    journey          VARCHAR,
    journey_version  INTEGER,
    node             VARCHAR,
    entry_key        VARCHAR,
    -- pending: waits for next_attempt_at; sending: claimed until lease_until; delivered, sent
    -- (handed to a provider that reports later), refused (the send policy said no), dead
    -- (failed for good; replayable).
    state            VARCHAR NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    lease_until      TIMESTAMP,
    last_status      INTEGER,                   -- the last HTTP or SMTP status
    last_error       VARCHAR,
    provider_id      VARCHAR,                   -- the provider's id (Twilio SID, FCM name, ...)
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    done_at          TIMESTAMP
);
-- One row per delivery attempt or policy decision: the delivery log of a message.
CREATE TABLE outbox_attempts (
    message_id   VARCHAR NOT NULL,
    attempt      INTEGER NOT NULL,
    attempted_at TIMESTAMP NOT NULL,
    outcome      VARCHAR NOT NULL,              -- delivered, sent, retry, failed, gone, refused, deferred
    status       INTEGER,
    error        VARCHAR,
    duration_ms  DOUBLE
);
