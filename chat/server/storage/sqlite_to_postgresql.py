"""Copy a SQLite server's database into an empty PostgreSQL database (``chatctl migrate-sqlite``).

A tool run by hand with the server stopped, so it is plain synchronous code (no reactor).
The SQLite file is only read (one read transaction: a consistent snapshot). The PostgreSQL
side is migrated to the current schema first (the same files and advisory lock as a starting
server), must hold no data yet, and is written in ONE transaction: a copy that fails half-way
leaves it as empty as it was. Ids are kept (messages, accounts, files), and the files' identity
sequence is moved past the highest id SQLite ever handed out, deleted ones included.
"""

import sqlite3
import time

from . import migrate
from .engine import PostgreSQLEngine, Tx

BATCH = 1000

# parents before the tables whose foreign keys point at them; every other table after
_FIRST = ("accounts", "messages")


class MigrationError(Exception):
    """The copy cannot be made; the message says why, fit to show as it is."""


def _tables(src) -> list[str]:
    names = [name for name, in src.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'schema_version' ORDER BY name")]
    return [n for n in _FIRST if n in names] + [n for n in names if n not in _FIRST]


def _open_source(path: str):
    try:
        src = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        versions = [v for v, in src.execute("SELECT version FROM schema_version ORDER BY version")]
    except sqlite3.Error as error:
        raise MigrationError(f"cannot read {path}: {error}") from None
    expected = [f.version for f in migrate.schema_files()]
    if versions != expected:
        src.close()
        if versions and versions[-1] > expected[-1]:
            raise MigrationError(f"{path} has a newer schema ({versions[-1]}) than this "
                                 f"release ({expected[-1]}): use the newer release's chatctl")
        raise MigrationError(f"{path} has schema versions {versions}, this release "
                             f"{expected}: start the server on it once with this release "
                             "(which migrates it), stop it, then copy")
    return src


def copy(sqlite_path: str, engine: PostgreSQLEngine, progress=None) -> dict[str, int]:
    """Copy every row; returns ``{table: rows copied}``. ``progress(table, n)`` is told as
    the copy goes on. Raises :class:`MigrationError`."""
    from psycopg2.extras import execute_values

    src = _open_source(sqlite_path)
    try:
        try:
            dst = engine.connect()
        except engine.error as error:
            raise MigrationError(f"cannot connect to the {engine.describe()}: "
                                 f"{str(error).strip()}") from None
        try:
            src.execute("BEGIN")          # one snapshot of the whole file
            with dst:                      # one transaction: commit, or roll back on error
                cursor = dst.cursor()
                tx = Tx(engine, cursor)
                migrate.apply(tx, migrate.schema_files(engine.schema_dir),
                              int(time.time() * 1000))
                tables = _tables(src)
                for table in tables:
                    if tx.value(f"SELECT EXISTS (SELECT 1 FROM {table})"):
                        raise MigrationError(
                            f"the {engine.describe()} holds data already (table {table}): "
                            "copy into an empty database")
                counts = {}
                for table in tables:
                    counts[table] = _copy_table(src, tx, cursor, table, execute_values,
                                                progress)
                _move_sequences(src, tx)
                for table in tables:       # what was read is what is there
                    there = tx.value(f"SELECT COUNT(*) FROM {table}")
                    if there != counts[table]:
                        raise MigrationError(f"table {table}: {counts[table]} rows read, "
                                             f"{there} in PostgreSQL")
            return counts
        except engine.error as error:
            raise MigrationError(f"the copy failed (nothing was written): "
                                 f"{str(error).strip()}") from None
        except sqlite3.Error as error:
            raise MigrationError(f"cannot read {sqlite_path}: {error}") from None
        finally:
            dst.close()
    finally:
        src.close()


def _copy_table(src, tx: Tx, cursor, table: str, execute_values, progress) -> int:
    rows = src.execute(f"SELECT * FROM {table} ORDER BY rowid")
    columns = [d[0] for d in rows.description]
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES %s"
    n = 0
    while True:
        batch = rows.fetchmany(BATCH)
        if not batch:
            break
        # texts as the server writes them (U+0000 escaped); BLOBs come as bytes: BYTEA
        batch = [tx.engine.params_in(row) for row in batch]
        execute_values(cursor, insert, batch, page_size=BATCH)
        n += len(batch)
        if progress is not None:
            progress(table, n)
    return n


def _move_sequences(src, tx: Tx) -> None:
    # AUTOINCREMENT remembers the highest id ever given (sqlite_sequence), which may be above
    # MAX(id) when the newest files were deleted: the identity goes on after that one
    row = src.execute("SELECT seq FROM sqlite_sequence WHERE name = 'files'").fetchone()
    highest = max(row[0] if row else 0,
                  tx.value("SELECT COALESCE(MAX(id), 0) FROM files"))
    if highest > 0:
        tx.execute("SELECT setval(pg_get_serial_sequence('files', 'id'), ?)", (highest,))
