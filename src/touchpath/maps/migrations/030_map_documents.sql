-- 30: journey map documents, versioned
-- Every saved version of every journey map document (the YAML as written).
CREATE TABLE maps (
    name        VARCHAR NOT NULL,
    version     INTEGER NOT NULL,
    yaml        VARCHAR NOT NULL,
    title       VARCHAR,
    type        VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (name, version)
);
