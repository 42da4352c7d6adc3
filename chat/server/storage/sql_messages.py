"""Message queries of the SQL storage: storing batches and reading them back."""

from . import NewMessage, StoredMessage, StoreResult, sql_files
from .common import burn_deadline
from .engine import Tx

COLUMNS = "id, conv, sender_id, sender, text, ts, cid, burn_ttl, burned, file_id"
_M_COLUMNS = ", ".join("m." + c for c in COLUMNS.split(", "))

_INSERT = ("INSERT INTO messages (id, conv, sender_id, sender, text, ts, cid, burn_ttl, burned, "
           "burn_deadline, file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
           "ON CONFLICT (sender_id, cid) DO NOTHING")


def stored_message(row) -> StoredMessage:
    id, conv, sender_id, sender, text, ts, cid, burn_ttl, burned, file_id = row
    return StoredMessage(id, conv, sender_id, sender, text, ts, cid, burn_ttl, bool(burned),
                         file_id)


def store(tx: Tx, batch: list[NewMessage]) -> list[StoreResult]:
    first = {}        # (sender_id, cid) -> index in batch of its first copy
    for i, m in enumerate(batch):
        first.setdefault((m.sender_id, m.cid), i)
    fresh = [batch[i] for i in sorted(first.values())]
    deadlines = {m.id: burn_deadline(m.ts, m.burn_ttl) for m in fresh
                 if m.burn_ttl is not None and not m.burn_recipients}
    inserted = tx.executemany(_INSERT, [
        (m.id, m.conv, m.sender_id, m.sender, m.text, m.ts, m.cid, m.burn_ttl, deadlines.get(m.id),
         m.file_id)
        for m in fresh])

    earlier = {}      # (sender_id, cid) -> (id, ts) of a copy stored by an earlier batch
    if inserted != len(fresh):
        # Rare (a client resending after a lost ack), so look the conflicting ones up one by
        # one rather than pay a query per batch. A row carrying our own id is ours.
        for m in fresh:
            id, ts = tx.one("SELECT id, ts FROM messages WHERE sender_id = ? AND cid = ?",
                            (m.sender_id, m.cid))
            if id != m.id:
                earlier[m.sender_id, m.cid] = (id, ts)

    # in this transaction: a file is complete exactly when its message is stored
    sql_files.mark_published(tx, [(m.id, m.file_id) for m in fresh
                                  if m.file_id is not None and (m.sender_id, m.cid) not in earlier])

    tx.executemany("INSERT INTO burn_pending (message_id, account_id) VALUES (?, ?)", [
        (m.id, account_id) for m in fresh
        if m.burn_ttl is not None and (m.sender_id, m.cid) not in earlier
        for account_id in dict.fromkeys(m.burn_recipients)])

    results = []
    for i, m in enumerate(batch):
        key = (m.sender_id, m.cid)
        if key in earlier:
            results.append(StoreResult(*earlier[key], duplicate=True))
        elif first[key] != i:
            original = batch[first[key]]
            results.append(StoreResult(original.id, original.ts, duplicate=True))
        else:
            results.append(StoreResult(m.id, m.ts, duplicate=False,
                                       burn_deadline=deadlines.get(m.id)))
    return results


def max_id(tx: Tx) -> int:
    return tx.value("SELECT COALESCE(MAX(id), 0) FROM messages")


def history(tx: Tx, conv, before, after, limit) -> list[StoredMessage]:
    if limit <= 0:    # SQLite reads a negative LIMIT as none at all
        return []
    where, params = ["conv = ?"], [conv]
    if before is not None:
        where.append("id < ?")
        params.append(before)
    if after is not None:
        where.append("id > ?")
        params.append(after)
    # Only "after" alone pages forwards; every other mode wants the newest `limit`.
    newest = before is not None or after is None
    rows = tx.all(f"SELECT {COLUMNS} FROM messages WHERE {' AND '.join(where)} "
                  f"ORDER BY id {'DESC' if newest else 'ASC'} LIMIT ?", params + [limit])
    if newest:
        rows.reverse()
    return [stored_message(row) for row in rows]


def since(tx: Tx, account_id, since_id, limit) -> list[StoredMessage]:
    if limit <= 0:
        return []
    # Driven by the account's memberships, so other people's conversations are never read.
    rows = tx.all(f"SELECT {_M_COLUMNS} FROM members mb "
                  "JOIN messages m ON m.conv = mb.conv AND m.id > ? "
                  "WHERE mb.account_id = ? ORDER BY m.id LIMIT ?",
                  (since_id, account_id, limit))
    return [stored_message(row) for row in rows]
