"""Versioned schema files and their application.

``schema/NNN_name.sql`` files are applied in version order; the ``schema_version`` table
records each one applied, so a restart applies nothing twice and a newer release migrates an
older database by shipping further files.
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


def schema_files(directory: str = "schema") -> list[SchemaFile]:
    """The schema files shipped in ``chat/server/storage/<directory>``, by version."""
    files = []
    for entry in resources.files(__package__).joinpath(directory).iterdir():
        match = _NAME.match(entry.name)
        if match:
            files.append(SchemaFile(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    files.sort()
    versions = [f.version for f in files]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two schema files share a version in {directory}: {versions}")
    return files


def statements(sql: str) -> list[str]:
    """Split a schema file into statements (files keep ``;`` out of strings and comments)."""
    sql = re.sub(r"--[^\n]*", "", sql)
    return [s.strip() for s in sql.split(";") if s.strip()]


def apply(tx: Tx, files: list[SchemaFile], now: int) -> list[int]:
    """Apply the files not applied yet, in order, in this transaction; return their versions."""
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
