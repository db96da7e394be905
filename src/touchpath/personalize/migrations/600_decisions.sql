-- 600: personalisation decisions, versioned, and which version each source answers
-- Every saved change of a decision is a new version; a version is never changed.
CREATE TABLE decision_versions (
    name        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    spec        JSON NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    created_by  VARCHAR NOT NULL,
    PRIMARY KEY (name, version)
);
-- A source answers the version published to it (POST /v1/decide with its write key).
CREATE TABLE decision_publications (
    source_id     VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,
    version       INTEGER NOT NULL,
    published_at  TIMESTAMP NOT NULL,
    published_by  VARCHAR NOT NULL,
    PRIMARY KEY (source_id, name)
);
