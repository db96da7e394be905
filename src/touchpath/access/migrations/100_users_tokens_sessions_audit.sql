-- People who sign in, with their role (owner > admin > editor > viewer). Passwords are argon2id
-- hashes (touchpath.access.passwords); an email is kept lower-case.
CREATE TABLE users (
    id              VARCHAR PRIMARY KEY,
    email           VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,
    password_hash   VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    disabled_at     TIMESTAMP
);
-- Personal API tokens, sent as `Authorization: Bearer <token>`. Only the SHA-256 of the secret is
-- kept (the secret is 32 random bytes, so a slow hash buys nothing) and a prefix to tell them
-- apart. A token's role is at most its user's; one made from the CLI has no user.
CREATE TABLE api_tokens (
    id              VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    prefix          VARCHAR NOT NULL,
    secret_hash     VARCHAR NOT NULL,
    role            VARCHAR NOT NULL,
    user_id         VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    last_used_at    TIMESTAMP,
    revoked_at      TIMESTAMP
);
-- Browser sessions: the cookie holds a random secret, this table its SHA-256; `csrf` is the token
-- a state-changing request must echo in X-CSRF-Token.
CREATE TABLE sessions (
    id_hash         VARCHAR PRIMARY KEY,
    user_id         VARCHAR NOT NULL,
    csrf            VARCHAR NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    expires_at      TIMESTAMP NOT NULL
);
-- Who did what to whom, and when: admin actions (users, tokens, sources, privacy).
CREATE TABLE audit_log (
    "at"            TIMESTAMP NOT NULL,
    actor           VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,
    target          VARCHAR,
    detail          JSON
);
