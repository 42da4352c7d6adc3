"""File metadata queries of the SQL storage (the bytes are on disk: chat.server.files)."""

from . import FileRecord
from .engine import Tx

COLUMNS = ("id, sender_id, conv, target, name, size, sha256, mime, created, complete, msg_id, "
           "last_progress")


def file_record(row) -> FileRecord:
    (id, sender_id, conv, target, name, size, sha256, mime, created, complete, msg_id,
     last_progress) = row
    return FileRecord(id, sender_id, conv, target, name, size, sha256, mime, created,
                      bool(complete), msg_id, last_progress)


def create(tx: Tx, sender_id, conv, target, name, size, sha256, mime, now) -> FileRecord:
    file_id = tx.value(
        "INSERT INTO files (sender_id, conv, target, name, size, sha256, mime, created, "
        "complete, msg_id, last_progress) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?) "
        "RETURNING id",
        (sender_id, conv, target, name, size, sha256, mime, now, now))
    return FileRecord(file_id, sender_id, conv, target, name, size, sha256, mime, now,
                      False, None, now)


def by_id(tx: Tx, file_id):
    row = tx.one(f"SELECT {COLUMNS} FROM files WHERE id = ?", (file_id,))
    return None if row is None else file_record(row)


def of_conv(tx: Tx, conv, before, limit) -> list[FileRecord]:
    if limit <= 0:    # SQLite reads a negative LIMIT as none at all
        return []
    where, params = "conv = ? AND complete = 1", [conv]
    if before is not None:
        where += " AND id < ?"
        params.append(before)
    rows = tx.all(f"SELECT {COLUMNS} FROM files WHERE {where} ORDER BY id DESC LIMIT ?",
                  params + [limit])
    return [file_record(row) for row in rows]


def with_state(tx: Tx, complete: bool) -> list[FileRecord]:
    rows = tx.all(f"SELECT {COLUMNS} FROM files WHERE complete = ? ORDER BY id",
                  (1 if complete else 0,))
    return [file_record(row) for row in rows]


def touch(tx: Tx, file_id, now) -> None:
    tx.execute("UPDATE files SET last_progress = ? WHERE id = ?", (now, file_id))


def delete(tx: Tx, file_id) -> None:
    tx.execute("DELETE FROM files WHERE id = ?", (file_id,))


def quota_used(tx: Tx, sender_id) -> int:
    return tx.value("SELECT COALESCE(SUM(size), 0) FROM files WHERE sender_id = ?", (sender_id,))


def mark_published(tx: Tx, published: list[tuple[int, int]]) -> None:
    """``(message id, file id)`` pairs: each file is complete, published by that message."""
    tx.executemany("UPDATE files SET complete = 1, msg_id = ? WHERE id = ?", published)
