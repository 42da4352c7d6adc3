-- Files: the metadata of every file offered; the bytes are on disk, stored once per content
-- under their SHA-256 (see chat.server.files). Applied once by chat.server.storage.migrate.

-- AUTOINCREMENT: an id is never handed out twice, even after the newest record was deleted
-- (an expired partial), so an id a client still holds can never name somebody else's file.
-- (A PostgreSQL schema would say GENERATED ALWAYS AS IDENTITY.)
CREATE TABLE files (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id     INTEGER NOT NULL,
    conv          TEXT NOT NULL,
    target        TEXT NOT NULL,
    name          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    mime          TEXT NOT NULL,
    created       BIGINT NOT NULL,
    complete      INTEGER NOT NULL DEFAULT 0,
    msg_id        INTEGER,
    last_progress BIGINT NOT NULL
);
-- "files" pages back through a conversation's complete files by id.
CREATE INDEX files_conv ON files (conv, complete, id);
-- quota: the sum of a sender's sizes.
CREATE INDEX files_sender ON files (sender_id, size);

-- The file a message publishes (NULL for a text message).
ALTER TABLE messages ADD COLUMN file_id INTEGER;
