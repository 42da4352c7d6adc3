"""Command line of ``chat-cli`` and ``chat-admin``, and asking for what it left out.

A person at a terminal is asked only for what has no default: the user name and the password
(hidden; a new one is checked for its length before it is typed again). The server address
(default 127.0.0.1) and port (default 5000) are asked for only on a first start with no
option at all; after a good login the server is remembered for the next start
(``~/.config/chat/last_server``). ``--host`` may name several nodes of one chat
(``a,b:5001,[::1]``, ``--port`` the port of an entry without one): they are tried in turn on
every connect and reconnect (chat.client.servers). A script (stdin not a terminal)
is never asked: it gets the defaults, and the password from ``--password-file`` or the
environment variable ``CHAT_PASSWORD``.
"""

import argparse
import getpass
import os
from dataclasses import dataclass
from typing import Callable, Optional

from chat.cli.text import LANGUAGES, default_language, tr
from chat.client.servers import BadServerList, format_servers, parse_servers
from chat.protocol.names import PASSWORD_MIN

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEFAULT_WAIT = 30.0
PASSWORD_ENV = "CHAT_PASSWORD"


class UsageError(Exception):
    """Bad or missing options: one line for stderr, exit status 2."""


@dataclass
class Settings:
    host: str
    port: int
    user: str
    password: str
    register: bool
    lang: str
    wait: float
    admin_console: bool
    log: Optional[str] = None
    tls: bool = False
    ca_file: Optional[str] = None
    system_ca: bool = False
    known_servers: Optional[str] = None
    no_color: bool = False
    remember: Optional[Callable] = None    # saves the server after a good login (a thread)
    password_typed: bool = False           # asked at the terminal (so it may be asked again)
    guest: bool = False                    # --guest: no account, no password
    ask_password: Optional[Callable] = None   # () -> the password typed again (or Deferred)
    servers: Optional[list] = None         # every node (chat.client.servers.Server), in turn;
    # host and port are the first one's

    def server_list(self) -> list:
        """The servers to try in turn (the one of ``host`` and ``port`` if no list)."""
        if self.servers:
            return list(self.servers)
        from chat.client.servers import Server
        return [Server(self.host, self.port)]

    def tls_options(self):
        """The client core's TLSOptions, or None for plain TCP."""
        if not self.tls:
            return None
        from chat.client.tls import TLSOptions
        return TLSOptions(ca_file=self.ca_file, system_ca=self.system_ca,
                          known_servers=self.known_servers)


def parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog, description="Terminal chat client. Lines you type go to the current room; "
        "/help lists the commands.")
    p.add_argument("--host", help="server address, or several nodes of one chat as "
                   "host[:port],host[:port],... tried in turn when one does not answer "
                   f"[default: {DEFAULT_HOST}]")
    p.add_argument("--port", type=int, help="server port (of every --host entry without "
                   f"one) [default: {DEFAULT_PORT}]")
    p.add_argument("--user", help="user name")
    p.add_argument("--password-file", metavar="FILE",
                   help=f"read the password from the first line of FILE (or set {PASSWORD_ENV})")
    p.add_argument("--register", action="store_true", help="create the account first")
    p.add_argument("--guest", action="store_true",
                   help="chat as a guest under --user, without an account or password (a "
                        "server started with --allow-guests)")
    p.add_argument("--lang", choices=LANGUAGES, help="language: zh or en [default: from the locale]")
    p.add_argument("--wait", type=float, default=DEFAULT_WAIT, metavar="SECONDS",
                   help="at the end of piped input, how long to wait for the server to "
                        f"acknowledge what was sent [default: {DEFAULT_WAIT:.0f}]")
    p.add_argument("--tls", action="store_true",
                   help="connect with TLS (the server listens with --port ssl:...); without "
                        "--ca-file or --system-ca the server's certificate is pinned on first "
                        "use, like SSH")
    p.add_argument("--ca-file", metavar="FILE",
                   help="with --tls: verify the server's certificate against the CA "
                        "certificates in FILE (PEM) instead of pinning it")
    p.add_argument("--system-ca", action="store_true",
                   help="with --tls: verify the server's certificate against the system's "
                        "certificate authorities instead of pinning it")
    p.add_argument("--known-servers", metavar="FILE",
                   help="with --tls: where pinned certificates are kept "
                        "[default: ~/.config/chat/known_servers]")
    p.add_argument("--no-color", action="store_true",
                   help="no colours in the terminal (so does the NO_COLOR variable)")
    p.add_argument("--log", metavar="FILE", help="write the client's log to FILE (for "
                   "bug reports); without it only internal errors are shown, in one line")
    return p


def settings_from(argv, prog: str, interactive: bool, ask=input, ask_secret=getpass.getpass,
                  environ=os.environ, admin_console: bool = False) -> Settings:
    """Parse ``argv`` and ask for what is missing (only when ``interactive``)."""
    args = parser(prog).parse_args(argv)
    lang = args.lang or default_language()

    def asked(key, default=None, **params):
        if not interactive:
            return default
        shown = tr(lang, key, **params)
        answer = ask(f"{shown} [{default}]: " if default is not None else f"{shown}: ").strip()
        return answer or default

    # the server is asked for only on a first start with nothing given: --host, --port,
    # --user or a server saved by an earlier session (interactive only) mean the defaults do
    saved = read_last_server(environ) if interactive else None
    if saved is not None and args.host is None and args.port is None:
        host, port = saved
        args.tls = args.tls or saved_tls(environ)
    else:
        host, port = args.host, args.port
    ask_server = interactive and args.host is None and args.port is None and not args.user \
        and saved is None
    if host is None:
        host = asked("prompt_host", DEFAULT_HOST) if ask_server else DEFAULT_HOST
    if port is None:
        raw = asked("prompt_port", str(DEFAULT_PORT)) if ask_server else str(DEFAULT_PORT)
        try:
            port = int(raw)
        except ValueError:
            raise UsageError(f"{prog}: error: bad port {raw!r}") from None
    if not 0 < port < 65536:
        raise UsageError(f"{prog}: error: bad port {port}")
    try:
        servers = parse_servers(host, port)
    except BadServerList as error:
        raise UsageError(f"{prog}: error: --host: {error}") from None
    host, port = servers[0]
    user = args.user or asked("prompt_user")
    if not user:
        raise UsageError(f"{prog}: error: no user name (use --user)")
    if args.guest and args.register:
        raise UsageError(f"{prog}: error: use either --guest or --register")
    password = "" if args.guest else _password(args, environ)
    if password is None and interactive:
        password = ask_secret(tr(lang, "prompt_password") + ": ")
        tries = 1
        while args.register and len(password) < PASSWORD_MIN:
            # said before it is typed a second time (the server would refuse it anyway)
            if tries == 3:
                raise UsageError(f"{prog}: error: " + tr(lang, "password_short", n=PASSWORD_MIN))
            password = ask_secret(tr(lang, "password_short", n=PASSWORD_MIN) + " "
                                  + tr(lang, "prompt_password") + ": ")
            tries += 1
        if args.register and ask_secret(tr(lang, "prompt_password_again") + ": ") != password:
            raise UsageError(f"{prog}: error: " + tr(lang, "passwords_differ"))
    if not password and not args.guest:
        raise UsageError(f"{prog}: error: no password (use --password-file or {PASSWORD_ENV})")
    if args.wait < 0:
        raise UsageError(f"{prog}: error: --wait must not be negative")
    if not args.tls and (args.ca_file or args.system_ca or args.known_servers):
        raise UsageError(f"{prog}: error: --ca-file, --system-ca and --known-servers need --tls")
    if args.ca_file and args.system_ca:
        raise UsageError(f"{prog}: error: use either --ca-file or --system-ca")
    settings = Settings(host, port, user, password, args.register, lang, args.wait,
                        admin_console, args.log, tls=args.tls, ca_file=args.ca_file,
                        system_ca=args.system_ca, known_servers=args.known_servers,
                        no_color=args.no_color)
    settings.servers = servers
    settings.guest = bool(args.guest)
    settings.password_typed = interactive and not args.guest and _password(args, environ) is None
    path = last_server_path(environ)
    if interactive and path is not None:
        # several nodes are saved as the list, read back by parse_servers
        saved_host = host if len(servers) == 1 else format_servers(servers)
        settings.remember = lambda: write_last_server(path, saved_host, port, args.tls)
    return settings


def last_server_path(environ) -> Optional[str]:
    """``$XDG_CONFIG_HOME/chat/last_server`` (``~/.config/chat/last_server``), None without
    a home."""
    base = environ.get("XDG_CONFIG_HOME") or (
        os.path.join(environ["HOME"], ".config") if environ.get("HOME") else None)
    return os.path.join(base, "chat", "last_server") if base else None


def _read_saved(environ):
    path = last_server_path(environ)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            words = f.readline().split()
        host, port = words[0], int(words[1])
    except (OSError, ValueError, IndexError):
        return None                  # none yet, or not ours: ask as on a first start
    if not 0 < port < 65536:
        return None
    return host, port, "tls" in words[2:]


def read_last_server(environ):
    """``(host, port)`` of the server the last interactive session logged in to, or None."""
    saved = _read_saved(environ)
    return saved[:2] if saved else None


def saved_tls(environ) -> bool:
    saved = _read_saved(environ)
    return bool(saved and saved[2])


def write_last_server(path: str, host: str, port: int, tls: bool) -> None:
    """Remember the server of a good login (a line ``host port [tls]``). Blocking: a thread."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".new", "w", encoding="utf-8") as f:
        f.write(f"{host} {port}{' tls' if tls else ''}\n")
    os.replace(path + ".new", path)


def _password(args, environ) -> Optional[str]:
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"cannot read the password file: {exc.strerror}") from None
    return environ.get(PASSWORD_ENV) or None
