"""Database engines: the few dialect details the SQL storage depends on.

The query modules (``sql_*.py``) write standard SQL with ``?`` placeholders and talk to a
:class:`Tx`; an :class:`Engine` says how to open the connection pool, how placeholders are
spelled, how a transaction begins, which locks make a decision safe against other writers and
what a unique-key violation looks like. Two engines: :class:`SQLiteEngine` (``sqlite3``, one
connection) and :class:`PostgreSQLEngine` (``psycopg2``, ``%s``, a pool of connections, its own
schema directory for the few DDL differences: identity columns, ``BYTEA``, ``BIGINT`` ids).
"""

import functools
import os
import re
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

    def lock_migrations(self, tx: "Tx") -> None:
        """Make this transaction the only one migrating the schema until it ends."""

    def lock_accounts(self, tx: "Tx") -> None:
        """Hold off other transactions creating accounts until this one ends (the "first
        account is an admin" decision and the next id are read from the table)."""

    #: whether :meth:`params_in` and :meth:`row_out` change anything (else they are skipped)
    converts = False

    def params_in(self, params):
        """Query parameters as this database can take them (see :meth:`row_out`)."""
        return params

    def row_out(self, row):
        """A result row with the values :meth:`params_in` stored as they were given."""
        return row

    def is_unique_violation(self, exc: Exception) -> bool:
        raise NotImplementedError

    def is_transient(self, exc: Exception) -> bool:
        """Whether the transaction failed only for racing another one (then run it again)."""
        return False

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


class PostgreSQLEngine(Engine):
    """PostgreSQL through ``psycopg2``, a pool of connections in adbapi's threads.

    ``dsn`` is a libpq connection string or ``postgresql://user@host:port/dbname`` URI without
    a password; the password is given apart (from a file) or comes from libpq's own
    ``PGPASSWORD`` / ``~/.pgpass``, so that it never shows in a process list. Several
    connections let reads run beside the message writer's batch; the writer itself keeps one
    batch in flight, so message batches still commit in order.
    """

    dbapi_name = "psycopg2"
    schema_dir = "schema/postgresql"
    #: pg_advisory_xact_lock key of schema migrations (any constant: "chat" in ASCII)
    MIGRATION_LOCK = 0x63686174
    #: PostgreSQL text cannot hold U+0000, which a message, a topic or a ban reason may: in
    #: every text parameter it is escaped with U+FFFF (a noncharacter), which is itself
    #: doubled, and results are unescaped, so any text comes back as it went in, equal keys
    #: stay equal, and real texts (with neither) are stored as they are
    _ESCAPE = "\uffff"
    converts = True

    def __init__(self, dsn: str, password=None, pool_size: int = 5, connect_timeout: int = 10):
        import psycopg2    # only a server on PostgreSQL needs it loaded
        import psycopg2.extensions
        self.dbapi = psycopg2
        self.error = psycopg2.Error
        self.dsn = dsn
        params = psycopg2.extensions.parse_dsn(dsn)   # ProgrammingError if malformed
        if "password" in params:
            raise ValueError("the database URL must not contain the password (it would show "
                             "in the process list): use PGPASSWORD or --database-password-file")
        if not re.fullmatch(r"\d+(,\d*)*", params.get("port", "5432")):
            raise ValueError(f"the port {params['port']!r} is not a number")
        self.params = params
        self.password = password
        self.pool_size = int(pool_size)
        self.connect_timeout = int(connect_timeout)

    def describe(self) -> str:
        """Where the database is, for messages (never the password)."""
        p = self.params
        where = p.get("host", "local socket")
        if "port" in p:
            where += f":{p['port']}"
        return f"PostgreSQL database {p.get('dbname', '(default)')!r} at {where}"

    def _connect_kwargs(self) -> dict:
        kwargs = {"connect_timeout": self.connect_timeout,
                  "application_name": "chatserver"}
        if self.password is not None:
            kwargs["password"] = self.password
        return kwargs

    def connect(self):
        """A plain connection (outside the pool: preflight, tools)."""
        return self.dbapi.connect(self.dsn, **self._connect_kwargs())

    def connection_pool(self) -> adbapi.ConnectionPool:
        # cp_reconnect: a connection the server closed (restart, failover) is replaced at
        # the next interaction instead of failing every later one
        return adbapi.ConnectionPool(
            self.dbapi_name, self.dsn, cp_min=1, cp_max=self.pool_size, cp_reconnect=True,
            cp_noisy=False, **self._connect_kwargs())

    @functools.lru_cache(maxsize=512)
    def sql(self, query: str) -> str:
        # psycopg2's pyformat: a literal % is %%, and ? never appears in our SQL otherwise
        return query.replace("%", "%%").replace("?", "%s")

    def lock_migrations(self, tx: "Tx") -> None:
        # held to the end of the transaction, which carries the whole migration (DDL is
        # transactional in PostgreSQL): a node starting at the same time waits, then finds
        # the versions applied; taken before CREATE TABLE IF NOT EXISTS, which races otherwise
        tx.execute("SELECT pg_advisory_xact_lock(?)", (self.MIGRATION_LOCK,))

    def lock_accounts(self, tx: "Tx") -> None:
        # conflicts with itself and with writers, not with readers: of racing creations
        # exactly one finds the table empty, and none computes an id another one takes
        tx.execute("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE")

    def params_in(self, params):
        esc = self._ESCAPE
        if not any(type(p) is str and ("\x00" in p or esc in p) for p in params):
            return params
        return tuple(p.replace(esc, esc * 2).replace("\x00", esc + "0")
                     if type(p) is str else p for p in params)

    def row_out(self, row):
        esc = self._ESCAPE
        if row is None or not any(type(v) is str and esc in v for v in row):
            return row
        return tuple(_unescape(v) if type(v) is str else v for v in row)

    def preflight(self) -> None:
        conn = self.connect()
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        finally:
            conn.close()

    def scrub(self, connection) -> None:
        # a burned text's old row version stays in the table's pages until VACUUM prunes it
        # (VACUUM cannot run in a transaction: autocommit for this one statement). The
        # write-ahead log and base backups keep it longer: docs/SECURITY.md says so.
        # (adbapi hands over its wrapper: the driver's connection is the cursor's)
        connection.rollback()
        cursor = connection.cursor()
        raw = cursor.connection
        raw.autocommit = True
        try:
            cursor.execute("VACUUM messages")
        finally:
            cursor.close()
            raw.autocommit = False

    def is_unique_violation(self, exc: Exception) -> bool:
        return getattr(exc, "pgcode", None) == "23505"

    def is_transient(self, exc: Exception) -> bool:
        from psycopg2 import errors
        return isinstance(exc, (errors.DeadlockDetected, errors.SerializationFailure))


def _unescape(text: str) -> str:
    return re.sub("\uffff(.)", lambda m: "\x00" if m.group(1) == "0" else m.group(1), text,
                  flags=re.DOTALL)


class Tx:
    """The cursor of one interaction (one transaction), spoken to with ``?`` placeholders."""

    def __init__(self, engine: Engine, cursor):
        self.engine = engine
        self._cursor = cursor

    def execute(self, query: str, params=()):
        if self.engine.converts:
            params = self.engine.params_in(params)
        self._cursor.execute(self.engine.sql(query), params)
        return self._cursor

    def executemany(self, query: str, seq) -> int:
        """Fires ``query`` for every parameter tuple; returns the number of rows changed."""
        if self.engine.converts:
            seq = [self.engine.params_in(p) for p in seq]
        self._cursor.executemany(self.engine.sql(query), seq)
        return self._cursor.rowcount

    def one(self, query: str, params=()):
        row = self.execute(query, params).fetchone()
        return self.engine.row_out(row) if self.engine.converts else row

    def all(self, query: str, params=()) -> list:
        rows = self.execute(query, params).fetchall()
        if self.engine.converts:
            rows = [self.engine.row_out(row) for row in rows]
        return rows

    def value(self, query: str, params=()):
        """The first column of the first row, None if no row."""
        row = self.one(query, params)
        return None if row is None else row[0]
