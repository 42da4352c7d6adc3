"""Frames for a connection are collected during a reactor turn and sent with one ``send()``.

Twisted's ``transport.write`` queues the bytes, registers the socket for writability
(``epoll_ctl``), and on the next turn ``doWrite`` sends them and unregisters (``epoll_ctl``
again). A chat server writes a little to many connections on every message, so the profile of
bench/fanout.py at light load showed that machinery as about half of the server's time. Here
the frames written to a connection during one turn are joined and sent in a single ``send``
when the turn ends (``callLater(0)``): the same coalescing, without the registration round
trip. Whatever the kernel does not take at once goes to ``transport.write``, which then owns
the rest of the stream, so the byte order is kept.

This reads a few attributes of Twisted's ``FileDescriptor`` that are not public API, so it is
feature-detected: other transports (TLS, the tests' StringTransport, a future Twisted) get
plain ``transport.write``. tests/test_flusher.py checks over real sockets that the fast path is
taken with the installed Twisted and that order is kept when the kernel buffer fills.
"""

from twisted.internet import tcp

_NEEDED = ("_tempDataLen", "dataBuffer", "offset", "socket", "_writeDisconnected", "connected",
           "disconnecting")


def supports_flushing(transport) -> bool:
    return isinstance(transport, tcp.Connection) and all(hasattr(transport, a) for a in _NEEDED)


class TurnFlusher:
    """Per-turn output buffers of all connections, flushed at the end of the reactor turn."""

    def __init__(self, clock):
        self.clock = clock
        self._pending: dict = {}      # transport -> list of byte strings, in write order
        self._scheduled = False

    def writer_for(self, transport):
        """The ``write(bytes)`` a connection should use (a transport that frames the bytes
        itself, the web door's WebSocket, says with ``frame_writer``)."""
        frame_writer = getattr(transport, "frame_writer", None)
        if frame_writer is not None:
            return frame_writer()
        if not supports_flushing(transport):
            return transport.write
        pending = self._pending
        flusher = self

        def write(data: bytes) -> None:
            chunks = pending.get(transport)
            if chunks is None:
                pending[transport] = [data]
                if not flusher._scheduled:
                    flusher._scheduled = True
                    flusher.clock.callLater(0, flusher.flush)
            else:
                chunks.append(data)
        return write

    def flush(self) -> None:
        """Send everything collected this turn."""
        self._scheduled = False
        items = list(self._pending.items())
        self._pending.clear()  # in place: the writers hold this very dict
        for transport, chunks in items:
            _send(transport, chunks[0] if len(chunks) == 1 else b"".join(chunks))

    def flush_transport(self, transport) -> None:
        """Send one connection's collected frames now (before it is closed)."""
        chunks = self._pending.pop(transport, None)
        if chunks:
            _send(transport, b"".join(chunks))


def _send(transport, data: bytes) -> None:
    if (transport._tempDataLen or transport.offset != len(transport.dataBuffer)
            or not transport.connected or transport.disconnecting
            or transport._writeDisconnected):
        transport.write(data)  # Twisted already holds bytes of this stream, or is closing it
        return
    try:
        sent = transport.socket.send(data)
    except BlockingIOError:
        sent = 0
    except OSError:
        transport.write(data)  # let Twisted meet the error on its own path and close properly
        return
    if sent < len(data):
        transport.write(data[sent:])
