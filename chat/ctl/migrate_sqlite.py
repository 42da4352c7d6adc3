"""``chatctl migrate-sqlite FILE --database URL``: a SQLite server's data into PostgreSQL.

Run with the server stopped (the copy is what the file holds when it starts), into a new,
empty database; then start the server with the same ``--database``. The password comes from
``--database-password-file``, ``PGPASSWORD`` or ``~/.pgpass``, never from the command line.
"""

import os

from chat.ctl.wire import ControlError


def add_parser(command) -> None:
    """The subcommand's arguments (``command`` makes a subparser, as in chat.ctl.main)."""
    sub = command("migrate-sqlite", "Copy a stopped server's SQLite database FILE into an "
                                    "empty PostgreSQL database (then start the server with "
                                    "--database URL).")
    sub.add_argument("file", help="the SQLite file, e.g. chat-data/chat_server.db")
    sub.add_argument("--database", required=True, metavar="URL",
                     help="postgresql://user@host:port/dbname (no password in it)")
    sub.add_argument("--database-password-file", metavar="FILE",
                     help="a file whose first line is the password [default: PGPASSWORD "
                          "or ~/.pgpass]")


def read_password_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")
    except OSError as error:
        raise ControlError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ControlError(f"{path} is not UTF-8") from None
    if not password:
        raise ControlError(f"{path}: its first line is empty")
    return password


def run(options) -> dict:
    """Runs the copy here and now (no server involved); returns what render() prints."""
    from chat.server.storage.engine import PostgreSQLEngine
    from chat.server.storage.sqlite_to_postgresql import MigrationError, copy

    if not os.path.isfile(options.file):
        raise ControlError(f"{options.file} is not a file")
    password = None
    if options.database_password_file is not None:
        password = read_password_file(options.database_password_file)
    if not options.database.startswith(("postgresql://", "postgres://")):
        raise ControlError(f"--database {options.database!r} is not a "
                           "postgresql://user@host:port/dbname URL")
    try:
        engine = PostgreSQLEngine(options.database, password)
    except ValueError as error:
        raise ControlError(f"--database: {error}") from None
    except Exception as error:         # psycopg2's ProgrammingError: not a URL libpq reads
        reason = str(error).strip().replace(options.database, "the URL")
        raise ControlError(f"--database is not a valid URL: {reason}") from None
    try:
        counts = copy(options.file, engine)
    except MigrationError as error:
        raise ControlError(str(error)) from None
    return {"file": options.file, "database": engine.describe(), "rows": counts}


def render(result: dict) -> list[str]:
    rows = result["rows"]
    return [f"copied {result['file']} into the {result['database']}: " +
            ", ".join(f"{n} {table}" for table, n in rows.items())]
