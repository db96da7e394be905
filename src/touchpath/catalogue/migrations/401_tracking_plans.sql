-- 401: tracking plans (touchpath.catalogue.plans): a JSON Schema per event and for identify
-- traits, assigned per source with a mode (flag, block, drop); each violation a row.
CREATE TABLE tracking_plans (
    name        VARCHAR PRIMARY KEY,
    document    JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- One plan per source at most. No foreign keys (DuckDB cannot cascade): deleting a plan
-- deletes its assignments in the same transaction.
CREATE TABLE plan_assignments (
    source       VARCHAR PRIMARY KEY,
    plan         VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL,
    assigned_at  TIMESTAMP NOT NULL
);

-- One row per thing wrong with a message: `action` says what became of the message (kept,
-- blocked: it went to `rejected`, dropped: the property was taken out).
CREATE TABLE plan_violations (
    received_at  TIMESTAMP NOT NULL,
    source       VARCHAR NOT NULL,
    plan         VARCHAR NOT NULL,
    mode         VARCHAR NOT NULL,
    message_id   VARCHAR,
    type         VARCHAR,
    event        VARCHAR,
    property     VARCHAR,
    kind         VARCHAR NOT NULL,
    problem      VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,
    payload      VARCHAR NOT NULL
);
