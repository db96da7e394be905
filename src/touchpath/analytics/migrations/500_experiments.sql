-- Saved experiment definitions (touchpath.analytics.experiments.saved): the spec as JSON
-- (arms source, metrics, start and end, how it is judged). Results are never stored: they
-- are read from the event log each time, so they stay current.
CREATE TABLE experiments (
    name         VARCHAR PRIMARY KEY,
    description  VARCHAR NOT NULL DEFAULT '',
    spec         JSON NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);
