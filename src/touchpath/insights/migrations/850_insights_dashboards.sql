-- Saved insights and dashboards (touchpath.insights): an insight is a named analysis spec of any
-- kind of the runtime (touchpath.analytics.registry); a dashboard is an ordered list of them.
-- Results are never stored: each is run when it is read, so it stays current.
CREATE TABLE insights (
    name         VARCHAR PRIMARY KEY,
    description  VARCHAR NOT NULL DEFAULT '',
    kind         VARCHAR NOT NULL,
    spec         JSON NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE dashboards (
    name         VARCHAR PRIMARY KEY,
    description  VARCHAR NOT NULL DEFAULT '',
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

-- A dashboard's insights in order. No foreign keys (DuckDB cannot cascade): deleting an insight
-- removes its tiles in the same transaction.
CREATE TABLE dashboard_tiles (
    dashboard    VARCHAR NOT NULL,
    position     INTEGER NOT NULL,
    insight      VARCHAR NOT NULL,
    PRIMARY KEY (dashboard, position)
);
