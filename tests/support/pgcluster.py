"""A private PostgreSQL cluster for the tests, in a temporary directory.

``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as the ``postgres`` user
(``runuser``), who is given the directory. The server listens on a Unix socket in that
directory and on 127.0.0.1 (a free port), with ``fsync`` off (a test cluster need not survive
a power cut). One cluster serves a test module (started on first use: it takes seconds), each
test gets a database of its own (:meth:`PostgresCluster.new_database`), and the cluster is
stopped by its postmaster's pid at the module's end (:func:`stop_shared`, from a module's
``tearDownModule``) or at exit. The Debian package ``postgresql`` provides the binaries
(``make test`` installs it); without them the tests fail, they never skip.
"""

import atexit
import glob
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SUPERUSER = "postgres"
PASSWORD_USER = "chat_pw"       # a role that logs in over TCP with a password
PASSWORD = "secret pw "          # its password (a space at the end: files keep it)


def bin_dir() -> str:
    """The newest ``/usr/lib/postgresql/<version>/bin`` (Debian's layout), else PATH's."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        newest = max(found, key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
        return os.path.dirname(newest)
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL is not installed (no initdb): run `make test`, which "
                           "installs the Debian package postgresql")
    return os.path.dirname(os.path.realpath(initdb))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """One postmaster and its data directory; ``start()`` / ``stop()``."""

    def __init__(self, durable: bool = False):
        # durable: fsync and synchronous commit on, as a real server (bench/cluster.py)
        self.durable = durable
        self.root = None
        self.pid = None
        self.port = None
        self._names = itertools.count(1)
        self._scratch = None
        self.bin = bin_dir()
        self._as_root = os.geteuid() == 0

    def _run(self, *argv, **kwargs):
        command = [os.path.join(self.bin, argv[0]), *argv[1:]]
        if self._as_root:
            command = ["runuser", "-u", SUPERUSER, "--"] + command
        return subprocess.run(command, check=True, capture_output=True, text=True,
                              timeout=120, cwd=self.root, **kwargs)

    @property
    def data(self) -> str:
        return os.path.join(self.root, "data")

    def start(self) -> None:
        self.root = tempfile.mkdtemp(prefix="chat-pgtest-")
        if self._as_root:
            shutil.chown(self.root, SUPERUSER, SUPERUSER)
        try:
            self._run("initdb", "-D", self.data, "-U", SUPERUSER, "-E", "UTF8",
                      "--locale=C", "--no-sync", "--auth-local=trust",
                      "--auth-host=scram-sha-256")
            for attempt in range(3):      # a free port can be taken before the server binds
                self.port = _free_port()
                settings = (f"-c listen_addresses=127.0.0.1 -p {self.port} "
                            f"-c unix_socket_directories={self.root} "
                            "-c max_connections=200 -c shared_buffers=32MB")
                if not self.durable:
                    settings += (" -c fsync=off -c synchronous_commit=off "
                                 "-c full_page_writes=off")
                try:
                    self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.root, "log"),
                              "-w", "-t", "60", "-o", settings, "start")
                    break
                except subprocess.CalledProcessError:
                    if attempt == 2:
                        raise
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                self.pid = int(f.readline())
            self.execute(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD %s", (PASSWORD,))
        except BaseException as error:
            log = self.log_text()
            self.stop()
            if isinstance(error, subprocess.CalledProcessError):
                raise RuntimeError(f"PostgreSQL did not start: {error.stderr}\n{log}") from None
            raise

    def log_text(self) -> str:
        try:
            with open(os.path.join(self.root, "log")) as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def stop(self) -> None:
        """Stop the postmaster by its pid (fast shutdown, then SIGKILL) and remove it all."""
        if self.pid is not None:
            pid, self.pid = self.pid, None
            try:
                # "immediate" shutdown: the data is thrown away, no checkpoint is worth waiting for
                os.kill(pid, signal.SIGQUIT)
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and _alive(pid):
                    time.sleep(0.05)
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # -- connecting
    def dsn(self, dbname: str, user: str = SUPERUSER, schema: str = None) -> str:
        """Over the Unix socket (trusted: no password); in ``schema`` if given."""
        dsn = f"postgresql://{user}@/{dbname}?host={self.root}&port={self.port}"
        if schema is not None:
            dsn += f"&options=-csearch_path%3D{schema}"
        return dsn

    def tcp_dsn(self, dbname: str, user: str = PASSWORD_USER) -> str:
        """Over 127.0.0.1 (a password is needed)."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres"):
        import psycopg2
        conn = psycopg2.connect(host=self.root, port=self.port, user=SUPERUSER, dbname=dbname)
        conn.autocommit = True
        return conn

    def execute(self, sql: str, params=(), dbname: str = "postgres") -> list:
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.close()

    def new_database(self) -> str:
        """A new, empty database (owned by the password role too); returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name} OWNER {PASSWORD_USER}")
        return name

    def new_schema_dsn(self) -> str:
        """A DSN of a new, empty schema (the only one on its search path) in the cluster's
        scratch database: as clean as a new database, made in milliseconds rather than the
        half second a CREATE DATABASE takes, for suites that want one per test."""
        if self._scratch is None:
            self._scratch = self.new_database()
        name = f"s{next(self._names)}"
        self.execute(f"CREATE SCHEMA {name}", dbname=self._scratch)
        return self.dsn(self._scratch, schema=name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


_shared = None


def shared() -> PostgresCluster:
    """The module's cluster, started on first use."""
    global _shared
    if _shared is None:
        cluster = PostgresCluster()
        cluster.start()
        _shared = cluster
    return _shared


def stop_shared() -> None:
    """Stop the shared cluster (a module's tearDownModule; at exit otherwise)."""
    global _shared
    cluster, _shared = _shared, None
    if cluster is not None:
        cluster.stop()


atexit.register(stop_shared)
