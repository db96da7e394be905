-- The outbox split in three, so that draining it touches only a small, narrow set of rows.
-- Measured before: with one wide table (content and context JSON beside the state) each claim and
-- each recording of results scanned and updated that whole table, and the drain rate fell as the
-- outbox grew (a 1M drain was stopped after 25 minutes).
--
--   outbox_messages  what a message is; written once at enqueue, never updated.
--   outbox_queue     the hot set: messages not finished (pending, sending). A message leaves it
--                    when it reaches a final state, so claims scan only what is left to send.
--   outbox_done      finished messages (delivered, sent, refused, dead), appended.
--   outbox           a view joining them: every message with its delivery state, as before.
CREATE TABLE outbox_messages (
    id               VARCHAR PRIMARY KEY,       -- 'msg_' + a hash of the idempotency key
    idempotency_key  VARCHAR NOT NULL UNIQUE,
    seq              BIGINT NOT NULL,           -- enqueue order (lets a batch be read by range)
    destination      VARCHAR NOT NULL,
    channel          VARCHAR NOT NULL,
    profile_id       VARCHAR,
    recipient        VARCHAR,
    topic            VARCHAR,
    template         VARCHAR,
    content          JSON,
    context          JSON,
    render           BOOLEAN NOT NULL,
    journey          VARCHAR,
    journey_version  INTEGER,
    node             VARCHAR,
    entry_key        VARCHAR,
    purpose          VARCHAR NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
-- No index here: the queue is scanned (it is small once drained), and an index would make every
-- delete cost a key removal at commit.
CREATE TABLE outbox_queue (
    id               VARCHAR NOT NULL,
    seq              BIGINT NOT NULL,
    destination      VARCHAR NOT NULL,
    state            VARCHAR NOT NULL,          -- pending, sending
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    lease_until      TIMESTAMP,
    last_status      INTEGER,
    last_error       VARCHAR,
    approved_at      TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL
);
CREATE TABLE outbox_done (
    id               VARCHAR NOT NULL,
    seq              BIGINT NOT NULL,
    state            VARCHAR NOT NULL,          -- delivered, sent, refused, dead
    attempts         INTEGER NOT NULL,
    last_status      INTEGER,
    last_error       VARCHAR,
    provider_id      VARCHAR,
    approved_at      TIMESTAMP,
    updated_at       TIMESTAMP NOT NULL,
    done_at          TIMESTAMP NOT NULL
);
-- Existing messages keep their ids, keys, content and state (enqueue order: created_at, id).
CREATE TEMP TABLE _outbox_old AS
SELECT *, row_number() OVER (ORDER BY created_at, id) AS seq FROM outbox;
INSERT INTO outbox_messages
SELECT id, idempotency_key, seq, destination, channel, profile_id, recipient, topic, template,
       content, context, render, journey, journey_version, node, entry_key,
       coalesce(purpose, 'message'), created_at
FROM _outbox_old;
INSERT INTO outbox_queue
SELECT id, seq, destination, state, attempts, next_attempt_at, lease_until, last_status,
       last_error, approved_at, updated_at
FROM _outbox_old WHERE state IN ('pending', 'sending');
INSERT INTO outbox_done
SELECT id, seq, state, attempts, last_status, last_error, provider_id, approved_at, updated_at,
       coalesce(done_at, updated_at)
FROM _outbox_old WHERE state NOT IN ('pending', 'sending');
DROP TABLE _outbox_old;
DROP TABLE outbox;
CREATE VIEW outbox AS
SELECT m.id, m.idempotency_key, m.destination, m.channel, m.profile_id, m.recipient, m.topic,
       m.template, m.content, m.context, m.render, m.journey, m.journey_version, m.node,
       m.entry_key, s.state, s.attempts, s.next_attempt_at, s.lease_until, s.last_status,
       s.last_error, s.provider_id, m.created_at, s.updated_at, s.done_at, m.purpose,
       s.approved_at, m.seq
FROM outbox_messages m JOIN (
    SELECT id, state, attempts, next_attempt_at, lease_until, last_status, last_error,
           NULL::VARCHAR AS provider_id, updated_at, NULL::TIMESTAMP AS done_at, approved_at
    FROM outbox_queue
    UNION ALL
    SELECT id, state, attempts, done_at, NULL::TIMESTAMP, last_status, last_error,
           provider_id, updated_at, done_at, approved_at
    FROM outbox_done
) s ON s.id = m.id;
