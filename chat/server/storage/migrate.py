"""Versioned schema files and their application.

``schema/NNN_name.sql`` files are applied in version order; the ``schema_version`` table
records each one applied, so a restart applies nothing twice and a newer release migrates an
older database by shipping further files.

One schema for every database: a dialect's directory (``schema/postgresql``) holds only the
files whose SQL must differ there, under the same names; the other files are shared.
"""

import re
from importlib import resources
from typing import NamedTuple

from .engine import Tx

_NAME = re.compile(r"^(\d+)_[\w-]+\.sql$")


class SchemaFile(NamedTuple):
    version: int
    name: str
    sql: str


def _read(directory: str) -> dict[int, SchemaFile]:
    files = []
    for entry in resources.files(__package__).joinpath(directory).iterdir():
        match = _NAME.match(entry.name)
        if match:
            files.append(SchemaFile(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    versions = [f.version for f in files]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two schema files share a version in {directory}: {sorted(versions)}")
    return {f.version: f for f in files}


def schema_files(directory: str = "schema") -> list[SchemaFile]:
    """The schema files of ``chat/server/storage/<directory>``, by version: for a dialect's
    directory under ``schema/``, the shared files with the dialect's versions in their place."""
    files = _read("schema")
    if directory != "schema":
        for version, own in _read(directory).items():
            shared = files.get(version)
            if shared is not None and shared.name != own.name:
                raise ValueError(f"{directory}/{own.name} replaces {shared.name}: "
                                 "a dialect's file keeps the shared file's name")
            files[version] = own
    return [files[v] for v in sorted(files)]


def statements(sql: str) -> list[str]:
    """Split a schema file into statements (files keep ``;`` out of strings and comments)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in sql.split(";") if s.strip()]


def apply(tx: Tx, files: list[SchemaFile], now: int) -> list[int]:
    """Apply the files not applied yet, in order, in this transaction; return their versions.

    Several servers may start at once on one database: the engine's migration lock lets one
    migrate while the others wait, and they then find every version applied."""
    tx.engine.lock_migrations(tx)
    tx.execute("CREATE TABLE IF NOT EXISTS schema_version ("
               "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)")
    done = {row[0] for row in tx.all("SELECT version FROM schema_version")}
    applied = []
    for f in files:
        if f.version in done:
            continue
        for statement in statements(f.sql):
            tx.execute(statement)
        tx.execute("INSERT INTO schema_version (version, name, applied) VALUES (?, ?, ?)",
                   (f.version, f.name, now))
        applied.append(f.version)
    return applied
