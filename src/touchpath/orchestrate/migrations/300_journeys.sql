-- Journeys (touchpath.orchestrate): definitions, versions, who is where, and every step taken.
-- One row per journey: its status and the version new entries join.
CREATE TABLE journeys (
    name           VARCHAR PRIMARY KEY,
    status         VARCHAR NOT NULL,   -- draft, live, paused, archived (drains: no new entries)
    live_version   INTEGER,            -- the published version people enter
    live_from_seq  BIGINT,             -- only events after this seq make people enter
    next_run_at    TIMESTAMP,          -- a scheduled entry's next run
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
-- Every saved version: the YAML as written and the plan the engine runs (map touchpoints
-- resolved to their event definitions when published).
CREATE TABLE journey_versions (
    journey       VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    yaml          VARCHAR NOT NULL,
    plan          JSON,
    created_at    TIMESTAMP NOT NULL,
    published_at  TIMESTAMP,
    PRIMARY KEY (journey, version)
);
-- Who is at which node of which version, and when they wake: one row per entry into a journey
-- (an instance), kept after it ends for re-entry rules and counts.
CREATE TABLE journey_state (
    id            BIGINT PRIMARY KEY,
    journey       VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    profile_id    VARCHAR NOT NULL,
    entry_key     VARCHAR NOT NULL,    -- the key property's value, or what made them enter
    node          VARCHAR NOT NULL,    -- the current node (the last one once done)
    status        VARCHAR NOT NULL,    -- run (node is due at wake_at), wait, listen, done
    wake_at       TIMESTAMP,           -- run: when; wait: when it is over; listen: the timeout
    step          INTEGER NOT NULL,    -- steps taken so far
    listen_from   BIGINT,              -- listen: events after this seq count
    user_id       VARCHAR,
    anonymous_id  VARCHAR,
    entry_props   JSON,                -- the entry event's properties
    entry_seq     BIGINT,              -- the entry event (exits and goals count events after it)
    entered_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    exited_at     TIMESTAMP,
    exit_reason   VARCHAR,
    converted_at  TIMESTAMP            -- the goal, reached within its window
);
-- Each executed step, once: entering (@entry), every node run, and leaving (@exit). The
-- journey events in the log and the sends' idempotency keys are derived from these rows.
CREATE TABLE journey_steps (
    id        BIGINT NOT NULL,         -- increasing; the emitter's cursor
    instance  BIGINT NOT NULL,
    node      VARCHAR NOT NULL,
    step      INTEGER NOT NULL,
    journey   VARCHAR NOT NULL,
    version   INTEGER NOT NULL,
    kind      VARCHAR NOT NULL,        -- entered, exited, moved, or the node's kind
    came_from VARCHAR,                 -- the node before (for @exit: the node left from)
    via       VARCHAR,                 -- the edge that led here (next, on_event, a branch, ...)
    outcome   VARCHAR,                 -- the branch or variant taken, the exit reason, ...
    ts        TIMESTAMP NOT NULL,      -- when (the engine clock)
    detail    JSON,
    PRIMARY KEY (instance, node, step)
);
-- Cursors: the last event seq the engine has seen, the last step emitted as an event.
CREATE TABLE journey_meta (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL);
