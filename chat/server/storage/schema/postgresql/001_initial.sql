-- Initial schema, PostgreSQL's version of schema/001_initial.sql (same tables, indexes and
-- columns): BYTEA for the avatar, BIGINT ids (SQLite's INTEGER is 64 bits, PostgreSQL's 32).
-- Applied once, in one transaction, by chat.server.storage.migrate.

CREATE TABLE accounts (
    id            BIGINT PRIMARY KEY,
    name          TEXT NOT NULL,
    key           TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0,
    created       BIGINT NOT NULL,
    last_seen     BIGINT,
    avatar_type   TEXT,
    avatar        BYTEA
);

CREATE TABLE rooms (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    topic      TEXT NOT NULL DEFAULT '',
    created_by BIGINT,
    created    BIGINT NOT NULL
);

-- Conversations are opaque strings ("r:<room>", "d:<id>:<id>"), so no foreign keys to rooms.
CREATE TABLE members (
    conv       TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    joined     BIGINT NOT NULL,
    PRIMARY KEY (conv, account_id)
);
CREATE INDEX members_account ON members (account_id, conv);

-- Ids come from the server (it numbers messages before they are stored), hence no identity.
-- Texts are TEXT; the engine escapes the one character PostgreSQL text cannot hold (U+0000).
CREATE TABLE messages (
    id            BIGINT PRIMARY KEY,
    conv          TEXT NOT NULL,
    sender_id     BIGINT NOT NULL,
    sender        TEXT NOT NULL,
    text          TEXT,
    ts            BIGINT NOT NULL,
    cid           TEXT NOT NULL,
    burn_ttl      DOUBLE PRECISION,
    burned        INTEGER NOT NULL DEFAULT 0,
    burn_deadline BIGINT,
    UNIQUE (sender_id, cid)
);
CREATE INDEX messages_conv ON messages (conv, id, sender_id);
CREATE INDEX messages_burn_due ON messages (burn_deadline) WHERE burn_deadline IS NOT NULL AND burned = 0;

CREATE TABLE read_marks (
    conv       TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    up_to      BIGINT NOT NULL,
    PRIMARY KEY (conv, account_id)
);

CREATE TABLE burn_pending (
    message_id BIGINT NOT NULL REFERENCES messages (id),
    account_id BIGINT NOT NULL,
    PRIMARY KEY (message_id, account_id)
);
CREATE INDEX burn_pending_account ON burn_pending (account_id, message_id);
