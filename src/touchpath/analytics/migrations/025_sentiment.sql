-- 25: sentiment of free text, scored at ingest
-- One row per scored text property of an event (touchpath.analytics.sentiment):
-- VADER's compound score in [-1, 1] and its label (positive, neutral, negative).
CREATE TABLE sentiment (
    seq       BIGINT NOT NULL,
    property  VARCHAR NOT NULL,
    score     DOUBLE NOT NULL,
    label     VARCHAR NOT NULL
);
