"""What a handler may return besides a plain dict, and the upload sink protocol.

A handler answers a request with one of:

* a ``dict``: the data of the ``ok`` (or None for an empty one);
* a :class:`~chat.protocol.replies.Reply`: data plus a small body (an avatar); a transport
  sends the data as the reply and then the body bytes (the native one: body frames tagged
  with the request id, after an ``ok`` that announces their length);
* a :class:`Stream`: data plus a body that a producer writes as the peer takes it (a
  download);
* for a request whose body streams in (an upload), a *sink* (see :class:`IUploadSink`);
* or it raises (or fails its Deferred with) a ``ProtocolError``.

Each transport renders these in its own protocol; one that cannot carry bodies (IRC) simply
never offers the requests that have them.
"""

from zope.interface import Interface

from chat.protocol.replies import Reply  # noqa: F401 (one type for both sides, see there)


class Stream:
    """A handler result whose ``ok`` announces ``size`` body bytes that ``producer`` writes as
    the transport takes them (a download).

    ``producer`` is an ``IPushProducer`` with ``start(write, done)``: it calls ``write(data)``
    for each piece of the body and ``done(complete)`` once at the end. A transport must
    register it as the producer of its connection for that time (so that it is paused while
    the socket is full), send one stream at a time per peer (a second waits, and its reply
    goes when its turn comes), call ``stopProducing()`` on a stream it will not send (the peer
    went, or cancelled), and close the link if ``done(False)`` comes after the reply was sent
    (the body it announced cannot come).
    """

    __slots__ = ("data", "size", "producer")

    def __init__(self, data: dict, size: int, producer):
        self.data = data
        self.size = size
        self.producer = producer


class IUploadSink(Interface):
    """What a handler of a streamed request (an upload) returns to take the body.

    The transport calls ``write`` with each piece as it arrives, then exactly one of
    ``finish`` (all announced bytes arrived) or ``abort`` (the link went, the body was too
    long, or the peer cancelled). Flow control goes the other way, through the peer:
    the sink calls ``peer.pause_reading()``/``resume_reading()`` and ``peer.keep_alive()``.
    """

    def write(data):
        """Take the next piece of the body (bytes or a memoryview; keep no view of it)."""

    def finish():
        """All of the body arrived: returns a Deferred of the reply's data (or a failure)."""

    def abort():
        """No more of the body will come; what arrived may stay (for a resume)."""
