-- Addresses a delivery status notification (RFC 3464) reported as failed for good (a hard
-- bounce): the send policy refuses email to them, whichever person or message names them.
CREATE TABLE bounced_addresses (
    address     VARCHAR PRIMARY KEY,            -- lower-cased
    status      VARCHAR NOT NULL,               -- the DSN's status code, e.g. 5.1.1
    diagnostic  VARCHAR,                        -- the remote server's words
    message_id  VARCHAR,                        -- the outbox message that bounced
    bounced_at  TIMESTAMP NOT NULL
);
