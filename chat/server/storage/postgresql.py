"""PostgreSQL implementation of :class:`~chat.server.storage.IStorage`.

The same queries as SQLite's (:mod:`.sql`), through ``psycopg2`` in adbapi's thread pool (the
way Synapse reaches PostgreSQL from Twisted), with the schema of ``schema/`` plus the
PostgreSQL versions of the files whose DDL differs (``schema/postgresql/``). Migrations run
under an advisory lock, so several servers starting at once on one database migrate it once.
"""

from .engine import PostgreSQLEngine
from .sql import SQLStorage


class PostgreSQLStorage(SQLStorage):
    """The server's state in a PostgreSQL database.

    ``dsn``: ``postgresql://user@host:port/dbname`` (or a libpq ``key=value`` string) without
    a password; ``password``: given apart, or None for libpq's ``PGPASSWORD``/``~/.pgpass``.
    """

    def __init__(self, dsn: str, password=None, pool_size: int = 5):
        super().__init__(PostgreSQLEngine(dsn, password, pool_size))

    backup_hint = ("this server keeps its data in PostgreSQL: back it up with pg_dump "
                   "(pg_dump -Fc -f chat.dump DBNAME; see README.md, PostgreSQL)")

    def describe(self) -> str:
        return self._engine.describe()
