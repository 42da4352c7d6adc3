"""Run the real server (``twistd -n chatserver``) as a child process, for end-to-end tests.

The child is started with :class:`subprocess.Popen` and never waited for in a blocking way:
readiness (the port accepts a TCP connection) and exit are polled from the reactor every
50 ms, so this works under ``trial`` and under ``pytest`` alike, and a hung server cannot
hang the test process. Its stdout and stderr go to ``server.log`` in the base directory;
:meth:`ServerProcess.output` returns them and every failure message includes them.

A free port is chosen up front (bind 127.0.0.1:0, read it, close) so that the port is known
and stays the same across :meth:`ServerProcess.restart`.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Optional, Sequence

from twisted.internet import defer, reactor as _global_reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TWISTD = [
    sys.executable, "-c",
    "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; sys.exit(run())",
]
"""``twistd`` run by the same interpreter as the tests (no reliance on a script on PATH)."""

POLL = 0.05


class ServerFailed(Exception):
    """The server process did not start, exited early or would not stop."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def child_env() -> dict:
    """Environment for child processes: unbuffered output, this source tree importable."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = REPO_ROOT + (os.pathsep + path if path else "")
    return env


def port_spec(port: int, host: str = "127.0.0.1") -> str:
    return f"tcp:{port}:interface={host}"


class _Probe(Protocol):
    def connectionMade(self):
        self.transport.loseConnection()


@defer.inlineCallbacks
def port_accepts(port: int, host: str = "127.0.0.1", reactor=None):
    """Fires True if a TCP connection to host:port succeeds (it is closed at once)."""
    reactor = reactor or _global_reactor
    endpoint = TCP4ClientEndpoint(reactor, host, port, timeout=1)
    try:
        yield endpoint.connect(Factory.forProtocol(_Probe))
    except Exception:
        return False
    return True


@defer.inlineCallbacks
def wait_for_exit(proc: subprocess.Popen, timeout: float, reactor=None):
    """Poll ``proc`` until it exits; fires with its return code, or None on timeout."""
    reactor = reactor or _global_reactor
    deadline = time.monotonic() + timeout
    while True:
        code = proc.poll()
        if code is not None:
            return code
        if time.monotonic() >= deadline:
            return None
        yield task.deferLater(reactor, POLL, lambda: None)


@defer.inlineCallbacks
def run_command(args: Sequence[str], cwd: Optional[str] = None, timeout: float = 30,
                reactor=None):
    """Run a command to completion without blocking the reactor.

    Fires with ``(returncode, stdout, stderr)`` as text; kills it and fails after ``timeout``.
    """
    import tempfile
    reactor = reactor or _global_reactor
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(args), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd, env=child_env())
        code = yield wait_for_exit(proc, timeout, reactor)
        if code is None:
            proc.kill()
            yield wait_for_exit(proc, 5, reactor)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if code is None:
        raise ServerFailed(f"{' '.join(args)} did not finish within {timeout} s\n"
                           f"stdout:\n{stdout}\nstderr:\n{stderr}")
    return code, stdout, stderr


class ServerProcess:
    """The real chat server in a child process, on 127.0.0.1 and a fixed free port.

    ``base_dir`` holds ``data/`` (the ``--data-dir``) and ``server.log`` (stdout+stderr of
    every run, appended). ``args`` are extra ``chatserver`` options (e.g. ``["--lite"]``).
    """

    def __init__(self, base_dir: str, args: Sequence[str] = (), port: Optional[int] = None,
                 data_dir: Optional[str] = None, ready_timeout: float = 20, reactor=None) -> None:
        self.base_dir = os.path.abspath(base_dir)
        os.makedirs(self.base_dir, exist_ok=True)
        self.data_dir = os.path.abspath(data_dir or os.path.join(self.base_dir, "data"))
        os.makedirs(self.data_dir, exist_ok=True)
        self.db_path = os.path.join(self.data_dir, "chat_server.db")
        self.log_path = os.path.join(self.base_dir, "server.log")
        self.args = list(args)
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.reactor = reactor or _global_reactor
        self.proc: Optional[subprocess.Popen] = None
        self.returncode: Optional[int] = None
        self.runs = 0

    # ------------------------------------------------------------------ info

    def command(self) -> list:
        return TWISTD + [
            "-n", "--pidfile=", "--logfile=-",
            "chatserver",
            "--port", port_spec(self.port),
            "--data-dir", self.data_dir,
            *self.args,
        ]

    def listening_ports(self) -> list:
        """``port`` and the port of each ``--port tcp:N...`` / ``ssl:N...`` in ``args``."""
        ports = [self.port]
        for option, value in zip(self.args, self.args[1:]):
            if option == "--port":
                parts = value.split(":")
                if len(parts) > 1 and parts[0] in ("tcp", "ssl") and parts[1].isdigit():
                    ports.append(int(parts[1]))
        return ports

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far (all runs)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def describe(self, tail: int = 12000) -> str:
        """A block for failure messages: the command and the (end of the) server output."""
        out = self.output()
        if len(out) > tail:
            out = "[...]\n" + out[-tail:]
        return f"server command: {' '.join(self.command())}\n--- server output ---\n{out}--- end ---"

    # ------------------------------------------------------------------ life cycle

    @defer.inlineCallbacks
    def start(self):
        """Start the server; fires with self once the port accepts connections."""
        if self.running:
            raise ServerFailed("server is already running")
        self.runs += 1
        self.returncode = None
        with open(self.log_path, "ab") as log:
            log.write(f"=== run {self.runs}: {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.base_dir, env=child_env())
        deadline = time.monotonic() + self.ready_timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                self.returncode = code
                raise ServerFailed(
                    f"server exited with status {code} before accepting connections\n"
                    + self.describe())
            # every port it was given: an ssl: port is bound just after the plain one (later
            # still when a garbage collection falls in between), and tests use it at once
            ok = True
            for port in self.listening_ports():
                ok = ok and (yield port_accepts(port, reactor=self.reactor))
            if ok:
                return self
            if time.monotonic() >= deadline:
                yield self.kill9()
                raise ServerFailed(
                    f"server did not accept connections on port {self.port} within "
                    f"{self.ready_timeout} s\n" + self.describe())
            yield task.deferLater(self.reactor, POLL, lambda: None)

    @defer.inlineCallbacks
    def stop(self, timeout: float = 10):
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Fires with the return code
        (None if it was not running)."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            code = yield wait_for_exit(proc, timeout, self.reactor)
            if code is None:
                with open(self.log_path, "ab") as log:
                    log.write(f"=== no exit {timeout} s after SIGTERM: SIGKILL\n".encode())
                proc.kill()
                code = yield wait_for_exit(proc, 10, self.reactor)
                self.returncode = code
                raise ServerFailed(
                    f"server did not exit within {timeout} s of SIGTERM (killed)\n" + self.describe())
        self.returncode = proc.returncode
        return self.returncode

    @defer.inlineCallbacks
    def kill9(self):
        """SIGKILL (no clean shutdown); fires with the return code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        code = yield wait_for_exit(proc, 10, self.reactor)
        self.returncode = code
        return code

    @defer.inlineCallbacks
    def restart(self, kill: bool = False):
        """Stop (or SIGKILL with ``kill``) and start again: same port, same data dir."""
        if kill:
            yield self.kill9()
        else:
            yield self.stop()
        yield self.start()
        return self
