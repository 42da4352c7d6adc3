-- Deleted accounts (chatctl deluser): their ids are never handed out again, so that a new
-- account can never inherit a deleted one's private chats ("d:<id>:<id>"), read marks or
-- messages. Applied once by chat.server.storage.migrate.

CREATE TABLE deleted_accounts (
    id      INTEGER PRIMARY KEY,
    key     TEXT NOT NULL,
    deleted BIGINT NOT NULL
);
