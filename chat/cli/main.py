"""Entry points: ``chat-cli`` (also ``python -m chat.cli``) and ``chat-admin``.

Options are read and missing ones asked for before the reactor starts (a prompt may block
then); after that everything runs on the reactor: stdin and stdout through
``twisted.internet.stdio``, the server through the client core.
"""

import sys

from chat import __version__
from chat.cli.options import UsageError, settings_from

STOP_GRACE = 5.0
"""Seconds the last output may take to drain before the process stops anyway."""


def main(argv=None, admin_console: bool = False, prog: str = "chat-cli") -> int:
    interactive = sys.stdin.isatty()
    try:
        settings = settings_from(argv, prog, interactive, admin_console=admin_console)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        print(file=sys.stderr)
        return 130
    for stream in (sys.stdout, sys.stderr):
        if (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8", errors="replace")
    start_logging(settings.log, prog)
    return run(settings, prog)


def start_logging(path, prog: str) -> None:
    """The log goes to ``path`` if given; an unexpected error is also one line on stderr
    (a user should never see a traceback, but should know something went wrong)."""
    from twisted.logger import globalLogBeginner, textFileLogObserver

    def failures_to_stderr(event):
        failure = event.get("log_failure")
        if failure is not None:
            sys.stderr.write(f"{prog}: internal error: {failure.getErrorMessage()}"
                             f"{' (see ' + path + ')' if path else ''}\n")
            sys.stderr.flush()

    observers = [failures_to_stderr]
    if path:
        observers.append(textFileLogObserver(open(path, "a", encoding="utf-8")))
    globalLogBeginner.beginLoggingTo(observers, redirectStandardIO=False)


def run(settings, prog: str) -> int:
    from twisted.internet import endpoints, reactor, stdio

    from chat.cli.app import CliApp, LineInput
    from chat.client.core import ChatClient

    from chat.client.servers import ServerRotation

    tls = settings.tls_options() if hasattr(settings, "tls_options") else None

    def connector_for(host, port):
        if tls is not None:
            from chat.client.tls import tls_connector
            return tls_connector(reactor, host, port, tls, timeout=10)
        return endpoints.HostnameEndpoint(reactor, host, port, timeout=10).connect
    # one server or several nodes of one chat, tried in turn (chat.client.servers)
    connect = ServerRotation(settings.server_list(), connector_for)
    client = ChatClient(connect, reactor, client_name=f"{prog}/{__version__}")
    if sys.stdin.isatty() and sys.stdout.isatty():
        from chat.cli.tui import run_terminal     # full screen; a pipe keeps the lines below
        return run_terminal(settings, client, reactor)
    codes = []

    def stop():
        if reactor.running:
            reactor.stop()

    def finished(code):
        codes.append(code)
        terminal.loseConnection()          # stdout drains first, then connectionLost
        reactor.callLater(STOP_GRACE, stop)

    def write_err(line):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()

    inline = {"open": False}     # a progress line is on screen without its newline

    def out(line):
        if inline["open"]:
            terminal.write(b"\n")
            inline["open"] = False
        terminal.write((line + "\n").encode("utf-8"))

    def progress(line):
        # \r back to the start, \x1b[K clears what a longer line left
        terminal.write(("\r" + line + "\x1b[K").encode("utf-8"))
        inline["open"] = True

    app = CliApp(settings, client, reactor, err=write_err, on_exit=finished,
                 progress=progress if sys.stdout.isatty() else None)
    terminal = stdio.StandardIO(LineInput(app, on_closed=stop))
    app.out = out
    if getattr(settings, "password_typed", False):
        settings.ask_password = lambda: _ask_password_again(settings, terminal)
    reactor.callWhenRunning(app.start)
    reactor.callWhenRunning(catch_ctrl_c, reactor, app)
    reactor.run()
    return codes[0] if codes else 130


def _ask_password_again(settings, terminal):
    """The password typed again after a refusal (in a thread: getpass blocks; stdin is not
    read by the app meanwhile)."""
    import getpass

    from twisted.internet import threads

    from chat.cli.text import tr
    terminal.pauseProducing()
    d = threads.deferToThread(getpass.getpass, tr(settings.lang, "prompt_password") + ": ")

    def done(result):
        terminal.resumeProducing()
        return result
    return d.addBoth(done)


def catch_ctrl_c(reactor, app) -> None:
    """Ctrl-C goes to the app (goodbye, exit 130) instead of stopping the reactor, which
    would drop the link and make the client announce a reconnect. Installed once the
    reactor runs: the reactor installs its own handler when it starts."""
    import signal
    signal.signal(signal.SIGINT, lambda *_: reactor.callFromThread(app.interrupted))


def cli() -> None:
    sys.exit(main())


def admin() -> None:
    sys.exit(main(admin_console=True, prog="chat-admin"))
