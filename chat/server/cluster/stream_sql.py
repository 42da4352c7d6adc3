"""The queries of the cluster stream (see :mod:`chat.server.cluster`), on a :class:`Tx`.

Stream positions: message ids and event ids are one sequence. A writer takes
``pg_advisory_xact_lock(STREAM_LOCK)``, reads the highest position of both tables (after the
lock: in READ COMMITTED the statement sees every transaction that held it before) and numbers
its rows from there; the lock is held until the commit, so positions commit in order and a
reader that has seen position N will never later find a new row below N. (A plain sequence
does not give this: two writers' ids commit out of order.)
"""

import json
from dataclasses import dataclass, replace

from chat.server.storage import sql_files, sql_messages
from chat.server.storage.engine import Tx

STREAM_LOCK = 0x63687374            # pg_advisory_xact_lock key of the stream: "chst"
CHANNEL = "chat_stream"             # LISTEN/NOTIFY channel; the payload is only a hint


@dataclass(frozen=True)
class StreamEvent:
    """One typed change in the stream: ``kind`` and its ``data`` (a dict), from ``node``."""
    id: int
    node: str
    kind: str
    data: dict
    ts: int


def _lock_and_top(tx: Tx) -> int:
    tx.execute("SELECT pg_advisory_xact_lock(?)", (STREAM_LOCK,))
    return tx.value("SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM messages), "
                    "(SELECT COALESCE(MAX(id), 0) FROM events))")


def _notify(tx: Tx, position: int) -> None:
    # delivered at commit, in commit order; listeners read the table, not this payload
    tx.execute("SELECT pg_notify(?, ?)", (CHANNEL, str(position)))


def store_messages(tx: Tx, batch) -> list:
    """Number ``batch`` (NewMessages whose ids are placeholders) from the stream's top, store
    it as :func:`sql_messages.store` does and announce it; the results carry the ids."""
    top = _lock_and_top(tx)
    numbered = [replace(m, id=top + i + 1) for i, m in enumerate(batch)]
    results = sql_messages.store(tx, numbered)
    _notify(tx, top + len(batch))
    return results


def append_event(tx: Tx, node: str, kind: str, data: dict, ts: int) -> int:
    """Add one event to the stream; returns its position."""
    top = _lock_and_top(tx)
    tx.execute("INSERT INTO events (id, node, kind, data, ts) VALUES (?, ?, ?, ?, ?)",
               (top + 1, node, kind, json.dumps(data, ensure_ascii=False), ts))
    _notify(tx, top + 1)
    return top + 1


def top(tx: Tx) -> int:
    """The highest position stored (0 if none)."""
    return tx.value("SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM messages), "
                    "(SELECT COALESCE(MAX(id), 0) FROM events))")


def after(tx: Tx, position: int, limit: int) -> tuple[list, bool, dict]:
    """The messages (StoredMessage) and events (StreamEvent) above ``position``, merged by
    position, at most about ``limit``; whether more may follow; and the FileRecords of the
    files those messages publish, by id (another node's catalogue does not know them yet)."""
    messages = [sql_messages.stored_message(row) for row in tx.all(
        f"SELECT {sql_messages.COLUMNS} FROM messages WHERE id > ? ORDER BY id LIMIT ?",
        (position, limit))]
    events = [StreamEvent(id, node, kind, json.loads(data), ts) for id, node, kind, data, ts
              in tx.all("SELECT id, node, kind, data, ts FROM events WHERE id > ? "
                        "ORDER BY id LIMIT ?", (position, limit))]
    items = sorted(messages + events, key=lambda item: item.id)
    # a full list may stop before rows of the other one: cut where both are complete
    ends = [rows[-1].id for rows in (messages, events) if len(rows) == limit]
    if ends:
        end = min(ends)
        items = [item for item in items if item.id <= end]
    files = {}
    for m in messages:
        if m.file_id is not None:
            record = sql_files.by_id(tx, m.file_id)
            if record is not None:
                files[record.id] = record
    return items, bool(ends), files


# -- nodes and their sessions
# the database's clock, not the nodes' (theirs may differ): "alive" is judged on one clock
_DB_NOW = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT"


def node_started(tx: Tx, node: str) -> None:
    """A node (re)starts: its sessions of an earlier life are gone."""
    tx.execute("DELETE FROM node_sessions WHERE node = ?", (node,))
    tx.execute(f"INSERT INTO nodes (name, started, seen) VALUES (?, {_DB_NOW}, {_DB_NOW}) "
               "ON CONFLICT (name) DO UPDATE SET started = EXCLUDED.started, seen = EXCLUDED.seen",
               (node,))


def node_seen(tx: Tx, node: str) -> tuple[int, list]:
    """Say ``node`` is alive; returns the database's time (ms) and ``[(name, seen)]`` of
    every node."""
    tx.execute(f"UPDATE nodes SET seen = {_DB_NOW} WHERE name = ?", (node,))
    return tx.value(f"SELECT {_DB_NOW}"), tx.all("SELECT name, seen FROM nodes ORDER BY name")


def node_gone(tx: Tx, node: str) -> None:
    """Forget a dead node's sessions (any node may, once it has stopped saying it is alive)."""
    tx.execute("DELETE FROM node_sessions WHERE node = ?", (node,))


SESSION_COLUMNS = "node, sid, account_id, name, admin, address, port, client, since"


def sessions(tx: Tx) -> list[tuple]:
    return tx.all(f"SELECT {SESSION_COLUMNS} FROM node_sessions ORDER BY node, sid")


def session_opened(tx: Tx, row: tuple, ts: int) -> int:
    tx.execute(f"INSERT INTO node_sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (node, sid) DO NOTHING", row)
    return append_event(tx, row[0], "session", {"open": True, "row": list(row)}, ts)


def session_closed(tx: Tx, node: str, sid: int, ts: int) -> int:
    tx.execute("DELETE FROM node_sessions WHERE node = ? AND sid = ?", (node, sid))
    return append_event(tx, node, "session", {"open": False, "node": node, "sid": sid}, ts)
