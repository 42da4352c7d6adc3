"""The client side of one connection: frames in and out, requests matched to replies.

``request()`` returns a Deferred that fires with the ``ok`` data (or a :class:`Reply` when
the reply carries a body) and fails with :class:`RequestFailed` on an ``error`` reply, or
with ``ConnectionLost`` when the link goes first. Everything else the server sends is an
event, handed to ``on_event(type, obj)`` after it has been checked against the protocol.
"""

from twisted.internet import defer
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Protocol
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.bulk import bulk_io
from chat.protocol.codec import control_frame, decode_object
from chat.protocol.errors import ProtocolError
from chat.protocol.framing import (
    BODY_KIND, CONTROL_KIND, MAX_FRAME, FrameDecoder, FrameTooLarge, body_frame_prefix,
    iter_body_frames, split_body_frame)
from chat.protocol.replies import Reply


TLS_RECORD_STARTS = (b"\x15\x03", b"\x16\x03")
"""How a TLS alert or handshake record begins (type, then major version 3). A frame of ours
begins with its length: such a first frame would be over 350 MB, far past MAX_FRAME."""


class PortSpeaksTLS(Exception):
    """The server answered a plain connection with TLS: the client wants ``--tls``."""


def tls_client_hello() -> bytes:
    """The first bytes a TLS client sends (a ClientHello), made by OpenSSL in memory."""
    from OpenSSL import SSL
    connection = SSL.Connection(SSL.Context(SSL.TLS_CLIENT_METHOD), None)
    connection.set_connect_state()
    try:
        connection.do_handshake()
    except SSL.WantReadError:
        pass
    return connection.bio_read(65536)


class TLSProbe(Protocol):
    """Sends a ClientHello and fires ``answered`` with whether the reply is a TLS record: a
    server that closed a plain connection without a word may be a TLS port."""

    def __init__(self):
        self.answered = defer.Deferred()

    def connectionMade(self):
        try:
            self.transport.write(tls_client_hello())
        except Exception:            # no OpenSSL: nothing to tell
            self._settle(False)

    def dataReceived(self, data: bytes):
        self._settle(data[:2] in TLS_RECORD_STARTS)

    def connectionLost(self, reason=None):
        self._settle(False)

    def _settle(self, speaks_tls: bool) -> None:
        if not self.answered.called:
            self.answered.callback(speaks_tls)
            if self.transport is not None:
                self.transport.abortConnection()


class RequestFailed(Exception):
    """The server answered a request with an ``error``."""

    def __init__(self, code: str, message: str, retry_after=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retry_after = retry_after


class NotConnected(Exception):
    """A request was made while the client is not logged in."""


class ClientConnection(Protocol):
    """Speaks the wire protocol for :class:`chat.client.core.ChatClient`."""

    log = Logger()

    def __init__(self, on_event, on_lost, on_activity=None):
        self._sinks: dict = {}           # request id -> a body sink (streamed replies)
        self._streams: dict = {}         # request id -> [ok data, size, bytes received]
        self.on_event = on_event          # (type, obj) for every event
        self.on_lost = on_lost            # (reason) once the connection is gone
        self.on_activity = on_activity    # () on every read: the heartbeat's input
        self.connected = False
        self._decoder = FrameDecoder(MAX_FRAME)
        self._next_id = 0
        self._waiting: dict[int, defer.Deferred] = {}
        self._bodies: dict[int, tuple[dict, int, bytearray]] = {}
        self._heard = False               # any byte from the server yet
        self.speaks_tls = False           # the server answered with a TLS record

    # -- life cycle
    def connectionMade(self):
        self.connected = True
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)  # small frames wanted now (see the server's connection)
        bulk_io(self.transport)   # one connection per client: files may come any time

    def connectionLost(self, reason=None):
        self.connected = False
        waiting, self._waiting = self._waiting, {}
        self._bodies.clear()
        sinks, self._sinks = self._sinks, {}
        self._streams.clear()
        for sink in sinks.values():
            sink.abort()
        # the owner hears of the loss first: what the failed requests' callbacks do next
        # (retry, wait for a reconnect) must see the link as down already
        self.on_lost(reason)
        for d in waiting.values():
            d.errback(ConnectionLost("the connection was lost before the reply"))

    def close(self) -> None:
        if self.connected:
            self.transport.loseConnection()

    def abort(self) -> None:
        if self.connected:
            self.transport.abortConnection()

    # -- output
    def request(self, request: C.Request, body: bytes = None, sink=None,
                stream=None) -> defer.Deferred:
        """Send ``request`` (built without an id: this gives it the next one).

        ``body`` bytes go after it in body frames. ``stream`` (an upload) announces
        ``stream.size`` bytes and is started with ``stream.start(self, request_id)`` to write
        them with :meth:`write_body` as fast as the transport takes them. ``sink`` receives a
        reply's body as it arrives instead of it being collected in memory (see
        :class:`chat.client.transfers.DownloadSink`); the Deferred then fires with the ``ok``
        data once ``sink.finish()`` has.
        """
        if not self.connected:
            return defer.fail(ConnectionLost("not connected"))
        self._next_id += 1
        request_id = self._next_id
        obj = request.with_id(request_id).to_dict()
        if body is not None:
            obj["body"] = len(body)
        elif stream is not None:
            obj["body"] = stream.size
        d = defer.Deferred()
        self._waiting[request_id] = d
        if sink is not None:
            self._sinks[request_id] = sink
        self.transport.write(control_frame(obj))
        if body is not None:
            self.transport.writeSequence(list(iter_body_frames(request_id, body)))
        elif stream is not None:
            stream.start(self, request_id)
        return d

    def cancel(self, request: defer.Deferred):
        """Ask the server to cancel a running upload or download: ``request`` is the Deferred
        :meth:`request` returned for it. That request then fails with ``RequestFailed``
        ``cancelled`` (unless its reply was on its way already); body frames still coming for
        it are dropped. Returns the Deferred of the ``cancel`` request (its ok data say
        whether the server cancelled anything), or None when ``request`` has been answered
        already or the link is down: nothing of it runs any more."""
        for request_id, waiting in self._waiting.items():
            if waiting is request:
                return self.request(C.Cancel(request=request_id))
        return None

    def write_body(self, request_id: int, data: bytes) -> None:
        """One body frame of a streamed request (the prefix apart: ``data`` is not copied)."""
        if self.connected:
            self.transport.writeSequence((body_frame_prefix(request_id, len(data)), data))

    def notify(self, message: C.Message) -> None:
        """Send a message that gets no reply (``pong``)."""
        if self.connected:
            self.transport.write(control_frame(message.to_dict()))

    # -- input
    def dataReceived(self, data: bytes):
        if self.on_activity is not None:
            self.on_activity()
        if not self._heard and data:
            self._heard = True
            if data[:2] in TLS_RECORD_STARTS:
                # a TLS record (a handshake or an alert) where a frame was due: the port
                # speaks TLS and this connection does not; say so instead of "lost"
                self.speaks_tls = True
                self.abort()
                return
        try:
            frames = self._decoder.feed(data)
        except FrameTooLarge as exc:
            self.log.warn("server sent a frame that is too large: {error}", error=exc)
            self.abort()
            return
        for payload in frames:
            if not self.connected:
                return
            kind = payload[0] if payload else None
            if kind == CONTROL_KIND:
                self._control_received(payload)
            elif kind == BODY_KIND:
                self._body_received(payload)
            else:
                self.log.warn("ignoring a frame of unknown kind {kind!r}", kind=kind)

    def _control_received(self, payload: bytes) -> None:
        try:
            obj = decode_object(payload)
            kind = obj.get("type")
            if kind in C.SERVER_MESSAGES:
                C.SERVER_MESSAGES[kind].parse(obj)   # checks the fields; we keep the dict
        except ProtocolError as exc:
            self.log.warn("ignoring a bad frame from the server: {error}", error=exc.message)
            return
        if kind in ("ok", "error") and not isinstance(obj.get("id"), (int, str, type(None))):
            # our ids are integers: a list or an object (unhashable) answers nothing of ours
            self.log.warn("ignoring a reply with the id {id!r}", id=obj.get("id"))
            return
        if kind == "ok":
            self._ok(obj)
        elif kind == "error":
            self._error(obj)
        elif kind in C.SERVER_MESSAGES:
            self.on_event(kind, obj)
        else:
            # a newer server may send events this client does not know: not an error
            self.log.debug("ignoring unknown event {kind!r}", kind=kind)

    def _ok(self, obj: dict) -> None:
        request_id = obj.get("id")
        data = obj.get("data") or {}
        sink = self._sinks.get(request_id)
        if sink is not None:
            size = obj.get("body") or 0
            self._streams[request_id] = [data, size, 0]
            sink.begin(data, size)
            if not size:
                self._finish_sink(request_id)
            return
        if obj.get("body"):
            if request_id in self._waiting:
                self._bodies[request_id] = (data, obj["body"], bytearray())
            return
        d = self._waiting.pop(request_id, None)
        if d is not None:
            d.callback(data)

    def _error(self, obj: dict) -> None:
        failure = RequestFailed(obj["code"], obj.get("message", ""), obj.get("retry_after"))
        sink = self._sinks.pop(obj.get("id"), None)
        if sink is not None:
            self._streams.pop(obj.get("id"), None)
            sink.abort()
        d = self._waiting.pop(obj.get("id"), None)
        if d is not None:
            d.errback(failure)
        else:
            self.log.info("server error: {code}: {message}", code=failure.code,
                          message=failure.message)

    def _body_received(self, payload: bytes) -> None:
        try:
            request_id, chunk = split_body_frame(payload)
        except ValueError:
            return
        stream = self._streams.get(request_id)
        if stream is not None:                   # goes to a sink as it comes
            self._sinks[request_id].write(chunk)
            stream[2] += len(chunk)
            if stream[2] >= stream[1]:
                self._finish_sink(request_id)
            return
        pending = self._bodies.get(request_id)
        if pending is None:
            return
        data, size, buffer = pending
        buffer += chunk
        if len(buffer) >= size:
            del self._bodies[request_id]
            d = self._waiting.pop(request_id, None)
            if d is not None:
                d.callback(Reply(data, bytes(buffer[:size])))

    def _finish_sink(self, request_id: int) -> None:
        data = self._streams.pop(request_id)[0]
        sink = self._sinks.pop(request_id)
        d = self._waiting.pop(request_id, None)
        done = defer.maybeDeferred(sink.finish)
        done.addCallback(lambda _: data)
        if d is not None:
            done.chainDeferred(d)
