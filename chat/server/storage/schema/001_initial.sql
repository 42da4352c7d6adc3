-- Initial schema. Applied once, in one transaction, by chat.server.storage.migrate.
-- Keep to SQL that SQLite and PostgreSQL both accept, and no semicolons inside statements.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    key           TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0,
    created       BIGINT NOT NULL,
    last_seen     BIGINT,
    avatar_type   TEXT,
    avatar        BLOB
);

CREATE TABLE rooms (
    key        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    topic      TEXT NOT NULL DEFAULT '',
    created_by INTEGER,
    created    BIGINT NOT NULL
);

-- Conversations are opaque strings ("r:<room>", "d:<id>:<id>"), so no foreign keys to rooms.
CREATE TABLE members (
    conv       TEXT NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    joined     BIGINT NOT NULL,
    PRIMARY KEY (conv, account_id)
);
CREATE INDEX members_account ON members (account_id, conv);

-- Ids come from the server (it numbers messages before they are stored), hence no autoincrement.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    conv          TEXT NOT NULL,
    sender_id     INTEGER NOT NULL,
    sender        TEXT NOT NULL,
    text          TEXT,
    ts            BIGINT NOT NULL,
    cid           TEXT NOT NULL,
    burn_ttl      DOUBLE PRECISION,
    burned        INTEGER NOT NULL DEFAULT 0,
    burn_deadline BIGINT,
    UNIQUE (sender_id, cid)
);
-- sender_id is in the index so that unread counts never read the table itself.
CREATE INDEX messages_conv ON messages (conv, id, sender_id);
CREATE INDEX messages_burn_due ON messages (burn_deadline) WHERE burn_deadline IS NOT NULL AND burned = 0;

-- Keyed by conv first: read_marks(conv) and the unread join both look rows up by it.
CREATE TABLE read_marks (
    conv       TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    up_to      BIGINT NOT NULL,
    PRIMARY KEY (conv, account_id)
);

-- One row per recipient who has yet to read a burn-after-reading message.
CREATE TABLE burn_pending (
    message_id INTEGER NOT NULL REFERENCES messages (id),
    account_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, account_id)
);
CREATE INDEX burn_pending_account ON burn_pending (account_id, message_id);
