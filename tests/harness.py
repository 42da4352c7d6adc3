"""Socket-free test harness: a real ChatServer on MemoryStorage and a task.Clock, with
clients that are ChatConnections over StringTransports.

Password hashing runs synchronously with a tiny argon2 cost, so a whole login happens inside
one ``dataReceived`` call and tests read the reply right after sending the request. File work
runs synchronously too (``sync_file_io``): a whole upload or download happens inside the call
that sends its last frame.
"""

import atexit
import itertools
import json
import os
import shutil
import tempfile

from twisted.internet import defer, task
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from chat.protocol.codec import control_frame
from chat.protocol.commands import parse_server_message
from chat.protocol.framing import MAX_CONTROL_FRAME, FrameDecoder
from chat.server.connection import ChatConnection
from chat.server.core import ChatServer, ServerConfig
from chat.server.files.io import FileIO
from chat.server.passwords import PasswordHasher
from chat.server.presence import PRESENCE_INTERVAL
from chat.server.storage.memory import MemoryStorage

PASSWORD = "correct horse"


def fast_hasher():
    return PasswordHasher(time_cost=1, memory_kib=8,
                          run_in_thread=lambda f, *a: defer.maybeDeferred(f, *a))


def sync_file_io():
    """File I/O that runs on the calling thread at once (only for tests)."""
    return FileIO(run_in_thread=lambda f, *a: defer.maybeDeferred(f, *a))


def make_server(storage=None, clock=None, file_io=None, metrics=None, **config):
    """A started ChatServer (MemoryStorage starts synchronously).

    Unless ``files_dir`` is given (None: the server's own temporary directory, as ``--lite``
    has), files go to a directory of their own under one temporary folder of this test
    process, removed when it exits; it is made only when a file is offered."""
    clock = clock or task.Clock()
    clock.advance(1_800_000_000)  # a realistic "now" (2027) for timestamps
    config.setdefault("files_dir", _next_files_dir())
    server = ChatServer(ServerConfig(**config), storage or MemoryStorage(), fast_hasher(), clock,
                        file_io=file_io or sync_file_io(), metrics=metrics)
    started = server.start()
    assert started.called, "make_server needs a storage that starts synchronously"
    return server


_files_root = None
_servers = itertools.count(1)


def _next_files_dir() -> str:
    global _files_root
    if _files_root is None:
        _files_root = tempfile.mkdtemp(prefix="chat-test-files-")
        atexit.register(shutil.rmtree, _files_root, True)
    return os.path.join(_files_root, str(next(_servers)))


class Client:
    """One connection to ``server`` with helpers to make requests and read what came back."""

    _port = 40000

    def __init__(self, server, host="192.0.2.10"):
        Client._port += 1
        self.server = server
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", host, Client._port))
        self.connection = ChatConnection(server)
        self.connection.makeConnection(self.transport)
        self._decoder = FrameDecoder(10 ** 8)
        self._next_id = 0
        self.inbox: list[dict] = []   # everything received and not yet taken

    # -- sending
    def raw(self, data: bytes) -> None:
        self.connection.dataReceived(data)

    def send(self, obj: dict) -> None:
        self.raw(control_frame(obj))

    def request(self, kind: str, **fields) -> dict:
        """Send a request and return its reply (ok or error); it must have come already."""
        self._next_id += 1
        request_id = fields.pop("id", self._next_id)
        self.send({"type": kind, "id": request_id, **fields})
        return self.reply(request_id)

    def ok(self, kind: str, **fields) -> dict:
        reply = self.request(kind, **fields)
        assert reply["type"] == "ok", reply
        return reply["data"]

    def error(self, kind: str, **fields) -> str:
        reply = self.request(kind, **fields)
        assert reply["type"] == "error", reply
        return reply["code"]

    # -- receiving
    def pump(self) -> None:
        data = self.transport.value()
        self.transport.clear()
        for payload in self._decoder.feed(data):
            if payload[:1] == b"{":
                # every server frame must be valid and fit the limit clients enforce
                assert len(payload) <= MAX_CONTROL_FRAME, f"{len(payload)}-byte control frame"
                parse_server_message(payload)
                self.inbox.append(json.loads(payload))
            else:
                self.inbox.append({"type": "_body", "payload": payload})

    def reply(self, request_id) -> dict:
        self.pump()
        for index, frame in enumerate(self.inbox):
            if frame.get("id") == request_id and frame["type"] in ("ok", "error"):
                return self.inbox.pop(index)
        raise AssertionError(f"no reply to {request_id!r}; got {self.inbox}")

    def presence_changes(self) -> list[dict]:
        """Let the presence interval pass and take the changes announced to this client."""
        self.server.clock.advance(PRESENCE_INTERVAL)
        return [change for event in self.events("presence") for change in event["changes"]]

    def events(self, kind=None) -> list[dict]:
        """Take the events (frames without id) received so far, optionally of one type."""
        self.pump()
        taken = [f for f in self.inbox if "id" not in f and (kind is None or f["type"] == kind)]
        self.inbox = [f for f in self.inbox if f not in taken]
        return taken

    @property
    def closed(self) -> bool:
        return self.transport.disconnecting or self.connection.state.value == "closed"

    def disconnect(self) -> None:
        self.connection.connectionLost(None)

    # -- common sequences
    def hello(self) -> dict:
        return self.ok("hello", version=1, client="test")

    def register(self, name: str, password: str = PASSWORD) -> dict:
        return self.ok("register", username=name, password=password)

    def login(self, name: str, password: str = PASSWORD) -> dict:
        return self.ok("login", username=name, password=password)


def user(server, name: str, register: bool = True) -> Client:
    """A connected, greeted and logged-in client; registers ``name`` first if asked."""
    client = Client(server)
    client.hello()
    if register:
        client.register(name)
    client.login(name)
    client.events()  # drop the presence noise of logging in
    return client


class AwaitedReplies:
    """For a TestCase whose server answers from a real storage thread: the reply to a request
    comes on a later reactor turn, so these poll the client's inbox (every 2 ms, at most
    ``REPLY_POLLS`` times) instead of reading it at once like ``Client.ok``."""

    REPLY_POLLS = 2000

    @defer.inlineCallbacks
    def reply(self, client, request_id):
        from twisted.internet import reactor
        for _ in range(self.REPLY_POLLS):
            client.pump()
            for index, frame in enumerate(client.inbox):
                if frame.get("id") == request_id and frame["type"] in ("ok", "error"):
                    return client.inbox.pop(index)
            yield task.deferLater(reactor, 0.002, lambda: None)
        self.fail(f"no reply to {request_id}")

    @defer.inlineCallbacks
    def request(self, client, kind, **fields):
        client._next_id += 1
        request_id = client._next_id
        client.send({"type": kind, "id": request_id, **fields})
        return (yield self.reply(client, request_id))

    @defer.inlineCallbacks
    def ok(self, client, kind, **fields):
        reply = yield self.request(client, kind, **fields)
        self.assertEqual(reply["type"], "ok", reply)
        return reply["data"]
