"""What the benchmarks in ``bench/`` share.

* starting the real server (``twistd -n chatserver``) or any other server process through a
  tiny wrapper that first raises the soft open-file limit to the hard one (thousands of
  connections need thousands of descriptors, and twistd itself does not raise it);
* a free loopback port, readers for a process's CPU time and RSS (``/proc``, no psutil);
* :class:`ChatClient`, a small asyncio client that is simple and correct: it decodes every
  frame with :mod:`chat.protocol`, matches replies to requests by ``id`` and answers the
  server's heartbeat ``ping``. It is used for hello/register/login and other set-up; the
  measured phases install a cheaper ``fast`` handler on the same connection instead.

Everything connects to 127.0.0.1 only.
"""

import asyncio
import itertools
import json
import multiprocessing.connection
import math
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python bench/x.py`: make `import chat` work
    sys.path.insert(0, str(REPO))

from chat.protocol.codec import control_frame, decode_object  # noqa: E402
from chat.protocol.framing import FrameDecoder  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "bench-password-1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


# -- processes --------------------------------------------------------------------------------

def raise_nofile() -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit; return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# Run as `python -c TWISTD_WRAPPER <twistd args>`: raise the limit, then twistd in-process (with
# -n it does not fork, so the pid we started is the server's pid for /proc readings).
TWISTD_WRAPPER = """\
import resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
from twisted.scripts.twistd import run
sys.argv = ["twistd"] + sys.argv[1:]
run()
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_times(pid: int) -> tuple:
    """(utime, stime) of a process (all its threads) from /proc/PID/stat, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        # the command name (field 2) may contain spaces: split after its closing parenthesis
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # fields 14, 15 of stat(5)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    return sum(cpu_times(pid))


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def own_cpu_seconds() -> float:
    """user + system CPU of the calling process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def own_cpu_times() -> tuple:
    """(user, system) CPU seconds of the calling process."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime


def machine_info() -> dict:
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


class ServerProcess:
    """A server started as a child process, listening on 127.0.0.1:port.

    ``argv`` is the command after the Python interpreter. :meth:`chat` builds the one for the
    chat server; stdout/stderr go to ``log_path``. Use as a context manager: the process is
    stopped (SIGTERM, then SIGKILL after 20 s) on exit.
    """

    def __init__(self, argv: list, port: int, log_path: Path, cwd: Path = REPO):
        self.argv, self.port, self.log_path, self.cwd = argv, port, Path(log_path), cwd
        self.proc = None

    @classmethod
    def chat(cls, data_dir: Path, port: int = 0, extra=(), profile: str = None):
        """The chat server on ``port`` (0: a free one) with its SQLite file in ``data_dir``."""
        port = port or free_port()
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        args = ["-n", "--pidfile", str(data_dir / "twistd.pid"),
                "--logfile", str(data_dir / "twistd.log")]
        if profile:  # cProfile of the whole reactor, written when the server stops
            args += ["--profile", profile, "--profiler", "cprofile", "--savestats"]
        args += ["chatserver", "--port", f"tcp:{port}:interface={HOST}",
                 "--data-dir", str(data_dir), *no_limit_args(), *extra]
        return cls(["-c", TWISTD_WRAPPER, *args], port, data_dir / "stdout.log")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def start(self, timeout: float = 60.0, hello: bool = True):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, *self.argv], cwd=self.cwd,
                                         stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log_path}"
                                   f"\n{self.tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=2) as s:
                    if hello:
                        blocking_request(s, {"type": "hello", "id": 1, "version": 1,
                                             "client": "bench"})
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"server not listening on {self.port} after {timeout} s")
                time.sleep(0.1)

    def tail(self, n: int = 2000) -> str:
        texts = []
        for p in (self.log_path, self.log_path.with_name("twistd.log")):
            if p.exists():
                texts.append(p.read_text(errors="replace")[-n:])
        return "\n".join(texts)

    def stop(self, timeout: float = 20.0):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class PySpy:
    """Sample a running process with py-spy (if installed in the venv) into a collapsed-stack
    file, from start() until stop(); --nonblocking so that the server is not paused."""

    def __init__(self, pid: int, out: str, rate: int = 250):
        exe = Path(sys.executable).with_name("py-spy")
        if not exe.exists():
            raise RuntimeError("py-spy is not installed in this venv (pip install py-spy)")
        self.argv = [str(exe), "record", "--pid", str(pid), "--rate", str(rate), "--format",
                     "raw", "--threads", "--nonblocking", "-o", str(out)]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # let it attach before the measured phase begins

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def blocking_request(sock: socket.socket, obj: dict, timeout: float = 10.0) -> dict:
    """Send one request on a blocking socket and return its reply (events are skipped)."""
    sock.settimeout(timeout)
    sock.sendall(control_frame(obj))
    decoder = FrameDecoder()
    while True:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        for payload in decoder.feed(data):
            reply = decode_object(payload)
            if reply.get("id") == obj["id"]:
                return reply


_HELP_OPTION = re.compile(r"--([a-z][a-z0-9-]*)")


def server_options() -> set:
    """The long options `twistd chatserver --help` lists (to find e.g. a lower hash cost)."""
    out = subprocess.run([sys.executable, "-c", TWISTD_WRAPPER, "chatserver", "--help"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    return set(_HELP_OPTION.findall(out.stdout))


# Cheap argon2 parameters for the benchmarks: logins are not what we measure. Only options the
# server actually has are passed (see server_options()).
FAST_HASH_CANDIDATES = {
    "hash-time": "1",         # argon2 time_cost (passes)
    "hash-memory": "1024",    # argon2 memory_cost in KiB
    "hash-parallelism": "1",
}


def fast_hash_args() -> list:
    opts = server_options()
    args = []
    for name, value in FAST_HASH_CANDIDATES.items():
        if name in opts:
            args += [f"--{name}", value]
    return args


# The benchmarks are thousands of clients on 127.0.0.1, some sending as fast as they can: the
# server's abuse limits (docs/ARCHITECTURE.md, *Limits*) are not what they measure. Only options
# the server has are passed; later arguments (--server-arg) may set them again.
NO_LIMITS = {
    "exempt-loopback": None,               # a flag: per-address limits skip 127.0.0.1
    "max-connections": "0",
    "send-rate": "0",
    "query-rate": "0",
    "prelogin-requests": "0",
    "file-offers-per-minute": "0",
    "rooms-per-hour": "0",
    "rooms-per-account": "0",
    "topics-per-minute": "0",
    "joins-per-minute": "0",
    "login-timeout": "0",
    "irc-flood-rate": "0",
}


def no_limit_args() -> list:
    opts = server_options()
    args = []
    for name, value in NO_LIMITS.items():
        if name in opts:
            args += [f"--{name}"] + ([] if value is None else [value])
    return args


def temp_data_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def remove_dir(path: Path):
    shutil.rmtree(path, ignore_errors=True)


# -- client -----------------------------------------------------------------------------------

class RequestError(Exception):
    def __init__(self, reply: dict):
        super().__init__(f"{reply.get('code')}: {reply.get('message')}")
        self.code = reply.get("code")
        self.reply = reply


_MESSAGE_PREFIX = b'{"type":"message"'
# Events the benchmarks never look into: counted, not decoded (a login storm sends every
# connection presence events as accounts come online).
_SKIPPED_EVENTS = (_MESSAGE_PREFIX, b'{"type":"presence"', b'{"type":"joined"', b'{"type":"left"')


class ChatClient(asyncio.Protocol):
    """A correct, unhurried client connection.

    ``await c.request("login", username=..., password=...)`` returns the reply's ``data`` or
    raises :class:`RequestError`. Server pings are answered with ``pong``. Events are counted
    (``message`` and ``presence`` events are counted without JSON-decoding them, so that a
    connection sitting in a busy room or a login storm stays cheap). Assigning ``fast`` a callable hands it all further raw bytes.
    """

    def __init__(self):
        self.transport = None
        self.decoder = FrameDecoder()
        self.ids = itertools.count(1)
        self.pending = {}
        self.events = 0
        self.messages = 0
        self.fast = None
        self.lost = asyncio.get_running_loop().create_future()

    # asyncio callbacks
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.fast is not None:
            self.fast(data)
            return
        for payload in self.decoder.feed(data):
            if payload.startswith(_SKIPPED_EVENTS):
                if payload.startswith(_MESSAGE_PREFIX):
                    self.messages += 1
                else:
                    self.events += 1
                continue
            self.handle(decode_object(payload))

    def connection_lost(self, exc):
        error = exc or ConnectionError("connection closed by the server")
        for fut in self.pending.values():
            if not fut.done():
                fut.set_exception(error)
        self.pending.clear()
        if not self.lost.done():
            self.lost.set_result(exc)

    # frames
    def handle(self, obj: dict):
        kind, rid = obj.get("type"), obj.get("id")
        if kind in ("ok", "error") and rid in self.pending:
            fut = self.pending.pop(rid)
            if not fut.done():
                fut.set_result(obj)
        elif kind == "ping" and rid is None:
            self.send({"type": "pong"})
        else:
            self.events += 1

    def take_buffer(self) -> bytes:
        """Bytes received that do not make a whole frame yet (for a fast handler taking over)."""
        rest = bytes(self.decoder._buffer)  # FrameDecoder has no public accessor for the bytes
        self.decoder._buffer.clear()
        return rest

    def send(self, obj: dict):
        self.transport.write(control_frame(obj))

    async def request(self, kind: str, timeout: float = 120.0, **fields) -> dict:
        rid = next(self.ids)
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        self.send({"type": kind, "id": rid, **fields})
        reply = await asyncio.wait_for(fut, timeout)
        if reply["type"] == "error":
            raise RequestError(reply)
        return reply.get("data", {})

    def close(self):
        if self.transport is not None:
            self.transport.close()


async def connect(port: int, retries: int = 5) -> ChatClient:
    loop = asyncio.get_running_loop()
    for attempt in range(retries):
        try:
            _transport, client = await loop.create_connection(ChatClient, HOST, port)
            return client
        except OSError:
            if attempt == retries - 1:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


async def open_session(port: int, username: str, register: bool = False,
                       login: bool = True) -> ChatClient:
    """Connect, hello, optionally register (an existing account is fine), optionally log in."""
    c = await connect(port)
    await c.request("hello", version=1, client="chat-bench/0.1")
    if register:
        try:
            await c.request("register", username=username, password=PASSWORD)
        except RequestError as e:
            if e.code != "name_taken":
                raise
    if login:
        await c.request("login", username=username, password=PASSWORD)
    return c


async def bounded(coros, limit: int):
    """Run coroutines with at most ``limit`` at a time; results in order."""
    sem = asyncio.Semaphore(limit)

    async def one(coro):
        async with sem:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros))


async def register_accounts(port: int, names, concurrency: int = 8):
    """Register accounts (existing ones are kept) over a few connections, ``concurrency``
    registrations in flight: argon2 hashing makes each one slow on purpose."""
    names = list(names)
    conns = [await open_session(port, "", login=False) for _ in range(min(concurrency, len(names)))]

    async def worker(c, share):
        for name in share:
            try:
                await c.request("register", username=name, password=PASSWORD)
            except RequestError as e:
                if e.code != "name_taken":
                    raise

    await asyncio.gather(*(worker(c, names[i::len(conns)]) for i, c in enumerate(conns)))
    for c in conns:
        c.close()


# -- figures ----------------------------------------------------------------------------------

def percentile(sorted_values, p: float):
    """Nearest-rank percentile of an already sorted sequence (None if empty)."""
    if not sorted_values:
        return None
    k = math.ceil(p / 100.0 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, k))]


def write_json(path, obj):
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def collect(pipes, kind, timeout):
    """One message ``(kind, payload)`` from every worker pipe; ``pipes`` maps a worker's name to
    its pipe, the result maps it to its payload. A worker's ``("error", text)`` is raised."""
    out = {}
    waiting = dict(pipes)
    deadline = time.monotonic() + timeout
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{sorted(waiting)} sent no {kind!r} in {timeout} s")
        for conn in multiprocessing.connection.wait(list(waiting.values()), left):
            name = next(n for n, p in waiting.items() if p is conn)
            try:
                what, payload = conn.recv()
            except EOFError:
                raise RuntimeError(f"worker {name} died") from None
            if what == "error":
                raise RuntimeError(f"worker {name} failed:\n{payload}")
            if what != kind:
                raise RuntimeError(f"worker {name} sent {what!r}, expected {kind!r}")
            out[name] = payload
            del waiting[name]
    return out


def recv_ready(sock, size: int = 262144):
    """What a readable non-blocking socket holds: bytes, ``b""`` when the connection is gone
    (closed or broken), or None if there was nothing after all."""
    try:
        return sock.recv(size)
    except BlockingIOError:
        return None
    except OSError:
        return b""
