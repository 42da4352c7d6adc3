"""Database engines: the few dialect details the SQL storage depends on.

The query modules (``sql_*.py``) write standard SQL with ``?`` placeholders and talk to a
:class:`Tx`; an :class:`Engine` says how to open the connection pool, how placeholders are
spelled, how a transaction begins and what a unique-key violation looks like. A PostgreSQL
engine would be a sibling of :class:`SQLiteEngine` (``psycopg2``, ``%s``, no PRAGMAs, its own
schema directory for the few DDL differences such as identity columns and ``BYTEA``).
"""

import os
import sqlite3

from twisted.enterprise import adbapi

from chat.server.private import create_private_file


class Engine:
    """Base of the engines; subclasses fill in the dialect."""

    #: DB-API module name, as adbapi wants it.
    dbapi_name: str
    #: Base class of the module's errors (DB-API ``Error``).
    error: type[Exception]
    #: The ``schema/<dir>`` holding this dialect's migration files.
    schema_dir = "schema"

    def connection_pool(self) -> adbapi.ConnectionPool:
        raise NotImplementedError

    def sql(self, query: str) -> str:
        """``query`` with its ``?`` placeholders in the module's paramstyle."""
        return query

    def begin(self, cursor) -> None:
        """Open the interaction's transaction (adbapi commits or rolls it back)."""

    def is_unique_violation(self, exc: Exception) -> bool:
        raise NotImplementedError

    def preflight(self) -> None:
        """Synchronously check that the database can be opened and written (at start-up)."""

    def scrub(self, connection) -> None:
        """Make deleted content unrecoverable from the database's files (after a burn)."""


class SQLiteEngine(Engine):
    """SQLite through the standard ``sqlite3`` module, in WAL mode, one connection.

    One connection in one thread serialises all access, which SQLite wants anyway (a single
    writer), and lets the server batch its writes for group commit.
    """

    dbapi_name = "sqlite3"
    error = sqlite3.Error
    SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")

    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout_ms: int = 5000):
        synchronous = synchronous.upper()
        if synchronous not in self.SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {self.SYNCHRONOUS}, not {synchronous!r}")
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout_ms = int(busy_timeout_ms)

    def connection_pool(self) -> adbapi.ConnectionPool:
        # made 0600 before SQLite opens it: SQLite gives its -wal and -shm files this mode
        if self.path != ":memory:" and not self.path.startswith("file:"):
            create_private_file(self.path)
        return adbapi.ConnectionPool(
            self.dbapi_name, self.path, check_same_thread=False,
            cp_min=1, cp_max=1, cp_openfun=self._on_open)

    def _on_open(self, conn) -> None:
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
        # Burned messages must not linger in free pages of the file.
        conn.execute("PRAGMA secure_delete=ON")

    def begin(self, cursor) -> None:
        # Python 3.11's sqlite3 only opens a transaction implicitly before INSERT/UPDATE/
        # DELETE, so DDL and the reads before a write would otherwise run outside it.
        cursor.execute("BEGIN")

    def preflight(self) -> None:
        if not os.path.lexists(self.path):
            # a new database is made by start(), once the ports are bound: a start that fails
            # on a port in use leaves no empty database behind. Here: can it be made?
            folder = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
                raise sqlite3.OperationalError(f"cannot create the database in {folder}")
            return
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000)
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # reads the header: a database?
            conn.execute("BEGIN IMMEDIATE")  # takes the write lock: writable, not locked?
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    def scrub(self, connection) -> None:
        # secure_delete zeroes the main file's pages, but the write-ahead log still holds the
        # old page (the burned text) until a checkpoint: copy it back and empty the log now
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def is_unique_violation(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.IntegrityError) and getattr(exc, "sqlite_errorname", "") in (
            "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


class Tx:
    """The cursor of one interaction (one transaction), spoken to with ``?`` placeholders."""

    def __init__(self, engine: Engine, cursor):
        self.engine = engine
        self._cursor = cursor

    def execute(self, query: str, params=()):
        self._cursor.execute(self.engine.sql(query), params)
        return self._cursor

    def executemany(self, query: str, seq) -> int:
        """Fires ``query`` for every parameter tuple; returns the number of rows changed."""
        self._cursor.executemany(self.engine.sql(query), seq)
        return self._cursor.rowcount

    def one(self, query: str, params=()):
        return self.execute(query, params).fetchone()

    def all(self, query: str, params=()) -> list:
        return self.execute(query, params).fetchall()

    def value(self, query: str, params=()):
        """The first column of the first row, None if no row."""
        row = self.one(query, params)
        return None if row is None else row[0]
