-- Several server nodes on one database (twistd chatserver --node NAME, PostgreSQL only; the
-- tables stay empty on SQLite). Applied once by chat.server.storage.migrate.

-- The stream of typed changes the nodes replay (membership, topics, read marks, burns, bans,
-- kicks, sessions: chat.server.cluster). Event ids and message ids are one sequence of stream
-- positions, allocated under one transaction lock, so rows commit in id order and a node
-- that has read up to N has seen every message and event up to N.
CREATE TABLE events (
    id   BIGINT PRIMARY KEY,
    node TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    ts   BIGINT NOT NULL
);

-- The nodes, with the time each last said it was alive (a dead node's sessions are dropped).
CREATE TABLE nodes (
    name    TEXT PRIMARY KEY,
    started BIGINT NOT NULL,
    seen    BIGINT NOT NULL
);

-- Every logged-in connection of every node (presence across nodes, the admin's session list).
CREATE TABLE node_sessions (
    node       TEXT NOT NULL,
    sid        BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    name       TEXT NOT NULL,
    admin      INTEGER NOT NULL,
    address    TEXT NOT NULL,
    port       INTEGER NOT NULL,
    client     TEXT,
    since      BIGINT NOT NULL,
    PRIMARY KEY (node, sid)
);
