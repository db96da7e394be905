-- Configured destinations (touchpath.destinations.config). `config` holds what may be shown;
-- `secrets` holds the encrypted secrets (webhook signing secrets, SMTP password, provider
-- keys), never returned by the API. A 410 from an endpoint disables it (enabled = false).
CREATE TABLE destinations (
    name             VARCHAR PRIMARY KEY,
    kind             VARCHAR NOT NULL,          -- webhook, smtp, twilio, fcm
    config           JSON NOT NULL,
    secrets          VARCHAR,                   -- Fernet token of a JSON object
    enabled          BOOLEAN NOT NULL,
    disabled_reason  VARCHAR,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
-- What a message is: a message to a person (the send policy applies), a forwarded event or an
-- audience update (data for another tool: no policy).
ALTER TABLE outbox ADD COLUMN purpose VARCHAR DEFAULT 'message';
-- When the send policy let the message leave (frequency caps count these).
ALTER TABLE outbox ADD COLUMN approved_at TIMESTAMP;
-- Saved message templates (touchpath.destinations.templates): Jinja2 fields per channel and the
-- declared defaults of the variables they use.
CREATE TABLE message_templates (
    name        VARCHAR PRIMARY KEY,
    channel     VARCHAR NOT NULL,
    fields      JSON NOT NULL,
    defaults    JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
-- Subscription groups: a topic on some channels, opt-in or opt-out, optionally tied to a consent
-- category (Segment's context.consent.categoryPreferences).
CREATE TABLE subscription_groups (
    topic             VARCHAR PRIMARY KEY,
    channels          JSON NOT NULL,            -- list of channels; [] = every channel
    opt_in            BOOLEAN NOT NULL,         -- true: only people who subscribed get it
    consent_category  VARCHAR,
    description       VARCHAR,
    created_at        TIMESTAMP NOT NULL
);
-- Each person's choice per channel and topic ('*': every topic of the channel).
CREATE TABLE subscriptions (
    profile_id  VARCHAR NOT NULL,
    channel     VARCHAR NOT NULL,
    topic       VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,               -- subscribed, unsubscribed
    updated_at  TIMESTAMP NOT NULL,
    via         VARCHAR,                        -- api, link, one-click, bounce, ...
    message_id  VARCHAR,
    PRIMARY KEY (profile_id, channel, topic)
);
-- The send policy (touchpath.destinations.policy): one JSON document.
CREATE TABLE send_policy (
    id          INTEGER PRIMARY KEY,
    policy      JSON NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
-- Event forwarding rules (touchpath.destinations.forwarding): which events go to which
-- destination, and how they are mapped.
CREATE TABLE forwarding_rules (
    name         VARCHAR PRIMARY KEY,
    destination  VARCHAR NOT NULL,
    spec         JSON NOT NULL,
    enabled      BOOLEAN NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
CREATE TABLE forwarding_state (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
