"""Run ``chat-cli`` (``python -m chat.cli``) as a child process driven through pipes.

Lines written to its stdin are what a user would type; every stdout and stderr line is kept
and can be waited for with a regular expression, from the reactor (works under trial and
pytest). Used by the end-to-end tests of the terminal client and the admin console.
"""

import re
import sys

from twisted.internet import defer, protocol, reactor as _global_reactor

from tests.support.server_process import child_env

PASSWORD = "correct horse"


class CliFailed(Exception):
    """The client did not show what was expected in time."""


class CliProcess(protocol.ProcessProtocol):
    """One chat-cli child; ``lines`` is its stdout, ``errors`` its stderr, line by line."""

    def __init__(self, name: str, reactor=None):
        self.name = name
        self.reactor = reactor or _global_reactor
        self.lines: list[str] = []
        self.errors: list[str] = []
        self.exited = defer.Deferred()
        self.exit_code = None
        self._partial = {1: b"", 2: b""}
        self._waiters: list = []   # (regex, stream, Deferred)

    @classmethod
    def spawn(cls, port: int, user: str, *args, password: str = PASSWORD, lang: str = "en",
              module: str = "chat.cli", reactor=None):
        self = cls(user, reactor)
        env = child_env()
        env["CHAT_PASSWORD"] = password
        argv = [sys.executable, "-m", module, "--host", "127.0.0.1", "--port", str(port),
                "--user", user, "--lang", lang, *args]
        if module == "chat.cli.admin":
            argv[1:3] = ["-c", "from chat.cli.main import admin; admin()"]
        self.argv = argv
        self.reactor.spawnProcess(self, sys.executable, argv, env=env)
        return self

    # -- driving
    def type(self, *lines: str) -> None:
        for line in lines:
            self.transport.write(line.encode("utf-8") + b"\n")

    def close_stdin(self) -> None:
        self.transport.closeStdin()

    def kill(self) -> None:
        if self.exit_code is None:
            try:
                self.transport.signalProcess("KILL")
            except Exception:
                pass

    def wait_for(self, pattern: str, timeout: float = 20, stream: int = 1) -> defer.Deferred:
        """Fires with the first line (from the start) matching ``pattern``."""
        regex = re.compile(pattern)
        for line in (self.lines if stream == 1 else self.errors):
            if regex.search(line):
                return defer.succeed(line)
        d = defer.Deferred()
        entry = (regex, stream, d)
        self._waiters.append(entry)

        def expire():
            if entry in self._waiters:
                self._waiters.remove(entry)
                d.errback(CliFailed(f"{self.name}: no line matching {pattern!r} within "
                                    f"{timeout} s\n{self.describe()}"))
        call = self.reactor.callLater(timeout, expire)
        d.addBoth(lambda r: (call.cancel() if call.active() else None, r)[1])
        return d

    def wait_exit(self, timeout: float = 30) -> defer.Deferred:
        """Fires with the exit code."""
        if self.exit_code is not None:
            return defer.succeed(self.exit_code)
        d = defer.Deferred()
        self.exited.addCallback(lambda code: (d.callback(code), code)[1])

        def expire():
            if not d.called:
                self.kill()
                d.errback(CliFailed(f"{self.name}: did not exit within {timeout} s\n"
                                    + self.describe()))
        call = self.reactor.callLater(timeout, expire)
        d.addBoth(lambda r: (call.cancel() if call.active() else None, r)[1])
        return d

    def describe(self) -> str:
        return (f"--- {self.name} stdout ---\n" + "\n".join(self.lines)
                + f"\n--- {self.name} stderr ---\n" + "\n".join(self.errors) + "\n--- end ---")

    # -- ProcessProtocol
    def childDataReceived(self, fd: int, data: bytes):
        if fd not in self._partial:
            return
        self._partial[fd] += data
        *complete, self._partial[fd] = self._partial[fd].split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            (self.lines if fd == 1 else self.errors).append(line)
            for entry in list(self._waiters):
                regex, stream, d = entry
                if stream == fd and regex.search(line):
                    self._waiters.remove(entry)
                    d.callback(line)

    def processEnded(self, reason):
        for fd in (1, 2):
            if self._partial[fd]:
                self.childDataReceived(fd, b"\n")
        self.exit_code = reason.value.exitCode
        if self.exit_code is None:
            self.exit_code = -1
        self.exited.callback(self.exit_code)
