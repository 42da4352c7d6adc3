"""SQLite implementation of :class:`~chat.server.storage.IStorage`: the embedded default.

One connection in one thread (SQLite has one writer at a time anyway), WAL mode, versioned
schema files from ``schema/``.
"""

from .engine import SQLiteEngine
from .sql import SQLStorage


class SQLiteStorage(SQLStorage):
    """The server's state in a SQLite file (WAL mode, versioned schema)."""

    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout_ms: int = 5000):
        # busy_timeout_ms: how long a write waits for another process's lock before it fails
        # (StorageError "database is locked"; the sender gets server_error)
        super().__init__(SQLiteEngine(path, synchronous, busy_timeout_ms))

    def describe(self) -> str:
        return self._engine.path
