"""The native protocol over WebSocket: one text message per control frame, one binary message
per body frame, nothing else changed (docs/PROTOCOL.md, *WebSocket*).

A :class:`ChatWebSocket` (autobahn's Twisted server protocol) carries one
:class:`chat.server.connection.ChatConnection` through a :class:`MessageTransport`: the
connection writes length-prefixed frames as it does on TCP, and the transport sends each one
as a WebSocket message; each message that arrives is handed to the connection as the frame it
stands for. So the limits, rate limits, heartbeats, errors and ``bye`` codes are those of the
TCP door, by construction. Flow control passes through: the producer the connection
registers (its output watch, or a download) is registered on the TCP (or TLS) transport
under the WebSocket, so a browser that does not read is paused and, past
``--max-output-buffer``, dropped like a TCP peer.

Sizes are checked as a WebSocket frame *begins* (autobahn tells its length before the payload
comes): a message over what the connection takes now (a control frame's size before a login,
a body frame's after) gets the same ``error`` ``too_large`` as a TCP length prefix, then the
close code 1009, and its payload is never buffered. WebSocket's own UTF-8 check is off so
that a text message that is not UTF-8 is the protocol's ``bad_request``, as on TCP.
"""

import struct

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.codec import control_frame
from chat.protocol.errors import BAD_REQUEST, TOO_LARGE, ProtocolError
from chat.protocol.framing import BODY_KIND, CONTROL_KIND, FrameDecoder
from chat.producers import registered_producer

log = Logger(namespace="chat.server.web.wsdoor")

_LENGTH = struct.Struct(">I")
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
HANDSHAKE_TIMEOUT = 10.0
"""Seconds a connection that reached ``/ws`` has to finish the WebSocket handshake."""
CLOSE_HANDSHAKE_TIMEOUT = 5.0


_last_frame = None
_last_message = b""


def websocket_message(frame) -> bytes:
    """The server-to-client WebSocket frame (unmasked, FIN, text or binary) that carries the
    protocol frame ``frame`` (length prefix included), as bytes to write.

    A fan-out writes one encoded frame to every receiver (chat.server.fanout), so the last one
    is kept: the message is built once per fan-out, not once per receiver."""
    global _last_frame, _last_message
    if frame is _last_frame:
        return _last_message
    view = memoryview(frame)
    messages = []
    offset = 0
    while offset < len(view):          # one frame, as the connection writes them (or several)
        (length,) = _LENGTH.unpack_from(view, offset)
        payload = view[offset + 4:offset + 4 + length]
        if len(payload) != length:
            raise ValueError("a write that ends inside a frame")
        messages.append(_message_head(length, payload[:1] != b"{") + payload)
        offset += 4 + length
    message = messages[0] if len(messages) == 1 else b"".join(messages)
    if type(frame) is bytes:
        _last_frame, _last_message = frame, message
    return message


def _message_head(payload_length: int, binary: bool) -> bytes:
    opcode = 0x82 if binary else 0x81
    if payload_length < 126:
        return bytes((opcode, payload_length))
    if payload_length < 65536:
        return struct.pack(">BBH", opcode, 126, payload_length)
    return struct.pack(">BBQ", opcode, 127, payload_length)


class MessageTransport:
    """What a ChatConnection takes for its transport, over one WebSocket.

    ``write``/``writeSequence`` get whole frames (the connection never writes part of one;
    a partial one is kept until it completes, all the same) and send each as one message.
    The messages are framed here (a server's frames are plain: a 2-10 byte head, no mask) and
    go through the server's turn flusher to the stream below, as the TCP door's frames do:
    autobahn's own ``sendMessage`` cost ten times the CPU of the TCP door per delivery
    (bench/web_fanout.py). autobahn still does the handshake, reads and unmasks what comes in,
    and the close handshake; what it writes itself (a close frame) goes after the flusher
    has sent what was queued before. Producers go to the stream below the WebSocket, where
    the socket's buffer is."""

    def __init__(self, websocket):
        self._ws = websocket
        self._below = websocket.transport
        self._partial = None          # a FrameDecoder, only if a write ever split a frame
        self.producer = None
        self.disconnecting = False
        flusher = websocket.factory.chat_server.flusher
        self._flusher = flusher
        self._out = flusher.writer_for(self._below)

    def frame_writer(self):
        """The ``write(frame)`` the server's flusher hands the connection for this transport
        (chat.server.flusher): whole frames, straight to messages, no checks on the way (the
        connection writes nothing but whole frames; after the close it writes nothing)."""
        return self.write_frame

    def write_frame(self, frame) -> None:
        self._out(websocket_message(frame))

    def flush(self) -> None:
        """Send what this turn queued now (before autobahn writes a frame of its own)."""
        self._flusher.flush_transport(self._below)

    # -- addresses
    def getPeer(self):
        # the client a trusted reverse proxy names (site.py, --web-trusted-proxy), else the stream's
        return getattr(self._ws, "client_peer", None) or self._below.getPeer()

    def getHost(self):
        return self._below.getHost()

    def setTcpNoDelay(self, enabled):
        set_no_delay = getattr(self._below, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(enabled)

    # -- output
    def write(self, data) -> None:
        if self._ws.state != self._ws.STATE_OPEN:
            return None
        if self._partial is None and len(data) >= 4:
            (length,) = _LENGTH.unpack_from(data, 0)
            if length == len(data) - 4:
                self._out(websocket_message(data))
                return None
            if length + 4 < len(data) and self._send_whole_frames(data):
                return None
        if self._partial is None:
            self._partial = FrameDecoder(1 << 31)
        for payload in self._partial.feed(bytes(data)):
            self._send(payload)
        return None

    def _send_whole_frames(self, data) -> bool:
        """Several frames in one write (all whole): send them; False if one is cut."""
        view, offset, frames = memoryview(data), 0, []
        while offset < len(view):
            if len(view) - offset < 4:
                return False
            (length,) = _LENGTH.unpack_from(view, offset)
            if offset + 4 + length > len(view):
                return False
            frames.append(view[offset + 4:offset + 4 + length])
            offset += 4 + length
        for payload in frames:
            self._send(payload)
        return True

    def writeSequence(self, chunks) -> None:
        chunks = list(chunks)
        if (len(chunks) == 2 and len(chunks[0]) == 9 and self._partial is None
                and _LENGTH.unpack_from(chunks[0], 0)[0] == 5 + len(chunks[1])):
            # a body frame as a download writes it: its prefix, then a chunk of up to 256 KiB
            # that is not copied into a new message
            if self._ws.state != self._ws.STATE_OPEN:
                return
            prefix, data = chunks
            self.flush()
            self._below.writeSequence(
                (_message_head(len(data) + 5, True) + bytes(prefix[4:]), data))
            return
        self.write(b"".join(chunks))

    def _send(self, payload) -> None:
        if self._ws.state != self._ws.STATE_OPEN:
            return
        self._out(_message_head(len(payload), payload[:1] != b"{") + bytes(payload))

    # -- flow control
    def registerProducer(self, producer, streaming) -> None:
        self.producer = producer
        self._below.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        if self.producer is not None:
            self.producer = None
            self._below.unregisterProducer()

    # -- closing
    def loseConnection(self) -> None:
        if self.disconnecting:
            return
        self.disconnecting = True
        self.unregisterProducer()
        self.flush()                      # the last frames (a bye) before the close frame
        self._out = _drop
        if self._ws.state == self._ws.STATE_OPEN:
            self._ws.sendClose(CLOSE_NORMAL)
        else:
            self._ws.dropConnection(abort=False)

    def abortConnection(self) -> None:
        self.disconnecting = True
        self.unregisterProducer()
        self.flush()
        self._out = _drop
        self._ws.dropConnection(abort=True)


def _drop(data) -> None:
    """Output after the close frame: dropped."""


class ChatWebSocket(WebSocketServerProtocol):
    """One browser (or other WebSocket) client: a ChatConnection behind a WebSocket."""

    chat = None                      # the ChatConnection, from the opening handshake on

    def onOpen(self):
        from chat.server.connection import ChatConnection
        self.chat = ChatConnection(self.factory.chat_server)
        self.chat.web = True         # for the log and admin "sessions": came in by the web door
        self.chat.makeConnection(MessageTransport(self))

    def _current_limit(self) -> int:
        decoder = getattr(self.chat, "_decoder", None)
        if decoder is None:
            return self.factory.chat_server.config.max_frame
        return decoder.max_frame

    def unregisterProducer(self):
        # autobahn unregisters whatever is registered when it drops the stream; the chat
        # connection may have done so already (a slow reader), and some transports refuse
        # a second time
        if registered_producer(self.transport) is not None:
            super().unregisterProducer()

    def sendData(self, data, sync=False, chopsize=None):
        # autobahn's own frames (a close, a pong) after the chat frames queued before them
        transport = getattr(self.chat, "transport", None)
        if isinstance(transport, MessageTransport):
            transport.flush()
        super().sendData(data, sync, chopsize)

    def onMessageFrameBegin(self, length):
        # the limit of the moment: control frames only before a login, body frames after
        self.maxMessagePayloadSize = self.maxFramePayloadSize = self._current_limit()
        super().onMessageFrameBegin(length)

    def _max_message_size_exceeded(self, msg_size, max_msg_size, reason):
        # what the TCP door says to a length prefix over the limit, then the close
        message = f"frame of {msg_size} bytes is over the limit of {max_msg_size} bytes"
        log.warn("closing {address}: {error}", address=self._address(), error=message)
        if self.state == self.STATE_OPEN and self.chat is not None:
            self.chat.transport.write(control_frame(C.Error(TOO_LARGE, message).to_dict()))
            self.chat.transport.flush()
        if self.chat is not None:
            self.chat.lifecycle.close()     # read nothing more
        super()._max_message_size_exceeded(msg_size, max_msg_size, reason)

    def _address(self) -> str:
        return getattr(self.chat, "address", None) or str(self.peer)

    def onMessage(self, payload, isBinary):
        chat = self.chat
        if chat is None:
            return
        kind = payload[0] if payload else None
        if isBinary and kind != BODY_KIND:
            return self._wrong_kind("a binary message must be a body frame (0x01, id, bytes)")
        if not isBinary and kind != CONTROL_KIND:
            return self._wrong_kind("a text message must be a control frame (one JSON object)")
        # the frame this message stands for, as it would have come over TCP: the connection
        # applies its limits, counts it as a sign of life and decodes it as usual
        chat.dataReceived(_LENGTH.pack(len(payload)) + payload)
        return None

    def _wrong_kind(self, text: str) -> None:
        malformed = getattr(self.chat, "_malformed_input", None)
        if malformed is not None and self.chat.state.value != "closed":
            malformed(None, ProtocolError(BAD_REQUEST, text))

    def onClose(self, wasClean, code, reason):
        chat, self.chat = self.chat, None
        if chat is not None and isinstance(chat.transport, MessageTransport):
            chat.transport._out = _drop
        if chat is not None and chat.transport is not None:
            chat.connectionLost(None)


class _Call:
    """A timer autobahn may cancel after it has run (its own batched timers allow that)."""

    __slots__ = ("call",)

    def __init__(self, call):
        self.call = call

    def cancel(self):
        if self.call.active():
            self.call.cancel()


class ClockTimer:
    """autobahn's ``call_later`` interface on a clock (the reactor, or a test's Clock)."""

    def __init__(self, clock):
        self.clock = clock

    def call_later(self, delay, function, *args, **kwargs):
        return _Call(self.clock.callLater(delay, function, *args, **kwargs))


class ChatWebSocketFactory(WebSocketServerFactory):
    """Builds a :class:`ChatWebSocket` per handshake; all share one ChatServer."""

    protocol = ChatWebSocket
    noisy = False

    def __init__(self, chat_server):
        super().__init__()
        self.chat_server = chat_server
        # autobahn's timers (handshake deadlines) on the server's clock, as all of its own
        self._batched_timer = ClockTimer(chat_server.clock)
        config = chat_server.config
        self.setProtocolOptions(
            utf8validateIncoming=False,           # not UTF-8 is the protocol's bad_request
            maxFramePayloadSize=config.max_frame,
            maxMessagePayloadSize=config.max_frame,
            autoPingInterval=0,                   # the protocol has its own heartbeat
            openHandshakeTimeout=HANDSHAKE_TIMEOUT,
            closeHandshakeTimeout=CLOSE_HANDSHAKE_TIMEOUT,
            failByDrop=False,                     # a refusal's close frame reaches the page
        )
