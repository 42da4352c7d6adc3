"""``twistd chatserver``: command-line options and the service tree.

Bad option values end the program with one line on stderr and exit status 1 (twistd itself
would print its whole usage text), so a typo in a service file is easy to spot in its log.
"""

import os
import re
import socket
import sys

from twisted.application import service
from twisted.internet import error
from twisted.logger import Logger
from twisted.python import usage

from chat.protocol.errors import ProtocolError
from chat.protocol.names import normalise_name
from chat.server.core import GiB, MiB, ChatServer, ServerConfig, admin_keys
from chat.server.limit_options import (
    LIMIT_FLAGS, LIMIT_PARAMETERS, apply_limit_options, check_limit_options)
from chat.server.passwords import DEFAULT_MEMORY_KIB, DEFAULT_TIME_COST, PasswordHasher
from chat.server.storage import StorageError
from chat.server.certs import server_endpoint
from chat.server.private import make_private_dirs, use_private_umask, wider_than_private
from chat.server.collector import freeze_startup_objects

DEFAULT_PORT = "tcp:5000"
DB_NAME = "chat_server.db"
FILES_DIR = "files"
LITE_HISTORY = 1000
_SIZE = re.compile(r"^\s*(\d+)\s*([KMG]?)(?:i?B)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": MiB, "G": GiB}


def parse_size(text: str) -> int:
    """``100M`` -> 104857600: plain bytes, or K, M, G (binary: 1K = 1024 bytes)."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a size (bytes, or with K, M or G: 100M, 2G)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def parse_seconds(text: str) -> float:
    """``"90"`` or ``"0.5"`` -> seconds, > 0 and finite; ValueError worded for the user."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")      # worded below like every other bad value
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{text!r} is not a positive number of seconds")
    return value


_NOT_IN_IRC_NAMES = re.compile(r"[\s,!@*?:\x00]+")


def irc_word(name: str) -> str:
    """``"Our School"`` -> ``"Our-School"``: a name usable as an IRC server name."""
    return _NOT_IN_IRC_NAMES.sub("-", name).strip("-")


class Options(usage.Options):
    """Options of ``twistd chatserver``."""

    synopsis = "[options]"
    longdesc = ("Runs the chat server. Example: twistd -n chatserver --port tcp:5000 "
                "--data-dir ./chat-data --admin alice")

    optFlags = [
        ["lite", None, "A pure relay: no database, no message log, everything in memory."],
        ["allow-monitoring", None, "Let admins watch every message live (clients are told)."],
        ["allow-guests", None, "Let people chat under a free name without an account "
         "(guests cannot send files, set an avatar or keep their name)."],
        ["make-cert", None, "Write a self-signed TLS key and certificate to <data-dir>/tls/, "
         "print its fingerprint and the --port ssl:... to listen with, and exit."],
    ]
    optParameters = [
        ["data-dir", "d", "chat-data", "Directory for the database (created if missing)."],
        ["db", None, None, "SQLite database file [default: <data-dir>/chat_server.db]."],
        ["database", None, None,
         "Keep the server's state in PostgreSQL instead of SQLite: "
         "postgresql://user@host:port/dbname (no password in it: PGPASSWORD, ~/.pgpass or "
         "--database-password-file)."],
        ["database-password-file", None, None,
         "--database: a file whose first line is the PostgreSQL password."],
        ["node", None, None,
         "With --database: this process is the node NAME of several on one database, "
         "which behave as one server (messages, presence, rooms and sessions shared; see "
         "docs/DEPLOY.md). Each node has its own name and --data-dir."],
        ["name", None, socket.gethostname(), "Server name shown to clients."],
        ["hash-time", None, DEFAULT_TIME_COST, "argon2id time cost of password hashes.", int],
        ["hash-memory", None, DEFAULT_MEMORY_KIB, "argon2id memory cost in KiB.", int],
        ["max-file-size", None, "100M",
         "Largest file a user may send (bytes, or 500K, 100M, 2G)."],
        ["quota", None, "1G",
         "Per user: the total size of the files they have sent (same syntax)."],
        ["partial-ttl", None, "86400",
         "Seconds after which an upload that made no progress is deleted."],
        ["file-ttl", None, None,
         "--lite only: seconds a file is kept at most (it goes earlier once every recipient "
         "has it) [default: 3600]."],
        ["cert-names", None, None,
         "--make-cert: more host names or IP addresses for the certificate, comma-separated "
         "(host1,10.0.0.5) [always: this host's name, localhost, 127.0.0.1]."],
        ["irc-server-name", None, None,
         "The server's name on IRC (001, NETWORK, message sources) [default: --name]."],
        ["metrics", None, None,
         "Serve Prometheus metrics at /metrics and a health check at /health on this "
         "endpoint, e.g. tcp:9100:interface=127.0.0.1 (plain HTTP: keep it off the public "
         "network) [default: off]."],
    ]

    # limits and sizes: chat.server.limit_options
    optFlags = optFlags + LIMIT_FLAGS
    optParameters = optParameters + LIMIT_PARAMETERS

    def __init__(self):
        super().__init__()
        self["port"] = []
        self["irc-port"] = []
        self["admin"] = []
        self["web-port"] = []
        self["web-origin"] = []
        self["web-trusted-proxy"] = []

    def opt_port(self, description):
        """Listen on this Twisted endpoint, e.g. tcp:5000 or
        tcp:5000:interface=127.0.0.1, or TLS (1.2 or newer):
        ssl:5443:privateKey=key.pem:certKey=cert.pem (see --make-cert); repeat to listen
        on several [default: tcp:5000]."""
        self["port"].append(description)

    opt_port.__doc__ = " ".join(opt_port.__doc__.split())   # one paragraph in --help
    opt_p = opt_port

    def opt_irc_port(self, description):
        """Also serve IRC clients on this endpoint (tcp:6667, or ssl:6697:privateKey=...
        as for --port); repeat to listen on several [default: no IRC]."""
        self["irc-port"].append(description)

    opt_irc_port.__doc__ = " ".join(opt_irc_port.__doc__.split())

    def opt_web_port(self, description):
        """Serve the browser client and its WebSocket (/ws) on this endpoint, e.g.
        tcp:8080 or ssl:8443:privateKey=key.pem:certKey=cert.pem (the same forms as
        --port); repeat for several [default: none]."""
        self["web-port"].append(description)

    opt_web_port.__doc__ = " ".join(opt_web_port.__doc__.split())

    def opt_web_origin(self, origin):
        """Also let pages of this origin open the WebSocket, e.g.
        https://chat.example.org (the server's own origin always may); repeatable."""
        self["web-origin"].append(origin)

    opt_web_origin.__doc__ = " ".join(opt_web_origin.__doc__.split())

    def opt_web_trusted_proxy(self, address):
        """A reverse proxy in front of --web-port (an address or network, e.g. 127.0.0.1
        or 10.0.0.0/8) whose X-Forwarded-For names the client for the per-address limits
        and the admin's session list; repeatable [default: none, the header is ignored]."""
        self["web-trusted-proxy"].append(address)

    opt_web_trusted_proxy.__doc__ = " ".join(opt_web_trusted_proxy.__doc__.split())

    def opt_admin(self, name):
        """Give this account (existing or future) the admin role; may be repeated."""
        self["admin"].append(name)

    def _check_tls_ports(self):
        """An ``ssl:`` port: its key and certificate load, and TLS 1.2 is the minimum."""
        for flag in ("port", "irc-port", "web-port"):
            for description in self[flag]:
                if not description.lstrip().lower().startswith("ssl:"):
                    continue
                try:
                    server_endpoint(None, description)
                except Exception as error:
                    detail = getattr(error, "strerror", None) or str(error) \
                        or type(error).__name__
                    if error.args and isinstance(error.args[0], list):   # OpenSSL's errors
                        detail = "cannot load the key or certificate: " + ", ".join(
                            str(r[-1]) for r in error.args[0] if r)
                    raise usage.UsageError(f"bad --{flag} {description!r}: {detail}") from None

    def parseOptions(self, options=None):
        try:
            super().parseOptions(options)
        except usage.UsageError as error:
            raise SystemExit(f"chatserver: error: {error}") from None

    def postOptions(self):
        if self["make-cert"]:
            make_cert(self)          # exits
        if not self["port"]:
            self["port"] = [DEFAULT_PORT]
        self._check_tls_ports()
        for flag in ("port", "irc-port", "web-port"):
            for description in self[flag]:
                try:
                    server_endpoint(None, description)  # parse only; nothing listens
                except (ValueError, TypeError, KeyError, OSError) as error:
                    raise usage.UsageError(f"bad --{flag} {description!r}: {error}") from None
        from chat.server.web.origins import normalise_origin
        try:
            self["web-origin"] = [normalise_origin(o) for o in self["web-origin"]]
        except ValueError as error:
            raise usage.UsageError(f"bad --web-origin: {error}") from None
        from chat.server.web.proxies import parse_network
        try:
            self["web-trusted-proxy"] = [str(parse_network(a)) for a in self["web-trusted-proxy"]]
        except ValueError as error:
            raise usage.UsageError(f"bad --web-trusted-proxy: {error}") from None
        if self["irc-server-name"] is None:
            # --name may be "Our School" or 我们的学校: one ASCII word on IRC (a host name)
            word = irc_word(self["name"])
            self["irc-server-name"] = word if word and word.isascii() else "chat"
        elif irc_word(self["irc-server-name"]) != self["irc-server-name"] \
                or not self["irc-server-name"].isascii():
            raise usage.UsageError("--irc-server-name must be one ASCII word without spaces "
                                   "or ',!@*?:' (such as irc.example.org)")
        try:
            self["admin"] = [normalise_name(name) for name in self["admin"]]
        except ProtocolError as error:
            raise usage.UsageError(f"bad --admin: {error.message}") from None
        if self["hash-time"] < 1 or self["hash-memory"] < 8:
            raise usage.UsageError("--hash-time must be >= 1 and --hash-memory >= 8 (KiB)")
        check_limit_options(self)
        for name, parse in (("max-file-size", parse_size), ("quota", parse_size),
                            ("partial-ttl", parse_seconds), ("file-ttl", parse_seconds)):
            if self[name] is not None and not isinstance(self[name], (int, float)):
                try:
                    self[name] = parse(self[name])
                except ValueError as error:
                    raise usage.UsageError(f"bad --{name}: {error}") from None
        if self["file-ttl"] is not None and not self["lite"]:
            raise usage.UsageError("--file-ttl applies only with --lite (files are kept)")
        self._check_database()
        if self["lite"]:
            return
        data_dir = self["data-dir"]
        if os.path.exists(data_dir) and not os.path.isdir(data_dir):
            raise usage.UsageError(f"--data-dir {data_dir!r} is not a directory")
        if self["db"] is None and self["database"] is None:
            self["db"] = os.path.join(data_dir, DB_NAME)
        try:
            make_private_dirs(data_dir)
            if self["db"] is not None:
                make_private_dirs(os.path.dirname(os.path.abspath(self["db"])))
        except OSError as error:
            raise usage.UsageError(f"cannot create {error.filename!r}: {error.strerror}") from None
        if self["db"] is not None and os.path.isdir(self["db"]):
            raise usage.UsageError(f"--db {self['db']!r} is a directory")

    def _check_database(self):
        """--database: a PostgreSQL URL without a password, the password read from its file;
        --node NAME only with it."""
        self["database-password"] = None
        url = self["database"]
        node = self["node"]
        if node is not None:
            if url is None:
                raise usage.UsageError("--node needs --database (the nodes share one "
                                       "PostgreSQL database)")
            if not re.fullmatch(r"[\w.-]{1,64}", node):
                raise usage.UsageError(f"--node {node!r}: a name of 1 to 64 letters, digits, "
                                       "'.', '-' or '_'")
        if url is None:
            if self["database-password-file"] is not None:
                raise usage.UsageError("--database-password-file needs --database")
            return
        if self["lite"] or self["db"] is not None:
            raise usage.UsageError("--database cannot go with " +
                                   ("--lite" if self["lite"] else "--db"))
        if not url.startswith(("postgresql://", "postgres://")):
            raise usage.UsageError(f"--database {url!r} is not a postgresql://user@host:port/"
                                   "dbname URL (SQLite, the default, takes --db FILE)")
        from chat.server.storage.engine import PostgreSQLEngine
        try:
            PostgreSQLEngine(url)
        except ValueError as error:
            raise usage.UsageError(f"--database: {error}") from None
        except Exception as error:     # psycopg2.ProgrammingError: libpq could not parse it
            reason = str(error).strip().replace(url, "the URL")
            raise usage.UsageError(f"--database {url!r} is not a valid URL: {reason}") from None
        path = self["database-password-file"]
        if path is not None:
            try:
                with open(path, encoding="utf-8") as f:
                    password = f.readline().rstrip("\r\n")
            except OSError as error:
                raise usage.UsageError(
                    f"cannot read --database-password-file {path!r}: {error.strerror}") from None
            except UnicodeDecodeError:
                raise usage.UsageError(f"--database-password-file {path!r} is not UTF-8") from None
            if not password:
                raise usage.UsageError(f"--database-password-file {path!r}: its first line is "
                                       "empty")
            self["database-password"] = password


def _log_writes_to(stream) -> bool:
    """Whether a file observer of the global log writes to the file ``stream`` is open on
    (twistd -n logs to the terminal it was started from)."""
    from twisted.logger import globalLogPublisher
    try:
        target = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    for observer in getattr(globalLogPublisher, "_observers", ()):
        out = getattr(observer, "_outFile", None)
        try:
            if out is not None and os.path.samestat(os.fstat(out.fileno()), target):
                return True
        except (AttributeError, OSError, ValueError):
            continue
    return False


class ChatService(service.MultiService):
    """Binds the ports, loads the server's state, then starts accepting connections."""

    log = Logger()

    def __init__(self, server, endpoint_descriptions, reactor, control_dir=None, db_path=None,
                 irc_descriptions=(), irc_server_name=None):
        super().__init__()
        self.server = server
        self.descriptions = endpoint_descriptions
        self.irc_descriptions = list(irc_descriptions)
        self.irc_server_name = irc_server_name or server.config.name
        self.reactor = reactor
        self.ports = []
        self.control_dir = control_dir   # the data dir: its lock and chatctl's control socket
        self.db_path = db_path
        self._lock = None
        self.web_descriptions = []       # --web-port: the browser client and /ws
        self.web_origins = []
        self.metrics_description = None  # --metrics: /metrics and /health
        self.ready = False               # the state is loaded and the ports accept
        self.web_trusted_proxies = []    # --web-trusted-proxy

    def privilegedStartService(self):
        # bind before dropping privileges and before the reactor runs, so that a port in use
        # is one clear line and exit status 1, not a traceback
        from chat.server.connection import ChatFactory
        try:
            self.server.storage.preflight()
        except StorageError as error:
            self._fail_at_start(f"cannot use the database {error}")
        if self.control_dir is not None:
            # first: a script that sees the port accept may run chatctl at once
            self._listen_control()
        native = ChatFactory(self.server)
        listeners = [(description, native) for description in self.descriptions]
        if self.irc_descriptions:
            from chat.server.irc.gateway import irc_factory
            irc = irc_factory(self.server, self.irc_server_name)
            listeners += [(description, irc) for description in self.irc_descriptions]
        listeners += self._web_doors()
        listeners += self._metrics_listener()
        for description, factory in listeners:
            endpoint = server_endpoint(self.reactor, description)
            result = []
            endpoint.listen(factory).addBoth(result.append)
            if not result or not hasattr(result[0], "getHost"):
                reason = result[0].getErrorMessage() if result else "did not bind"
                self._fail_at_start(f"cannot listen on {description}: {reason}")
            port = result[0]
            if factory is self._metrics_site:
                # answers from the start: "starting" is what a balancer must see until ready
                self.ports.append(port)
                continue
            if hasattr(port, "stopReading"):
                port.stopReading()  # connections wait in the backlog until the state is loaded
            self.ports.append(port)
        super().privilegedStartService()

    def _web_doors(self):
        """``(description, factory)`` of each ``--web-port``; the files are read once."""
        if not self.web_descriptions:
            return []
        from chat.server.web.site import make_site
        doors, files = [], None
        for description in self.web_descriptions:
            secure = description.lstrip().lower().startswith("ssl:")
            site = make_site(self.server, self.web_origins, secure, files,
                             self.web_trusted_proxies)
            files = site.resource.files
            doors.append((description, site))
        return doors

    _metrics_site = None

    def _metrics_listener(self):
        """``(description, site)`` of ``--metrics``, if it was given."""
        if self.metrics_description is None:
            return []
        from chat.server.metrics_site import metrics_site
        self._metrics_site = metrics_site(self.server.metrics, self.server,
                                          lambda: self.ready, self.reactor)
        return [(self.metrics_description, self._metrics_site)]

    def _listen_control(self):
        """Hold the data directory and open chatctl's socket in it (chat.server.control)."""
        from chat.server.control import (
            ControlOperations, DataDirBusy, listen_control, lock_data_dir)
        try:
            self._lock = lock_data_dir(self.control_dir)
        except DataDirBusy as error:
            self._fail_at_start(str(error))
        except OSError as error:
            self._fail_at_start(f"cannot lock {self.control_dir}: {error.strerror}")
        operations = ControlOperations(self.server, running=True, db_path=self.db_path)
        try:
            port = listen_control(self.reactor, self.control_dir, operations)
        except Exception as error:
            self._fail_at_start(f"cannot open the control socket in {self.control_dir}: {error}")
        if port is not None:
            port.stopReading()   # like the ports: chatctl waits until the state is loaded
            self.ports.append(port)
            self._control_path = port.getHost().name

    _control_path = None

    def _unlock(self):
        """Remove the control socket (the reactor may stop before the port's own clean-up
        runs) and let go of the data directory."""
        if self._control_path is not None:
            try:
                os.unlink(self._control_path)
            except OSError:
                pass
            self._control_path = None
        if self._lock is not None and self._lock.locked:
            self._lock.unlock()
        self._lock = None

    def _fail_at_start(self, reason: str):
        message = f"chatserver: error: {reason}"
        # twistd has pointed sys.stderr at the log by now; the terminal is __stderr__. Under
        # `twistd -n` the log is that terminal too: the line is then said once, not twice
        if not _log_writes_to(sys.__stderr__):
            self.log.critical(message)
        sys.__stderr__.write(message + "\n")
        sys.__stderr__.flush()
        for port in self.ports:
            port.stopListening()
        self._unlock()
        raise SystemExit(1)

    def startService(self):
        super().startService()
        d = self.server.start()
        d.addCallbacks(self._ready, self._failed)

    def _ready(self, _):
        # before the first connection: what start-up made lives as long as the server
        freeze_startup_objects()
        self.ready = True
        for port in self.ports:
            if hasattr(port, "startReading"):
                port.startReading()
            self.log.info("listening on {address}", address=port.getHost())

    def _failed(self, failure):
        self.log.failure("the chat server could not start: {reason}", failure,
                         reason=failure.getErrorMessage())
        self.reactor.stop()

    def stopService(self):
        super().stopService()
        self.ready = False
        for port in self.ports:
            port.stopListening()
        d = self.server.stop()
        d.addBoth(lambda result: (self._unlock(), result)[1])
        return d


def makeService(options):
    from twisted.internet import reactor

    # twistd opens its log and pid files after this: those are private too
    use_private_umask()
    if not options["lite"]:
        wide = wider_than_private(options["data-dir"],
                                  os.path.join(options["data-dir"], FILES_DIR),
                                  *[p for p in (options["db"], options["database-password-file"])
                                    if p is not None])
        if wide:
            Logger().warn(
                "the data directory is readable by other local users: {paths}; it holds "
                "private messages and password hashes: chmod -R go= {data_dir}",
                paths=", ".join(wide), data_dir=options["data-dir"])

    if options["lite"]:
        from chat.server.storage.memory import MemoryStorage
        storage = MemoryStorage(max_messages_per_conv=LITE_HISTORY)
    elif options["node"] is not None:
        from chat.server.cluster.storage import NodeStorage
        storage = NodeStorage(options["database"], options["node"], options["database-password"])
    elif options["database"] is not None:
        from chat.server.storage.postgresql import PostgreSQLStorage
        storage = PostgreSQLStorage(options["database"], options["database-password"])
    else:
        from chat.server.storage.sqlite import SQLiteStorage
        storage = SQLiteStorage(options["db"])
    config = ServerConfig(
        name=options["name"],
        admins=admin_keys(options["admin"]),
        message_log=not options["lite"],
        persistent=not options["lite"],
        monitoring=bool(options["allow-monitoring"]),   # twistd flags are 0/1; the wire says a boolean
        allow_guests=bool(options["allow-guests"]),
        # --lite: a temporary directory, made by the server and removed when it stops
        files_dir=None if options["lite"] else os.path.join(options["data-dir"], FILES_DIR),
        max_file_size=options["max-file-size"],
        quota=options["quota"],
        partial_ttl=options["partial-ttl"],
    )
    if options["file-ttl"] is not None:
        config.file_ttl = options["file-ttl"]
    apply_limit_options(options, config)
    hasher = PasswordHasher(options["hash-time"], options["hash-memory"])
    metrics = None
    if options["metrics"] is not None:
        from chat.server.metrics import PrometheusMetrics
        metrics = PrometheusMetrics(node=options["node"] or options["name"])
    server = ChatServer(config, storage, hasher, reactor, request_stop=reactor_stopper(reactor),
                        metrics=metrics, node=options["node"])
    irc = {"irc_descriptions": options["irc-port"],
           "irc_server_name": options["irc-server-name"]}
    if options["lite"]:
        chat_service = ChatService(server, options["port"], reactor, **irc)
    else:
        chat_service = ChatService(server, options["port"], reactor,
                                   control_dir=options["data-dir"], db_path=options["db"], **irc)
    chat_service.web_descriptions = options["web-port"]
    chat_service.web_origins = options["web-origin"]
    chat_service.metrics_description = options["metrics"]
    chat_service.web_trusted_proxies = options["web-trusted-proxy"]
    return chat_service


def reactor_stopper(reactor):
    """``request_stop`` for an admin's shutdown: stop the reactor, and twistd then stops the
    service, which says bye to every connection and saves their last-seen times."""
    def stop():
        try:
            reactor.stop()
        except error.ReactorNotRunning:
            pass  # stopping already (Ctrl-C, SIGTERM): nothing more to do
    return stop


def make_cert(options) -> None:
    """``--make-cert``: write ``<data-dir>/tls/key.pem`` and ``cert.pem``, print what to do
    with them, exit 0 (1 with one line on stderr if they exist already or cannot be made)."""
    from chat.server.certs import (
        TLS_DIR, default_names, make_certificate, parse_names, ssl_port_string)
    try:
        names = default_names()
        names += [n for n in parse_names(options["cert-names"]) if n not in names]
    except ValueError as error:
        raise usage.UsageError(f"bad --cert-names: {error}") from None
    folder = os.path.join(options["data-dir"], TLS_DIR)
    try:
        key_path, cert_path, fingerprint = make_certificate(folder, names)
    except FileExistsError as error:
        raise usage.UsageError(
            f"{error} exists already; remove key.pem and cert.pem from {folder} to make a "
            f"new certificate (clients that pinned the old one will refuse the new one)"
        ) from None
    except OSError as error:
        raise usage.UsageError(f"cannot write {error.filename!r}: {error.strerror}") from None
    print(f"wrote {key_path} (private key) and {cert_path} (certificate)")
    print(f"names: {', '.join(names)}")
    print(f"SHA-256 fingerprint: {fingerprint}")
    port_string = ssl_port_string(os.path.abspath(key_path), os.path.abspath(cert_path))
    print(f"listen with: --port {port_string}")
    sys.stdout.flush()
    raise SystemExit(0)
