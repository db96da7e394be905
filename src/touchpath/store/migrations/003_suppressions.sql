-- 3: suppressions
-- Identifiers whose future messages are accepted (200) and dropped, as Segment and
-- RudderStack do after a suppression request. kind is user_id or anonymous_id.
CREATE TABLE suppressions (
    kind        VARCHAR NOT NULL,
    value       VARCHAR NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    reason      VARCHAR,
    PRIMARY KEY (kind, value)
);
