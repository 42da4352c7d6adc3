"""A small Twisted client that speaks the wire protocol, for tests.

:class:`WireClient` is a ``Protocol`` built on :class:`chat.protocol.framing.FrameDecoder` and
:mod:`chat.protocol.codec`. Every control frame from the server is also checked with
:func:`chat.protocol.commands.parse_server_message`; frames that are not valid server messages
(and replies to ids that were never asked) are collected in ``violations`` instead of being
silently accepted, so a test can assert that the server spoke the protocol.

* ``request(type, **fields)`` assigns an integer id and returns a Deferred that fires with the
  ``ok`` reply's ``data`` dict or fails with :class:`RequestError` (``.code``, ``.message``).
  A reply that announces ``"body": N`` fires only once N body bytes arrived; its data then has
  ``"_body": bytes``. ``request_with_body`` sends body frames after the control frame.
* Frames without an id (events) are appended to ``events`` and queued; ``next_event(type)``
  takes the next queued one of that type (others stay queued, in order) or waits for it, and
  fails with :class:`EventTimeout` after ``timeout`` seconds of reactor time.
* ``closed`` is a Deferred that fires (with the reason's exception) on ``connectionLost``;
  ``when_closed()`` gives a fresh one. Pending requests then fail with
  :class:`ConnectionClosed`; a request without a reply fails with :class:`RequestTimeout`
  after ``reply_timeout`` seconds (the protocol promises exactly one reply per request).

Nothing here blocks: the server under test may run in this process or in a child process.
"""

from typing import Any, Callable, Optional, Union

from twisted.internet import defer, reactor as _global_reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Factory, Protocol

from chat.protocol import PROTOCOL_VERSION
from chat.protocol.codec import control_frame, decode_object
from chat.protocol.commands import parse_server_message
from chat.protocol.errors import ProtocolError
from chat.protocol.framing import (
    BODY_KIND, CONTROL_KIND, FrameDecoder, FrameTooLarge, iter_body_frames, split_body_frame,
)

CLIENT_NAME = "e2e-wire/0.1"


class RequestError(Exception):
    """The server answered a request with ``error``."""

    def __init__(self, code: str, message: str, frame: dict) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.frame = frame
        self.retry_after = frame.get("retry_after")


class ConnectionClosed(Exception):
    """The connection ended before the reply or event arrived."""


class EventTimeout(Exception):
    """``next_event`` saw no matching event in time."""


class RequestTimeout(Exception):
    """No reply to a request within ``WireClient.reply_timeout`` seconds."""


TypeSpec = Union[None, str, tuple, list, set, frozenset]


def _type_matches(spec: TypeSpec, event: dict) -> bool:
    if spec is None:
        return True
    if isinstance(spec, str):
        return event.get("type") == spec
    return event.get("type") in spec


class _Waiter:
    __slots__ = ("spec", "match", "deferred", "timer")

    def __init__(self, spec, match, deferred, timer):
        self.spec = spec
        self.match = match
        self.deferred = deferred
        self.timer = timer

    def wants(self, event: dict) -> bool:
        return _type_matches(self.spec, event) and (self.match is None or self.match(event))


class WireClient(Protocol):
    """One test connection. Create it through :func:`connect` (or any client factory)."""

    auto_pong = True
    """Answer a server ``ping`` event with ``pong`` (the event is still recorded)."""

    reply_timeout = 10.0
    """Seconds a request waits for its reply before failing with :class:`RequestTimeout`
    (the protocol promises exactly one reply; a missing one should fail fast, not hang)."""

    def __init__(self, clock=None) -> None:
        self.clock = clock or _global_reactor
        self.decoder = FrameDecoder()
        self.events: list[dict] = []        # every event received, in order
        self.frames: list[dict] = []        # every control frame received, in order
        self.raw_frames: list[bytes] = []   # their payloads as they came (UTF-8 JSON)
        self.violations: list[str] = []     # what the server did against the protocol
        self.connected_ = False
        self.close_reason: Optional[BaseException] = None
        self.closed: defer.Deferred = defer.Deferred()
        self.hello_data: Optional[dict] = None
        self.login_data: Optional[dict] = None
        self.username: Optional[str] = None
        self._queue: list[dict] = []        # events nobody has taken yet
        self._waiters: list[_Waiter] = []
        self._pending: dict[Any, tuple] = {}  # id -> (Deferred, timeout call)
        self._bodies: dict[Any, list] = {}  # id -> [data, bytearray, expected]
        self._next_id = 1
        self._close_waiters: list[defer.Deferred] = []

    # ------------------------------------------------------------------ connection

    def connectionMade(self) -> None:
        self.connected_ = True

    def connectionLost(self, reason=ConnectionDone) -> None:
        self.connected_ = False
        exc = getattr(reason, "value", reason)
        self.close_reason = exc
        pending, self._pending = self._pending, {}
        self._bodies.clear()
        for request_id, (d, timer) in pending.items():
            if timer.active():
                timer.cancel()
            d.errback(ConnectionClosed(f"connection lost before the reply to request {request_id!r}: {exc}"))
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if waiter.timer.active():
                waiter.timer.cancel()
            waiter.deferred.errback(ConnectionClosed(
                f"connection lost while waiting for an event {waiter.spec!r}: {exc}; "
                f"queued events: {self._queue!r}"))
        self.closed.callback(exc)
        waiting, self._close_waiters = self._close_waiters, []
        for d in waiting:
            d.callback(exc)

    def when_closed(self) -> defer.Deferred:
        """A fresh Deferred that fires once the connection is gone (at once if it is)."""
        if self.close_reason is not None:
            return defer.succeed(self.close_reason)
        d = defer.Deferred()
        self._close_waiters.append(d)
        return d

    def close(self) -> defer.Deferred:
        """Close politely (flush, FIN); fires when the connection is gone."""
        d = self.when_closed()
        if self.transport is not None and self.close_reason is None:
            self.transport.loseConnection()
        return d

    def abort(self) -> defer.Deferred:
        """Close at once (RST, unsent data dropped); fires when the connection is gone."""
        d = self.when_closed()
        if self.transport is not None and self.close_reason is None:
            self.transport.abortConnection()
        return d

    @property
    def peer_port(self) -> int:
        """Our own (local) port, i.e. the port the server sees as the remote address."""
        return self.transport.getHost().port

    # ------------------------------------------------------------------ sending

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are (whole frames, parts of frames, garbage)."""
        self.transport.write(data)

    def send_frame(self, obj: dict) -> None:
        """Write one control frame for ``obj`` (no id bookkeeping)."""
        self.transport.write(control_frame(obj))

    def new_id(self) -> int:
        request_id = self._next_id
        self._next_id += 1
        return request_id

    def _expect_reply(self, request_id) -> defer.Deferred:
        if request_id in self._pending:
            raise ValueError(f"request id {request_id!r} is already waiting for a reply")
        if self.close_reason is not None:
            return defer.fail(ConnectionClosed(f"connection is closed: {self.close_reason}"))
        d = defer.Deferred()
        timer = self.clock.callLater(self.reply_timeout, self._reply_timeout, request_id)
        self._pending[request_id] = (d, timer)
        return d

    def _reply_timeout(self, request_id) -> None:
        entry = self._pending.pop(request_id, None)
        self._bodies.pop(request_id, None)
        if entry is not None:
            who = f" ({self.username})" if self.username else ""
            entry[0].errback(RequestTimeout(
                f"no reply to request {request_id!r}{who} within {self.reply_timeout} s"))

    def _take_pending(self, request_id) -> Optional[defer.Deferred]:
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return None
        if entry[1].active():
            entry[1].cancel()
        return entry[0]

    def request(self, type: str, **fields) -> defer.Deferred:
        """Send a request; fires with the ``ok`` data or fails with :class:`RequestError`.

        The id is the next integer unless ``id`` is given in ``fields``.
        """
        request_id = fields.pop("id", None)
        if request_id is None:
            request_id = self.new_id()
        d = self._expect_reply(request_id)
        if self.close_reason is None:
            self.transport.write(control_frame({"type": type, "id": request_id, **fields}))
        return d

    def request_with_body(self, type: str, body: bytes, **fields) -> defer.Deferred:
        """A request announcing ``body`` bytes, followed by the body frames carrying them."""
        request_id = fields.pop("id", None)
        if request_id is None:
            request_id = self.new_id()
        d = self._expect_reply(request_id)
        if self.close_reason is None:
            out = [control_frame({"type": type, "id": request_id, "body": len(body), **fields})]
            out.extend(iter_body_frames(request_id, body))
            self.transport.writeSequence(out)
        return d

    # ------------------------------------------------------------------ receiving

    def dataReceived(self, data: bytes) -> None:
        try:
            payloads = self.decoder.feed(data)
        except FrameTooLarge as exc:
            self.violations.append(f"server sent an oversized frame: {exc}")
            self.transport.abortConnection()
            return
        for payload in payloads:
            self._payload(payload)

    def _payload(self, payload: bytes) -> None:
        if not payload:
            self.violations.append("server sent an empty frame")
            return
        kind = payload[0]
        if kind == BODY_KIND:
            self._body_frame(payload)
        elif kind == CONTROL_KIND:
            self._control_frame(payload)
        else:
            self.violations.append(f"server sent a frame of unknown kind 0x{kind:02x}")

    def _body_frame(self, payload: bytes) -> None:
        try:
            request_id, chunk = split_body_frame(payload)
        except ValueError as exc:
            self.violations.append(f"bad body frame: {exc}")
            return
        slot = self._bodies.get(request_id)
        if slot is None:
            self.violations.append(f"body frame for request {request_id} that has no reply with a body")
            return
        data, buffer, expected = slot
        buffer += chunk
        if len(buffer) > expected:
            self.violations.append(
                f"reply to {request_id} announced {expected} body bytes but {len(buffer)} came")
        if len(buffer) >= expected:
            del self._bodies[request_id]
            d = self._take_pending(request_id)
            if d is not None:
                result = dict(data)
                result["_body"] = bytes(buffer)
                d.callback(result)

    def _control_frame(self, payload: bytes) -> None:
        self.raw_frames.append(payload)
        try:
            obj = decode_object(payload)
        except ProtocolError as exc:
            self.violations.append(f"undecodable control frame {payload[:200]!r}: {exc}")
            return
        try:
            parse_server_message(payload)
        except ProtocolError as exc:
            self.violations.append(f"invalid server message {obj!r}: {exc}")
        self.frames.append(obj)
        kind = obj.get("type")
        request_id = obj.get("id")
        if kind in ("ok", "error") and request_id is not None:
            self._reply(obj, kind, request_id)
            return
        if kind == "ok":
            self.violations.append(f"ok without an id: {obj!r}")
        self._event(obj)

    def _reply(self, obj: dict, kind: str, request_id) -> None:
        if request_id not in self._pending or request_id in self._bodies:
            self.violations.append(f"reply to a request that is not waiting: {obj!r}")
            return
        if kind == "error":
            d = self._take_pending(request_id)
            d.errback(RequestError(obj.get("code"), obj.get("message"), obj))
            return
        data = obj.get("data")
        if data is None:
            data = {}
        body = obj.get("body")
        if body:
            self._bodies[request_id] = [data, bytearray(), body]
            return
        self._take_pending(request_id).callback(data)

    def _event(self, event: dict) -> None:
        self.events.append(event)
        if event.get("type") == "ping" and "id" not in event and self.auto_pong and self.transport:
            self.transport.write(control_frame({"type": "pong"}))
        for waiter in self._waiters:
            if waiter.wants(event):
                self._waiters.remove(waiter)
                waiter.timer.cancel()
                waiter.deferred.callback(event)
                return
        self._queue.append(event)

    # ------------------------------------------------------------------ events

    def next_event(self, type: TypeSpec = None, timeout: float = 5,
                   match: Optional[Callable[[dict], bool]] = None) -> defer.Deferred:
        """The next event of ``type`` (a type name, a collection of them, or None for any)
        that also satisfies ``match``; events it skips stay queued in order."""
        for index, event in enumerate(self._queue):
            if _type_matches(type, event) and (match is None or match(event)):
                del self._queue[index]
                return defer.succeed(event)
        if self.close_reason is not None:
            return defer.fail(ConnectionClosed(
                f"connection closed ({self.close_reason}); no queued event {type!r}; "
                f"queued: {self._queue!r}"))
        d = defer.Deferred()
        waiter = _Waiter(type, match, d, None)
        waiter.timer = self.clock.callLater(timeout, self._timeout, waiter, timeout)
        self._waiters.append(waiter)
        return d

    def _timeout(self, waiter: _Waiter, timeout: float) -> None:
        if waiter in self._waiters:
            self._waiters.remove(waiter)
            who = f" ({self.username})" if self.username else ""
            waiter.deferred.errback(EventTimeout(
                f"no event {waiter.spec!r}{who} within {timeout} s; queued: {self._queue!r}"))

    def queued(self, type: TypeSpec = None) -> list[dict]:
        """Queued (not yet taken) events of ``type``, without taking them."""
        return [e for e in self._queue if _type_matches(type, e)]

    def drain(self, type: TypeSpec = None) -> list[dict]:
        """Take and return every queued event of ``type``."""
        taken = [e for e in self._queue if _type_matches(type, e)]
        self._queue = [e for e in self._queue if not _type_matches(type, e)]
        return taken

    def events_of(self, type: TypeSpec = None) -> list[dict]:
        """Every event of ``type`` received so far (taken or not)."""
        return [e for e in self.events if _type_matches(type, e)]

    def messages(self) -> list[dict]:
        """The ``msg`` of every message event received so far."""
        return [e["msg"] for e in self.events if e.get("type") == "message"]

    # ------------------------------------------------------------------ conveniences

    @defer.inlineCallbacks
    def hello(self, version: int = PROTOCOL_VERSION, client: str = CLIENT_NAME):
        data = yield self.request("hello", version=version, client=client)
        self.hello_data = data
        return data

    def register(self, username: str, password: str, **fields) -> defer.Deferred:
        return self.request("register", username=username, password=password, **fields)

    @defer.inlineCallbacks
    def login(self, username: str, password: str):
        data = yield self.request("login", username=username, password=password)
        self.login_data = data
        self.username = data.get("user", {}).get("name", username)
        return data

    def send_message(self, to: str, text: str, cid: str, **fields) -> defer.Deferred:
        return self.request("send", to=to, text=text, cid=cid, **fields)


class WireClientFactory(Factory):
    protocol = WireClient

    def __init__(self, clock=None) -> None:
        self.clock = clock

    def buildProtocol(self, addr):
        proto = WireClient(self.clock)
        proto.factory = self
        return proto


def connect(port: int, host: str = "127.0.0.1", reactor=None, timeout: float = 5) -> defer.Deferred:
    """Connect a :class:`WireClient` to ``host:port``; fires with the connected client."""
    reactor = reactor or _global_reactor
    endpoint = TCP4ClientEndpoint(reactor, host, port, timeout=timeout)
    return endpoint.connect(WireClientFactory(reactor))


@defer.inlineCallbacks
def login_client(port: int, username: str, password: str, register: bool = True,
                 host: str = "127.0.0.1", reactor=None):
    """Connect, ``hello``, optionally ``register``, then ``login``; fires with the client
    (its ``login_data`` holds the login reply). On failure the connection is closed."""
    client = yield connect(port, host, reactor)
    try:
        yield client.hello()
        if register:
            yield client.register(username, password)
        yield client.login(username, password)
    except BaseException:
        yield client.abort()
        raise
    return client


def sleep(seconds: float, reactor=None) -> defer.Deferred:
    """A Deferred that fires after ``seconds`` of reactor time."""
    return task.deferLater(reactor or _global_reactor, seconds, lambda: None)
