"""One client connection: frames in, requests to the handlers, replies and events out.

The connection is deliberately thin: it decodes frames, assembles request bodies, keeps the
heartbeat, enforces "hello first" and "log in first", counts malformed input, and turns handler
results into exactly one ``ok`` or ``error`` per request. What a request *does* lives in
:mod:`chat.server.handlers`.

Bodies come in two ways. A small one (an avatar) is collected and handed to the handler whole.
A request class with ``STREAM_BODY`` (an upload) is handed to its handler as soon as its control
frame arrives; the handler returns a *sink* (``write(data)``, ``finish() -> Deferred``,
``abort()``) that gets every body frame's data as it comes, so a file never sits in memory.
Going out, a handler may answer with a :class:`Stream` (a download): its ``ok`` is followed by
body frames that a push producer writes as fast as the transport takes them, one stream at a
time per connection. Either kind of transfer can be cancelled by the client (:meth:`cancel`)
without closing the connection.

The connection is one transport of several (see :mod:`chat.server.session`): it provides
``IPeer``, and its session's states (NEW, READY, AUTHENTICATED, CLOSED) and login deadline are
its :class:`~chat.server.lifecycle.SessionLifecycle`'s.
"""

from collections import deque

from twisted.internet import defer
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from chat.protocol import commands as C
from chat.protocol.bulk import bulk_io
from chat.protocol.codec import control_frame, decode_object
from chat.protocol.errors import (
    BAD_REQUEST, BYE_SLOW_READER, CANCELLED, NOT_LOGGED_IN, RATE_LIMITED,
    SERVER_ERROR, TOO_LARGE, ProtocolError)
from chat.protocol.framing import (
    BODY_KIND, CONTROL_KIND, MAX_CONTROL_FRAME, FrameDecoder, FrameTooLarge, body_frame_prefix,
    iter_body_frames, split_body_frame_view)
from chat.protocol.heartbeat import Heartbeat
from chat.producers import registered_producer
from chat.server.backlog import OutputBacklog
from chat.server.frames import event_frame
from chat.server.results import Reply, Stream  # noqa: F401 (handlers' results, re-exported)
from chat.server.session import IPeer, State
from chat.server.storage import StorageError

MALFORMED_IN_A_ROW = 20
"""Malformed frames in a row after which a connection counts as abusive and is closed."""

ABORT_AFTER = 10.0
"""Seconds a closing connection may take to flush its last frames before it is cut."""


# a module's Logger, not a class attribute (which binds to the instance): a log event would
# then hold the connection as its source, and whatever keeps events (an observer's history
# before logging begins) would keep closed connections alive
log = Logger(namespace="chat.server.connection.ChatConnection")


def _closed(data) -> None:
    """A closed connection's output: dropped."""


class _Body:
    """A request body on its way in: collected (``buffer``), streamed to a ``sink``, or, for a
    request already refused, read and dropped (neither)."""

    __slots__ = ("command", "remaining", "buffer", "sink", "reserved")

    def __init__(self, command, remaining: int, buffer=None, sink=None, reserved: int = 0):
        self.command = command
        self.remaining = remaining
        self.buffer = buffer
        self.sink = sink
        self.reserved = reserved     # bytes of the server's pre-login budget (see below)

    @property
    def discarded(self) -> bool:
        return self.buffer is None and self.sink is None


@implementer(IPeer)
class ChatConnection(Protocol):
    """The server side of one client connection of the native protocol."""

    kind = "native"

    def __init__(self, server):
        self.server = server
        self.lifecycle = server.open_session(self)
        self.last_request = None     # clock time of the last request but a ping (admin "idle")
        self.host = "?"              # the peer's address and port, apart (admin "sessions")
        self.port = None
        self.address = "?"           # "host:port", for the log
        self.connected_at = 0.0
        # until a login, only control frames (or one register's avatar, see _control_received)
        self._decoder = FrameDecoder(min(server.config.max_frame, server.config.max_control_frame))
        self._heartbeat = None
        self._malformed = 0
        self._bodies: dict[int, _Body] = {}
        self._write = None
        self._streams: deque = deque()       # (request id, Stream) waiting for their turn
        self._streaming = None               # the Stream being sent
        self._streaming_id = None            # ... and the id of its request
        self._transfers = 0                  # uploads and downloads running (bulk I/O)
        self.admitted = False                # counted in the server's connection limits
        # tells when the peer stops reading, and counts what it is sent meanwhile
        self.output = OutputBacklog(server.config.max_output_buffer)
        self._watching = False               # self.output is the transport's producer
        self._closing = False                # said bye already
        self._abort_call = None              # cuts a closing connection that does not go

    # -- who it is (the lifecycle's)
    @property
    def state(self) -> State:
        return self.lifecycle.state

    @property
    def session(self):
        """The Session it is logged in as, or None."""
        return self.lifecycle.session

    @property
    def client_name(self):
        return self.lifecycle.client_name

    def state_changed(self, state: State) -> None:
        """Body frames (files) are welcome once logged in; before (again), control frames
        only, unless a register's avatar is on its way."""
        if self._decoder is None:
            return
        if state is State.AUTHENTICATED:
            self._decoder.max_frame = self.server.config.max_frame
        elif state is State.READY and not self._bodies:
            self._decoder.max_frame = self._prelogin_max_frame()

    # -- life cycle
    def connectionMade(self):
        peer = self.transport.getPeer()
        self.host = getattr(peer, "host", "?")
        self.port = getattr(peer, "port", None)
        self.address = f"{self.host}:{self.port if self.port is not None else '?'}"
        self.connected_at = self.server.clock.seconds()
        # chat frames are small and wanted now: without this, Nagle's algorithm meets the
        # peer's delayed ACK and a message can wait 40 ms. Frames still leave in batches: the
        # flusher sends all a connection got in one reactor turn with one send() call.
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        self._raw_write = self.server.flusher.writer_for(self.transport)
        self._write = self._counted_write
        log.info("connection from {address}", address=self.address)
        refusal = self.server.admit(self)
        if refusal is not None:
            self.close(*refusal)
            self.lifecycle.close()      # read nothing from it
            return
        self._watch_output()
        self.lifecycle.open()
        self._heartbeat = Heartbeat(self.server.clock, self._ping, self._expire,
                                    self.server.config.ping_after, self.server.config.timeout)
        self._heartbeat.start()
        self.server.connection_made(self)

    def connectionLost(self, reason=None):
        user = self.session.name if self.session else None
        self.lifecycle.close()          # a login ends here (the server forgets it)
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None      # it holds bound methods of this connection: a cycle
        if self._abort_call is not None and self._abort_call.active():
            self._abort_call.cancel()
        self._abort_call = None
        self._watching = False
        bodies = list(self._bodies.values())
        self._bodies.clear()
        for pending in bodies:
            if pending.reserved:
                self.server.release_prelogin(pending.reserved)
            if pending.sink is not None:
                pending.sink.abort()    # what arrived stays, for a resume
        self._stop_streams()
        # freed now, not at the next full garbage collection (rare once the start-up heap is
        # frozen): no buffer held, and no reference cycle through this connection left
        self._decoder = None
        self._write = _closed
        log.info("connection from {address} closed{user}", address=self.address,
                 user=f" (user {user})" if user else "")
        self.server.connection_lost(self)

    def close(self, code: str, message: str) -> None:
        """Say goodbye, close, and cut the connection if the peer does not read."""
        if self.state is State.CLOSED or self._closing:
            return
        self._closing = True
        self.lifecycle.closing()
        self.send(C.Bye(code, message))
        self._lose_connection()
        self._abort_call = self.server.clock.callLater(ABORT_AFTER, self._abort)

    def _lose_connection(self):
        self.server.flusher.flush_transport(self.transport)  # the last frames go out first
        self._unwatch_output()      # a registered producer would keep the connection open
        self.transport.loseConnection()

    def _watch_output(self):
        if self.state is not State.CLOSED and self._streaming is None and not self._watching:
            self.output.resumeProducing()
            self.transport.registerProducer(self.output, True)
            self._watching = True

    def _unwatch_output(self):
        if self._watching:
            self._watching = False
            self.output.paused = False
            self.transport.unregisterProducer()

    # -- slow readers
    def _counted_write(self, data) -> None:
        """Write a frame; while the transport is behind (the peer does not read), count it, and
        drop the connection once ``max_output_buffer`` bytes wait."""
        if self.output.paused or (self._streaming is not None
                                  and getattr(self._streaming.producer, "paused", False)):
            if self.output.over(len(data)) and self.lifecycle.state is not State.CLOSED:
                return self._drop_slow_reader()
        self._raw_write(data)

    def _drop_slow_reader(self) -> None:
        limit = self.server.config.max_output_buffer
        log.warn("dropping {address}{user}: over {n} bytes of output it does not read",
                      address=self.address, n=limit,
                      user=f" (user {self.session.name})" if self.session else "")
        self.lifecycle.close()      # nothing more is read or written
        # the bye waits behind what the peer did not read; it arrives only if it reads on
        self._raw_write(control_frame(C.Bye(
            BYE_SLOW_READER, f"more than {limit} bytes of output were not read").to_dict()))
        self.server.flusher.flush_transport(self.transport)
        self._unwatch_output()
        self.transport.abortConnection()

    def _abort(self):
        if self.state is not State.CLOSED:
            self.transport.abortConnection()

    def _ping(self):
        self.send(C.ServerPing())

    def _expire(self):
        log.info("connection from {address} silent for {s:.0f} s: closing",
                      address=self.address, s=self.server.config.timeout)
        self.close("timeout", f"no data for {self.server.config.timeout:.0f} s")

    # -- output
    def send(self, message: C.Message) -> None:
        self._write(control_frame(message.to_dict()))

    def send_frame(self, frame: bytes) -> None:
        """Write an already encoded frame."""
        if self.lifecycle.state is not State.CLOSED:
            self._write(frame)

    def deliver(self, event) -> None:
        """Send a typed event; its frame is encoded once for all the peers it goes to."""
        if self.lifecycle.state is not State.CLOSED:
            self._write(event_frame(event))

    def keep_alive(self) -> None:
        """Count as a sign of life from the peer (its upload is being written while the
        connection is not read: the disk, not the peer, is slow)."""
        if self._heartbeat is not None and self.state is not State.CLOSED:
            self._heartbeat.activity()

    def pause_reading(self) -> None:
        if self.lifecycle.state is not State.CLOSED:
            self.transport.pauseProducing()

    def resume_reading(self) -> None:
        # a lost transport cannot resume (its reading stopped for good)
        if self.lifecycle.state is not State.CLOSED and getattr(self.transport, "connected", True):
            self.transport.resumeProducing()

    # -- input
    def dataReceived(self, data: bytes):
        if self.state is State.CLOSED:
            return
        try:
            frames = self._decoder.feed(data)
        except FrameTooLarge as exc:
            log.warn("closing {address}: {error}", address=self.address, error=str(exc))
            self.send(C.Error(TOO_LARGE, str(exc)))
            self.lifecycle.close()  # read nothing more; the peer is not speaking our protocol
            self._lose_connection()
            return
        if frames:
            # a sign of life is a whole frame, not a byte: a peer trickling one frame a byte
            # at a time is as silent as one that sends nothing (PROTOCOL.md, Heartbeats)
            self._heartbeat.activity()
        for payload in frames:
            if self.state is State.CLOSED:
                return
            self._frame_received(payload)

    def _frame_received(self, payload: bytes) -> None:
        kind = payload[0] if payload else None
        if kind == CONTROL_KIND:
            self._control_received(payload)
        elif kind == BODY_KIND:
            self._body_received(payload)
        else:
            self._malformed_input(None, ProtocolError(BAD_REQUEST, "unknown frame kind"))

    def _control_received(self, payload: bytes) -> None:
        if len(payload) > self.server.config.max_control_frame:
            return self._malformed_input(None, ProtocolError(
                TOO_LARGE, f"control frame over {self.server.config.max_control_frame} bytes"))
        obj = None
        try:
            obj = decode_object(payload)
            command = C.parse_message(obj, C.CLIENT_COMMANDS)
        except ProtocolError as exc:
            return self._malformed_input(C.request_id_of(obj), exc)
        self._malformed = 0
        if isinstance(command, C.Pong):
            return None
        if self.state is not State.AUTHENTICATED:
            # hello, register and login are three requests: a connection that sends dozens
            # without logging in only costs the server (a flood of cheap refusals)
            lifecycle = self.lifecycle
            lifecycle.prelogin_requests += 1
            budget = self.server.config.prelogin_requests
            if budget and lifecycle.prelogin_requests > budget:
                log.warn("closing {address}: {n} requests without a login",
                         address=self.address, n=lifecycle.prelogin_requests)
                return self.close("abuse", f"more than {budget} requests without a login")
        if command.REPLY_BODY and type(command.id) is not int:
            # body frames carry the id as 4 bytes: a string id could never tag them
            return self._reply_error(command.id, ProtocolError(
                BAD_REQUEST, "a request answered with a body needs an integer id"))
        body = getattr(command, "body", None)
        if body is None and not command.STREAM_BODY:
            return self._dispatch(command, None)
        body = body or 0
        if type(command.id) is not int:
            return self._reply_error(command.id, ProtocolError(
                BAD_REQUEST, "a request with a body needs an integer id"))
        body_max = self.server.body_max(command)
        if body > body_max:
            return self._reply_error(command.id, ProtocolError(
                TOO_LARGE, f"body of {body} bytes is over the limit of {body_max}"))
        if any(not pending.discarded for pending in self._bodies.values()):
            return self._refuse_stream(command, body, ProtocolError(
                BAD_REQUEST, "one request body at a time"))
        if command.STREAM_BODY:
            return self._open_stream(command, body)
        error = self._state_refusal(command)
        if error is not None:
            # refused at its header (set_avatar before a login, register before hello): its
            # body frames are read and dropped, never held in memory
            return self._refuse_stream(command, body, error)
        reserved = 0
        if self.state is not State.AUTHENTICATED and body:
            # a register's avatar: what strangers may make the server hold is bounded in all
            if not self.server.reserve_prelogin(body):
                return self._refuse_stream(command, body, ProtocolError(
                    RATE_LIMITED, "the server is busy with other registrations; try again "
                                  "in 1 s", retry_after=1))
            reserved = body
            self._decoder.max_frame = self.server.config.max_frame
        self._bodies[command.id] = _Body(command, body, buffer=bytearray(), reserved=reserved)
        return None

    def _open_stream(self, command: C.Request, size: int) -> None:
        error = self._refusal(command)
        if error is not None:
            return self._refuse_stream(command, size, error)
        try:
            sink = self.server.handle(self, command, None)
        except ProtocolError as exc:
            return self._refuse_stream(command, size, exc)
        except Exception:
            log.failure("request from {address} failed", address=self.address)
            return self._refuse_stream(command, size, ProtocolError(
                SERVER_ERROR, "internal server error"))
        if size == 0:
            return self._finish_stream(command.id, sink)
        self._bodies[command.id] = _Body(command, size, sink=sink)
        self._bulk(+1)
        return None

    def _bulk(self, change: int) -> None:
        """Count the transfers on this connection; bigger I/O steps while there are any."""
        before = self._transfers
        self._transfers += change
        if (before == 0) != (self._transfers == 0) and self.state is not State.CLOSED:
            bulk_io(self.transport, self._transfers > 0)

    def _refuse_stream(self, command: C.Request, size: int, error: ProtocolError) -> None:
        """Answer a streamed request with ``error`` and drop the body frames still coming for
        it: the sender may have sent megabytes before it heard, and they are not abuse."""
        if size and command.id not in self._bodies:
            self._bodies[command.id] = _Body(command, size)
        self._reply_error(command.id, error)

    def _finish_stream(self, request_id: int, sink) -> None:
        d = defer.maybeDeferred(sink.finish)
        d.addCallbacks(self._reply_ok, self._request_failed,
                       callbackArgs=(request_id,), errbackArgs=(request_id,))

    def _body_received(self, payload: bytes) -> None:
        try:
            # a view, not a copy: a file chunk goes to its sink as it is
            request_id, data = split_body_frame_view(payload)
        except ValueError as exc:
            return self._malformed_input(None, ProtocolError(BAD_REQUEST, str(exc)))
        pending = self._bodies.get(request_id)
        if pending is None:
            return self._malformed_input(None, ProtocolError(
                BAD_REQUEST, f"body frame for unknown request {request_id}"))
        if len(data) > pending.remaining:
            del self._bodies[request_id]
            self._release(pending)
            if pending.discarded:
                return None
            if pending.sink is not None:
                pending.sink.abort()
                self._bulk(-1)
            return self._reply_error(request_id, ProtocolError(
                BAD_REQUEST, f"body longer than the announced {pending.command.body} bytes"))
        pending.remaining -= len(data)
        if pending.sink is not None:
            pending.sink.write(data)
        elif pending.buffer is not None:
            pending.buffer += data
        if pending.remaining == 0:
            del self._bodies[request_id]
            self._release(pending)
            if pending.sink is not None:
                self._bulk(-1)
            if pending.sink is not None:
                self._finish_stream(request_id, pending.sink)
            elif pending.buffer is not None:
                self._dispatch(pending.command, bytes(pending.buffer))
        return None

    def _release(self, pending: _Body) -> None:
        """Give back what a pre-login body held of the server's budget; without a body on
        its way, a connection that has not logged in takes control frames only again."""
        if pending.reserved:
            self.server.release_prelogin(pending.reserved)
            pending.reserved = 0
        if self.state is not State.AUTHENTICATED and self._decoder is not None \
                and not any(p.reserved for p in self._bodies.values()):
            self._decoder.max_frame = self._prelogin_max_frame()

    def _prelogin_max_frame(self) -> int:
        return min(self.server.config.max_frame, self.server.config.max_control_frame)

    def _malformed_input(self, request_id, error: ProtocolError) -> None:
        self._malformed += 1
        log.info("{code} from {address}: {message}", code=error.code,
                      address=self.address, message=error.message)
        self._reply_error(request_id, error, logged=True)
        if self._malformed >= MALFORMED_IN_A_ROW:
            log.warn("closing {address}: {n} malformed frames in a row",
                          address=self.address, n=self._malformed)
            self.close("abuse", f"{self._malformed} malformed frames in a row")

    # -- requests
    def _state_refusal(self, command: C.Request):
        """The error for a request this connection's state does not allow yet, or None."""
        if self.state is State.NEW and not isinstance(command, (C.Hello, C.Ping)):
            return ProtocolError(BAD_REQUEST, "send hello first")
        if command.NEEDS_LOGIN and self.state is not State.AUTHENTICATED:
            return ProtocolError(NOT_LOGGED_IN, "log in first")
        return None

    def _refusal(self, command: C.Request):
        """:meth:`_state_refusal`, then the read-request rate limit."""
        error = self._state_refusal(command)
        if error is not None:
            return error
        if command.QUERY and self.session is not None:
            # each is a storage read: a flood of them would queue everybody's sends behind it
            limits = self.server.limits
            if limits is not None:
                try:
                    limits.queries.take(self.session.key, "too many requests; slow down")
                except ProtocolError as error:
                    return error
        return None

    def _dispatch(self, command: C.Request, body) -> None:
        error = self._refusal(command)
        if error is not None:
            return self._reply_error(command.id, error)
        if not isinstance(command, C.Ping):
            self.last_request = self.server.clock.seconds()
        d = defer.maybeDeferred(self.server.handle, self, command, body)
        d.addCallbacks(self._reply_ok, self._request_failed,
                       callbackArgs=(command.id,), errbackArgs=(command.id,))
        return None

    def _reply_ok(self, result, request_id) -> None:
        if self.state is State.CLOSED:
            if isinstance(result, Stream):
                result.producer.stopProducing()
            return
        if isinstance(result, Stream):
            self._streams.append((request_id, result))
            return self._next_stream()
        if isinstance(result, Reply):
            reply = C.Ok(request_id, result.data, len(result.body))
        else:
            reply = C.Ok(request_id, result if result is not None else {})
        frame = control_frame(reply.to_dict())
        if len(frame) - 4 > MAX_CONTROL_FRAME:
            # a handler forgot to page: never send what a client must refuse
            log.error("reply of {n} bytes to {address} is over the frame limit",
                           n=len(frame) - 4, address=self.address)
            return self._reply_error(request_id, ProtocolError(
                SERVER_ERROR, "the reply would be too large; ask for less"))
        self._write(frame)
        if isinstance(result, Reply):
            for body_frame in iter_body_frames(request_id, result.body):
                self._write(body_frame)

    # -- streamed replies (downloads)
    def _next_stream(self) -> None:
        while self._streaming is None and self._streams and self.state is not State.CLOSED:
            request_id, stream = self._streams.popleft()
            frame = control_frame(C.Ok(request_id, stream.data, stream.size or None).to_dict())
            if len(frame) - 4 > MAX_CONTROL_FRAME:
                log.error("reply of {n} bytes to {address} is over the frame limit",
                               n=len(frame) - 4, address=self.address)
                stream.producer.stopProducing()
                self._reply_error(request_id, ProtocolError(
                    SERVER_ERROR, "the reply would be too large; ask for less"))
                continue
            # what this turn queued for the connection goes first, then the ok, then the
            # body: the frames leave in the order they were written
            self.server.flusher.flush_transport(self.transport)
            self.transport.write(frame)
            self._streaming, self._streaming_id = stream, request_id
            self._unwatch_output()      # a transport has one producer: the download's now
            self.output.caught_up()
            self.transport.registerProducer(stream.producer, True)
            self._bulk(+1)
            stream.producer.start(
                lambda data, request_id=request_id: self._write_body(request_id, data),
                lambda complete, stream=stream: self._stream_done(stream, complete))

    def _write_body(self, request_id: int, data) -> None:
        if self.state is State.CLOSED:
            return
        self.server.flusher.flush_transport(self.transport)
        self.output.caught_up()      # the producer may write: the transport is not behind
        # the prefix apart from the data: a 256 KiB chunk is not copied into a new frame
        self.transport.writeSequence((body_frame_prefix(request_id, len(data)), data))

    def _stream_done(self, stream: Stream, complete: bool) -> None:
        if self._streaming is not stream:
            return      # it was cancelled: cancel() has cleaned up already
        self._streaming = self._streaming_id = None
        self._bulk(-1)
        if registered_producer(self.transport) is stream.producer:
            self.transport.unregisterProducer()
        if self.state is State.CLOSED or getattr(self.transport, "disconnecting", False):
            return
        self._watch_output()
        if not complete:
            # the body announced in the ok cannot be sent: only closing tells the client;
            # it resumes the download after reconnecting
            log.warn("a download to {address} failed: closing", address=self.address)
            self.lifecycle.close()
            self._lose_connection()
            return
        self._next_stream()

    # -- cancelling (the client's ``cancel`` request)
    def cancel(self, request_id) -> bool:
        """Stop this connection's upload or download ``request_id`` while it runs (or any
        request whose body is still coming in, e.g. an avatar); it ends with an ``error``
        ``cancelled``, sent before this returns. False if nothing of it runs (an unknown id,
        or a request that is over: its reply has come or is on its way)."""
        error = ProtocolError(CANCELLED, f"request {request_id} was cancelled")
        pending = self._bodies.get(request_id)
        if pending is not None and not pending.discarded:
            # from now on its body frames still on their way are read and dropped, as for a
            # refused upload; the entry goes once the announced bytes are in
            sink, pending.sink, pending.buffer = pending.sink, None, None
            if sink is not None:
                sink.abort()          # the partial keeps what arrived, as after a lost link
                self._bulk(-1)
            self._reply_error(request_id, error)
            return True
        for index, (queued_id, stream) in enumerate(self._streams):
            if queued_id == request_id:          # a download whose ok was not sent yet
                del self._streams[index]
                stream.producer.stopProducing()
                self._reply_error(request_id, error)
                return True
        if self._streaming is not None and self._streaming_id == request_id:
            stream = self._streaming
            self._streaming = self._streaming_id = None   # its done() is ignored now
            self._bulk(-1)
            if registered_producer(self.transport) is stream.producer:
                self.transport.unregisterProducer()
            stream.producer.stopProducing()
            self._watch_output()
            # after the body frames already written: the client drops those, and this error
            # tells it that no more come
            self._reply_error(request_id, error)
            self._next_stream()
            return True
        return False

    def _stop_streams(self) -> None:
        streams = [stream for _, stream in self._streams]
        self._streams.clear()
        if self._streaming is not None:
            streams.insert(0, self._streaming)
        for stream in streams:
            stream.producer.stopProducing()

    def _request_failed(self, failure, request_id) -> None:
        error = failure.value
        if isinstance(error, StorageError):
            log.warn("storage failed for {address}: {error}", address=self.address,
                          error=error)
            error = ProtocolError(SERVER_ERROR, "the server could not store this; try again")
        elif not isinstance(error, ProtocolError):
            log.failure("request from {address} failed", failure, address=self.address)
            error = ProtocolError(SERVER_ERROR, "internal server error")
        self._reply_error(request_id, error)

    def _reply_error(self, request_id, error: ProtocolError, logged: bool = False) -> None:
        self.server.metrics.error(error.code)
        if not logged:
            log.info("{code} to {address}: {message}", code=error.code,
                          address=self.address, message=error.message)
        if self.state is not State.CLOSED:
            self.send(C.Error(error.code, error.message, request_id,
                              getattr(error, "retry_after", None)))


class ChatFactory(Factory):
    """Builds a ChatConnection per accepted socket; all share one ChatServer."""

    noisy = False

    def __init__(self, server):
        self.server = server

    def buildProtocol(self, addr):
        connection = ChatConnection(self.server)
        connection.factory = self
        return connection

