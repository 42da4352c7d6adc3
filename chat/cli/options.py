"""Command line of ``chat-cli`` and ``chat-admin``, and asking for what it left out.

A person at a terminal is asked for the server address (default 127.0.0.1), the port
(default 5000), the user name and the password (hidden). A script (stdin not a terminal)
is never asked: it gets the defaults, and the password from ``--password-file`` or the
environment variable ``CHAT_PASSWORD``.
"""

import argparse
import getpass
import os
from dataclasses import dataclass
from typing import Optional

from chat.cli.text import LANGUAGES, default_language, tr

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
    p.add_argument("--host", help=f"server address [default: {DEFAULT_HOST}]")
    p.add_argument("--port", type=int, help=f"server port [default: {DEFAULT_PORT}]")
    p.add_argument("--user", help="user name")
    p.add_argument("--password-file", metavar="FILE",
                   help=f"read the password from the first line of FILE (or set {PASSWORD_ENV})")
    p.add_argument("--register", action="store_true", help="create the account first")
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

    host = args.host or asked("prompt_host", DEFAULT_HOST)
    port = args.port
    if port is None:
        raw = asked("prompt_port", str(DEFAULT_PORT))
        try:
            port = int(raw)
        except ValueError:
            raise UsageError(f"{prog}: error: bad port {raw!r}") from None
    if not 0 < port < 65536:
        raise UsageError(f"{prog}: error: bad port {port}")
    user = args.user or asked("prompt_user")
    if not user:
        raise UsageError(f"{prog}: error: no user name (use --user)")
    password = _password(args, environ)
    if password is None and interactive:
        password = ask_secret(tr(lang, "prompt_password") + ": ")
        if args.register and ask_secret(tr(lang, "prompt_password_again") + ": ") != password:
            raise UsageError(f"{prog}: error: " + tr(lang, "passwords_differ"))
    if not password:
        raise UsageError(f"{prog}: error: no password (use --password-file or {PASSWORD_ENV})")
    if args.wait < 0:
        raise UsageError(f"{prog}: error: --wait must not be negative")
    if not args.tls and (args.ca_file or args.system_ca or args.known_servers):
        raise UsageError(f"{prog}: error: --ca-file, --system-ca and --known-servers need --tls")
    if args.ca_file and args.system_ca:
        raise UsageError(f"{prog}: error: use either --ca-file or --system-ca")
    return Settings(host, port, user, password, args.register, lang, args.wait, admin_console,
                    args.log, tls=args.tls, ca_file=args.ca_file, system_ca=args.system_ca,
                    known_servers=args.known_servers, no_color=args.no_color)


def _password(args, environ) -> Optional[str]:
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                return f.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"cannot read the password file: {exc.strerror}") from None
    return environ.get(PASSWORD_ENV) or None
