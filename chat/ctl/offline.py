"""``chatctl`` on a stopped server's data directory: the server's own code, in this process.

A :class:`~chat.server.core.ChatServer` is started on the data directory's database (no
port is opened), the command runs through the same
:class:`~chat.server.control.ControlOperations` as over the control socket, and the server is
stopped again. The data directory's lock is held all the while, so a server started meanwhile
refuses to start instead of writing the same database behind our back.
"""

import os

from twisted.internet import defer

from chat.ctl.wire import ControlError, DataDirHeld
from chat.server.control import ControlOperations, DataDirBusy, lock_data_dir
from chat.server.private import make_private_dirs, use_private_umask

DB_NAME = "chat_server.db"       # as chat.server.tap names it
FILES_DIR = "files"


def database_path(data_dir: str, db=None) -> str:
    return os.path.abspath(db or os.path.join(data_dir, DB_NAME))


def _used(data_dir: str) -> bool:
    """Whether ``data_dir`` holds anything (a server has run there)."""
    try:
        return bool(os.listdir(data_dir))
    except OSError:
        return False


def hold_data_dir(data_dir: str, db, create: bool = False, postgresql: bool = False):
    """Take the stopped server's data directory (synchronously, before the reactor runs):
    returns ``(lock, database path)``. ``create``: make the data directory if missing
    (adduser on a new server), else refuse a directory no server has used. Raises
    :class:`DataDirHeld` if a live process holds it, :class:`ControlError` otherwise.
    ``postgresql``: the server keeps its state in PostgreSQL (``--database``): no SQLite
    file is looked for or made, and the path returned is None."""
    use_private_umask()
    if postgresql:
        if not os.path.isdir(data_dir):
            if not create:
                raise ControlError(f"no server has run on {data_dir} yet: check --data-dir")
            try:
                make_private_dirs(data_dir)
            except OSError as error:
                raise ControlError(f"cannot create {error.filename}: "
                                   f"{error.strerror}") from None
        db_path = None
    else:
        db_path = database_path(data_dir, db)
    if db_path is not None and not os.path.exists(db_path):
        if not create:
            raise ControlError(f"no server has run on {data_dir} yet (there is no "
                               f"{db_path}): check --data-dir (a --lite server has no "
                               "control socket)")
        if db is None and _used(data_dir):
            # a server ran here without this file: its database is elsewhere (--db, or
            # --database postgresql://...); a new SQLite file here would be a second one
            raise ControlError(
                f"{data_dir} has no {DB_NAME} but is not new: if the server keeps its data "
                "elsewhere, give chatctl the same --db FILE or --database URL")
        try:
            make_private_dirs(data_dir)
            make_private_dirs(os.path.dirname(db_path))
        except OSError as error:
            raise ControlError(f"cannot create {error.filename}: {error.strerror}") from None
    try:
        lock = lock_data_dir(data_dir)
    except DataDirBusy as error:
        raise DataDirHeld(f"{error}, and its control socket does not answer") from None
    except OSError as error:
        raise ControlError(f"cannot lock {data_dir}: {error.strerror}") from None
    return lock, db_path


@defer.inlineCallbacks
def run_offline(reactor, data_dir: str, lock, db_path: str, command: str, args: dict,
                database=None, password=None):
    """Fires with the command's result; fails with :class:`ControlError`. Lets go of
    ``lock`` (from :func:`hold_data_dir`) at the end. ``database``: a PostgreSQL URL (and
    its ``password``, None for PGPASSWORD) instead of the SQLite file ``db_path``."""
    from chat.server.core import ChatServer, ServerConfig
    from chat.server.passwords import PasswordHasher
    from chat.server.storage import StorageError
    from chat.server.storage.sqlite import SQLiteStorage

    try:
        if database is not None:
            from chat.server.storage.postgresql import PostgreSQLStorage
            try:
                storage = PostgreSQLStorage(database, password)
            except Exception as error:      # a password in it, or libpq cannot read it
                raise ControlError(f"--database: {str(error).strip()}") from None
            db_path = storage.describe()     # how the messages below name it
        else:
            storage = SQLiteStorage(db_path)
        try:
            storage.preflight()
        except StorageError as error:
            raise ControlError(f"cannot use the database {error}") from None
        config = ServerConfig(files_dir=os.path.join(data_dir, FILES_DIR))
        # nobody logs in here: no dummy hash to make (it would cost a second argon2 run)
        server = ChatServer(config, storage, PasswordHasher(concurrency=1, logins=False), reactor)
        try:
            yield server.start()
        except StorageError as error:
            raise ControlError(f"cannot use the database {db_path}: {error}") from None
        try:
            operations = ControlOperations(server, running=False,
                                           db_path=None if database else db_path)
            result = yield operations.run(command, args)
        finally:
            yield server.stop()
    finally:
        lock.unlock()
    return result
