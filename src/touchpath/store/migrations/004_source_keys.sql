-- 4: write keys kept as SHA-256 hashes, several per source (rotation with a grace period, revocation).
-- Only a key's prefix is kept in clear; the whole key is shown once, when it is made.
CREATE TABLE source_keys (
    hash        VARCHAR PRIMARY KEY,  -- sha256 of the key, lowercase hex
    source_id   VARCHAR NOT NULL,
    prefix      VARCHAR NOT NULL,     -- the key's first 8 characters, to tell keys apart
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP,            -- set by a rotation: the key works until then (its grace period)
    revoked_at  TIMESTAMP
);
INSERT INTO source_keys
    SELECT sha256(write_key), id, left(write_key, 8), created_at, NULL, NULL FROM sources;
-- sources.write_key (NOT NULL UNIQUE, so it cannot be dropped) no longer holds a key.
UPDATE sources SET write_key = 'hashed:' || id;
