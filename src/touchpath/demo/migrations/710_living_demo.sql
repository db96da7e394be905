-- The living demo (touchpath.demo.live): the simulated business's state as rows, so a pause, a
-- stop or a crash loses nothing and a restart goes on where it was.
CREATE TABLE demo_live_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
-- each person's state (JSON, see touchpath.demo.live.behaviour.new_person)
CREATE TABLE demo_live_people (person INTEGER NOT NULL, state VARCHAR NOT NULL);
-- what people will do, and when
CREATE TABLE demo_live_actions (
    key VARCHAR NOT NULL, due_at TIMESTAMP NOT NULL, person INTEGER NOT NULL, kind VARCHAR NOT NULL,
    data VARCHAR NOT NULL
);
-- what they sent, not yet acknowledged: Segment messages for /v1/batch, or a call to a /v1/m link
CREATE TABLE demo_live_outbox (
    seq BIGINT NOT NULL, key VARCHAR NOT NULL, made_at TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
    body VARCHAR NOT NULL
);
-- every message the receivers handed over, once, with the planted chances it was answered with
CREATE TABLE demo_live_messages (
    message_id VARCHAR PRIMARY KEY, received_at TIMESTAMP NOT NULL, person INTEGER NOT NULL,
    channel VARCHAR NOT NULL, template VARCHAR, journey VARCHAR, node VARCHAR,
    idempotency_key VARCHAR, local_hour INTEGER NOT NULL, recent INTEGER NOT NULL,
    p_click DOUBLE NOT NULL, opened BOOLEAN NOT NULL, clicked BOOLEAN NOT NULL,
    buy BOOLEAN NOT NULL, unsubscribed BOOLEAN NOT NULL, open_checkout BOOLEAN NOT NULL,
    own_return BOOLEAN NOT NULL, deliveries INTEGER NOT NULL
);
