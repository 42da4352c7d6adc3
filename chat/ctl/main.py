"""``chatctl``: administer a chat server from the machine it runs on.

    chatctl [--data-dir DIR] adduser NAME [--admin]   (password: prompt, or stdin's first line)
    chatctl passwd NAME | deluser NAME | users | rooms | stats
    chatctl ban NAME [REASON] | unban NAME | kick NAME [REASON] | notice TEXT
    chatctl backup FILE
    chatctl migrate-sqlite FILE --database postgresql://user@host/dbname

With a server running on the data directory, every command goes through its control socket
(``<data-dir>/control.sock``), so the server sees the change at once; with none, chatctl opens
the data directory itself. Success is exit status 0; any error is one line on stderr and exit
status 1 (never a traceback). Messages are in English: this is the server operator's tool,
like the server's own log.
"""

import argparse
import errno
import getpass
import json
import os
import socket
import sys
import time

from chat import __version__
from chat.ctl import wire
from chat.ctl.wire import ControlError

PROG = "chatctl"
DEFAULT_DATA_DIR = "chat-data"       # the server's default (chat.server.tap)
DEFAULT_TIMEOUT = 120.0


class UsageError(Exception):
    """A bad command line: one line on stderr, exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Administer a chat server on this machine: "
                     "through its control socket while it runs, on its data directory when "
                     "it is stopped.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument("-d", "--data-dir", default=DEFAULT_DATA_DIR,
                        help="the server's data directory [default: chat-data]")
    parser.add_argument("--db", default=None, help="the SQLite file, if the server was "
                        "started with --db (stopped server only) [default: <data-dir>/"
                        "chat_server.db]")
    parser.add_argument("--database", default=None, metavar="URL",
                        help="the PostgreSQL database, if the server was started with "
                        "--database (stopped server only; a running one is reached through "
                        "its socket)")
    parser.add_argument("--database-password-file", default=None, metavar="FILE",
                        help="with --database: a file whose first line is the password "
                        "[default: PGPASSWORD or ~/.pgpass]")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help="seconds to wait for a running server's reply [default: 120]")
    parser.add_argument("--json", action="store_true",
                        help="print the result as one line of JSON (for scripts)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name, help_text):
        return commands.add_parser(name, help=help_text, description=help_text)

    adduser = command("adduser", "Create an account (password from a prompt, or the first "
                                 "line of stdin when it is not a terminal).")
    adduser.add_argument("name")
    adduser.add_argument("--admin", action="store_true", help="give it the admin role")
    command("passwd", "Set an account's password (prompt or stdin).").add_argument("name")
    command("deluser", "Delete an account (its messages stay).").add_argument("name")
    command("users", "List the accounts.")
    command("rooms", "List the rooms.")
    for name, help_text in (("ban", "Ban an account and close its connections."),
                            ("kick", "Close an account's connections.")):
        sub = command(name, help_text)
        sub.add_argument("name")
        sub.add_argument("reason", nargs="*", help="shown to the user")
    command("unban", "Lift a ban.").add_argument("name")
    command("notice", "Send a notice to everyone online.").add_argument("text", nargs="+")
    command("stats", "Show the server's figures.")
    command("backup", "Write a consistent copy of the database to FILE (while the server "
                      "runs, too).").add_argument("file")
    from chat.ctl import migrate_sqlite    # runs here, not through the server
    migrate_sqlite.add_parser(command)
    return parser


# -- passwords
def read_password(name: str, stdin=None, prompt=getpass.getpass) -> str:
    """Twice from a prompt on a terminal; else the first line of stdin (without its end)."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = prompt(f"Password for {name}: ")
        if prompt("Again: ") != first:
            raise ControlError("the two passwords differ")
        password = first
    else:
        raw = stdin.buffer.readline()
        try:
            password = raw.decode("utf-8").rstrip("\n").rstrip("\r")
        except UnicodeDecodeError:
            raise ControlError("the password on stdin is not UTF-8") from None
    if not password:
        raise ControlError("no password given" + ("" if stdin.isatty() else
                           " (give it as the first line of stdin)"))
    return password


def request_of(options, stdin=None) -> tuple[str, dict]:
    """The wire command and arguments the command line asks for, checked as far as they can
    be here (names and passwords by the same rules as the server's)."""
    from chat.protocol.errors import ProtocolError
    from chat.protocol.names import check_operator_password, normalise_name
    command = options.command
    args = {}
    if hasattr(options, "name"):
        try:
            args["name"] = normalise_name(options.name)
        except ProtocolError as error:
            raise ControlError(f"bad user name {options.name!r}: {error.message}") from None
    if command in ("adduser", "passwd"):
        password = read_password(args["name"], stdin)
        try:
            args["password"] = check_operator_password(password)
        except ProtocolError as error:
            raise ControlError(error.message) from None
    if command == "adduser" and options.admin:
        args["admin"] = True
    if command in ("ban", "kick") and options.reason:
        args["reason"] = " ".join(options.reason)
    if command == "notice":
        args["text"] = " ".join(options.text)
    if command == "backup":
        args["path"] = os.path.abspath(options.file)
    return command, args


def short_password_warning(args: dict):
    """What to say when an operator sets a password shorter than registration allows (it is
    allowed: the operator decides), or None."""
    from chat.protocol.names import PASSWORD_MIN
    password = args.get("password")
    if password is None or len(password) >= PASSWORD_MIN:
        return None
    return (f"the password of {args['name']} has {len(password)} characters; registering "
            f"asks for at least {PASSWORD_MIN} (kept, as you set it)")


# -- talking to a running server
class NotRunning(Exception):
    """Nothing answers on the control socket: no server runs on the data directory."""


def call_running(data_dir: str, command: str, args: dict, timeout: float) -> dict:
    """Send one request over the control socket and return the reply's result.

    Raises :class:`NotRunning` if no server listens there (no socket, or a stale one)."""
    path = wire.socket_path(data_dir)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError):
            raise NotRunning() from None
        except PermissionError:
            raise ControlError(f"cannot open the control socket {path}: permission denied "
                               "(run chatctl as the user that runs the server)") from None
        except OSError as error:
            if error.errno in (errno.ENOTSOCK, errno.ENAMETOOLONG, errno.ENOTDIR):
                raise NotRunning() from None
            raise ControlError(f"cannot open the control socket {path}: "
                               f"{error.strerror}") from None
        try:
            sock.sendall(wire.encode_request(command, **args))
            reply = bytearray()
            while not reply.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
                if len(reply) > 64 * wire.MAX_LINE:
                    raise ControlError("the server's reply is too long")
        except socket.timeout:
            raise ControlError(f"the server did not answer within {timeout:g} s") from None
        except OSError as error:
            raise ControlError(f"the control connection failed: {error.strerror}") from None
        if not reply:
            raise ControlError("the server closed the control connection without a reply")
        return wire.decode_reply(bytes(reply))
    finally:
        sock.close()


def call_offline(data_dir: str, lock, db_path: str, command: str, args: dict,
                 database=None, password=None) -> dict:
    """Run the command on the stopped server's data directory (held: ``lock``), in this
    process, on the reactor (which runs once)."""
    from twisted.internet import task
    from twisted.logger import globalLogBeginner
    from chat.ctl.offline import run_offline

    # the server's log lines (accounts loaded, ...) are no output of chatctl's
    globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)
    outcome = {}

    def main(reactor):
        d = run_offline(reactor, data_dir, lock, db_path, command, args, database, password)
        d.addCallbacks(lambda result: outcome.setdefault("result", result),
                       lambda failure: outcome.setdefault("failure", failure))
        return d

    try:
        task.react(main)
    except SystemExit:
        pass
    if "failure" in outcome:
        outcome["failure"].raiseException()
    return outcome["result"]


HELD_WAIT = 5.0
"""Seconds to wait for the socket of a server that holds the data directory but does not
answer yet (it is starting: it takes the lock a moment before it listens)."""


def call(options, command: str, args: dict, sleep=time.sleep, clock=time.monotonic) -> dict:
    """Through the running server's socket, else on the data directory itself."""
    deadline = clock() + HELD_WAIT
    while True:
        try:
            return call_running(options.data_dir, command, args, options.timeout)
        except NotRunning:
            pass
        from chat.ctl.offline import hold_data_dir
        database = getattr(options, "database", None)
        password = None
        if database is not None and options.database_password_file is not None:
            from chat.ctl.migrate_sqlite import read_password_file
            password = read_password_file(options.database_password_file)
        try:
            lock, db_path = hold_data_dir(options.data_dir, options.db,
                                          create=command == "adduser",
                                          postgresql=database is not None)
        except wire.DataDirHeld:
            if clock() >= deadline:
                raise
            sleep(0.1)
            continue
        return call_offline(options.data_dir, lock, db_path, command, args, database, password)


# -- what is printed
def _table(rows) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _closed(n: int) -> str:
    return _count(n, "connection") + " closed"


def render(command: str, result: dict) -> list[str]:
    """The lines to print for a successful ``command``."""
    name = result.get("name")
    if command == "adduser":
        return [f"added {name}" + (" (admin)" if result.get("admin") else "")]
    if command == "passwd":
        return [f"changed the password of {name}"]
    if command == "deluser":
        return [f"deleted {name} ({_closed(result.get('closed', 0))})"]
    if command == "users":
        rows = []
        for user in result["users"]:
            flags = [f for f in ("admin", "guest") if user.get(f)]
            if user.get("banned"):
                reason = user.get("ban_reason")
                flags.append(f"banned: {reason}" if reason else "banned")
            seen = "online" if user.get("online") else \
                f"last seen {user['last_seen']}" if user.get("last_seen") else "never seen"
            rows.append((user["name"], seen, ", ".join(flags)))
        return _table(rows) or ["no accounts"]
    if command == "rooms":
        rows = [("#" + room["name"], _count(room["members"], "member"), f"{room['online']} online",
                 room.get("topic") or "") for room in result["rooms"]]
        return _table(rows) or ["no rooms"]
    if command == "ban":
        return [f"banned {name} ({_closed(result.get('closed', 0))})"]
    if command == "unban":
        return [f"unbanned {name}"]
    if command == "kick":
        return [f"kicked {name} ({_closed(result.get('closed', 0))})"]
    if command == "notice":
        n = result.get("delivered", 0)
        return [f"notice sent to {n} user{'' if n == 1 else 's'} online"]
    if command == "stats":
        order = ("name", "version", "running", "uptime", "accounts", "online", "guests",
                 "connections", "rooms", "last_message_id")
        keys = [k for k in order if k in result] + sorted(k for k in result if k not in order)
        return [f"{key}: {result[key]}" for key in keys]
    if command == "backup":
        return [f"wrote {result['path']} ({result['size']} bytes)"]
    if command == "migrate-sqlite":
        from chat.ctl import migrate_sqlite
        return migrate_sqlite.render(result)
    return [json.dumps(result, ensure_ascii=False)]


def main(argv=None, stdin=None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        try:
            options = parser.parse_args(argv)
        except UsageError as error:
            message = str(error)
            if "invalid choice" in message and "argument COMMAND" in message:
                given = message.split("invalid choice: ", 1)[1].split(" (", 1)[0]
                message = (f"unknown command {given} (commands: "
                           f"{', '.join(wire.COMMANDS)}; see chatctl --help)")
            raise ControlError(message) from None
        if options.command is None:
            raise ControlError(f"no command given (commands: {', '.join(wire.COMMANDS)}; "
                               "see chatctl --help)")
        if options.command == "migrate-sqlite":
            from chat.ctl import migrate_sqlite
            command, result = options.command, migrate_sqlite.run(options)
        else:
            command, args = request_of(options, stdin)
            short = short_password_warning(args)
            if short:
                print(f"{PROG}: warning: {short}", file=err)
            result = call(options, command, args)
    except ControlError as error:
        print(f"{PROG}: error: {error.message}", file=err)
        return 1
    except KeyboardInterrupt:
        print(file=err)
        return 130
    except Exception as error:      # never a traceback: one line, and what it was
        storage_error = getattr(sys.modules.get("chat.server.storage"), "StorageError", ())
        what = "the database failed" if isinstance(error, storage_error) else "internal error"
        print(f"{PROG}: error: {what}: {error or type(error).__name__}", file=err)
        return 1
    if options.json:
        print(json.dumps(result, ensure_ascii=False), file=out)
    else:
        for line in render(command, result):
            print(line, file=out)
    return 0


def cli() -> None:
    sys.exit(main())
