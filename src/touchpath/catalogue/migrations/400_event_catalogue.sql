-- 400: the event catalogue (touchpath.catalogue): every event name and, per event, its property
-- keys with their observed JSON types, counts and first and last seen (event time, UTC). Kept
-- by a commit listener; `upto` is the last seq it has folded in, so a reader adds only the
-- events committed since (touchpath.catalogue.store). Identify calls are kept with event '' and
-- their traits as the keys; page and screen calls under their name.
CREATE TABLE catalogue_events (
    type        VARCHAR NOT NULL,
    event       VARCHAR NOT NULL,
    count       BIGINT NOT NULL,
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL,
    PRIMARY KEY (type, event)
);

CREATE TABLE catalogue_properties (
    type        VARCHAR NOT NULL,
    event       VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    value_type  VARCHAR NOT NULL,
    count       BIGINT NOT NULL,
    first_seen  TIMESTAMP NOT NULL,
    last_seen   TIMESTAMP NOT NULL,
    PRIMARY KEY (type, event, key, value_type)
);

CREATE TABLE catalogue_state (
    id    INTEGER PRIMARY KEY,
    upto  BIGINT NOT NULL
);
INSERT INTO catalogue_state VALUES (1, 0);
