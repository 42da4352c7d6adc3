"""Read marks, unread counts and burn-after-reading queries of the SQL storage."""

from . import UNREAD_MAX, BurnDue
from .common import burn_deadline
from .engine import Tx


def unread_counts(tx: Tx, account_id) -> dict[str, int]:
    marks = tx.all("SELECT mb.conv, COALESCE(r.up_to, 0) FROM members mb "
                   "LEFT JOIN read_marks r ON r.conv = mb.conv AND r.account_id = mb.account_id "
                   "WHERE mb.account_id = ?", (account_id,))
    counts = {}
    for conv, up_to in marks:
        # one bounded index range per conversation: the cost of a login does not grow with
        # the history of the rooms its user never read
        n = tx.value("SELECT COUNT(*) FROM (SELECT 1 FROM messages WHERE conv = ? AND id > ? "
                     "AND sender_id <> ? LIMIT ?) AS unread",
                     (conv, up_to, account_id, UNREAD_MAX))
        if n:
            counts[conv] = n
    return counts


def read_marks(tx: Tx, conv) -> dict[int, int]:
    return dict(tx.all("SELECT account_id, up_to FROM read_marks WHERE conv = ?", (conv,)))


def set_read(tx: Tx, account_id, conv, up_to, now) -> list[BurnDue]:
    tx.execute("INSERT INTO read_marks (conv, account_id, up_to) VALUES (?, ?, ?) "
               "ON CONFLICT (conv, account_id) DO UPDATE SET up_to = excluded.up_to "
               "WHERE excluded.up_to > read_marks.up_to", (conv, account_id, up_to))
    # CROSS JOIN makes SQLite start from the account's few pending rows rather than from
    # the whole history of the conversation; to other databases it is a plain join.
    awaited = tx.all("SELECT p.message_id, m.burn_ttl FROM burn_pending p "
                     "CROSS JOIN messages m WHERE m.id = p.message_id "
                     "AND p.account_id = ? AND p.message_id <= ? AND m.conv = ? "
                     "ORDER BY p.message_id", (account_id, up_to, conv))
    if not awaited:
        return []
    tx.executemany("DELETE FROM burn_pending WHERE message_id = ? AND account_id = ?",
                   [(id, account_id) for id, _ in awaited])
    due = []
    for id, ttl in awaited:
        if tx.value("SELECT COUNT(*) FROM burn_pending WHERE message_id = ?", (id,)) == 0:
            due.append(BurnDue(id, conv, burn_deadline(now, ttl)))
    tx.executemany("UPDATE messages SET burn_deadline = ? WHERE id = ?",
                   [(b.deadline, b.message_id) for b in due])
    return due


def pending_burns(tx: Tx) -> list[BurnDue]:
    # Ordered by deadline, which also lets SQLite read just the partial index of due burns.
    rows = tx.all("SELECT id, conv, burn_deadline FROM messages "
                  "WHERE burn_deadline IS NOT NULL AND burned = 0 ORDER BY burn_deadline, id")
    return [BurnDue(*row) for row in rows]


def burn(tx: Tx, message_ids) -> None:
    # burn_pending before messages, each by ascending id: the order set_read takes the same
    # rows' locks in, so the two never deadlock on a database of many writers
    ids = [(id,) for id in sorted(set(message_ids))]
    # Nobody needs to read what no longer exists.
    tx.executemany("DELETE FROM burn_pending WHERE message_id = ?", ids)
    tx.executemany("UPDATE messages SET text = NULL, burned = 1 WHERE id = ?", ids)
