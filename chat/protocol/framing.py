"""Length-prefixed frames: a 4-byte big-endian length, then that many payload bytes.

The wire format is the one of Twisted's ``Int32StringReceiver``; the decoder is our own
because that class re-copies its whole buffer on every read, which makes a maximum-size
frame trickled in one byte at a time cost gigabytes of copying. This one is sans-IO and
linear in the bytes fed.

A payload is one of two kinds, told apart by its first byte:

* ``{`` (0x7B): a control frame, one UTF-8 JSON object (see :mod:`chat.protocol.codec`);
* ``0x01``: a body frame, ``0x01 | u32 request id | bytes``: binary data that belongs to a
  request or reply with that id (avatars now, file chunks later). No base64 for bulk data.
"""

import struct

MAX_CONTROL_FRAME = 64 * 1024
"""Default upper bound of a control frame's payload."""

MAX_FRAME = 256 * 1024 + 64
"""Default upper bound of any frame's payload (a body frame carries up to 256 KiB of data)."""

BODY_KIND = 0x01
CONTROL_KIND = 0x7B  # "{"
BODY_CHUNK = 64 * 1024
"""How many data bytes one body frame of an avatar carries."""
FILE_CHUNK = 256 * 1024
"""How many data bytes one body frame of a file carries (measured in bench/files.py)."""

_LENGTH = struct.Struct(">I")
_BODY_HEADER = struct.Struct(">BI")
_BODY_PREFIX = struct.Struct(">IBI")   # length prefix and body header together


class FrameTooLarge(Exception):
    """A length prefix announced a frame larger than the decoder accepts."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes is over the limit of {limit} bytes")
        self.length = length
        self.limit = limit


def encode_frame(payload: bytes) -> bytes:
    """Return ``payload`` with its length prefix."""
    return _LENGTH.pack(len(payload)) + payload


def encode_body_frame(request_id: int, data: bytes) -> bytes:
    """Return a complete body frame carrying ``data`` for request ``request_id``."""
    return body_frame_prefix(request_id, len(data)) + data


def body_frame_prefix(request_id: int, size: int) -> bytes:
    """The 9 bytes that go before ``size`` data bytes in a body frame: writing them and the data
    separately spares copying a large chunk into a new frame."""
    return _BODY_PREFIX.pack(size + _BODY_HEADER.size, BODY_KIND, request_id)


def iter_body_frames(request_id: int, data: bytes, chunk: int = BODY_CHUNK):
    """Yield the body frames that carry ``data`` (nothing for empty data)."""
    for start in range(0, len(data), chunk):
        yield encode_body_frame(request_id, data[start:start + chunk])


def split_body_frame(payload: bytes) -> tuple[int, bytes]:
    """Return ``(request id, data)`` of a body frame payload; ``ValueError`` if too short."""
    if len(payload) < _BODY_HEADER.size:
        raise ValueError("body frame shorter than its 5-byte header")
    _kind, request_id = _BODY_HEADER.unpack_from(payload)
    return request_id, payload[_BODY_HEADER.size:]


def split_body_frame_view(payload: bytes) -> tuple[int, memoryview]:
    """Like :func:`split_body_frame`, but the data is a view into ``payload``, not a copy.

    ``payload`` comes from :class:`FrameDecoder`: bytes, or a view of the bytes one read
    returned, so the view keeps at most that read alive, never the decoder's buffer."""
    if len(payload) < _BODY_HEADER.size:
        raise ValueError("body frame shorter than its 5-byte header")
    _kind, request_id = _BODY_HEADER.unpack_from(payload)
    return request_id, memoryview(payload)[_BODY_HEADER.size:]


class FrameDecoder:
    """Turns a byte stream into frame payloads.

    ``feed(data)`` returns the complete payloads found so far and keeps the rest; it raises
    :class:`FrameTooLarge` as soon as a prefix announces more than ``max_frame`` bytes, so a
    peer can never make us buffer more than one maximum frame.
    """

    __slots__ = ("max_frame", "_buffer")

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a complete frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list:
        """The frames completed by ``data``, in order.

        A body frame that arrives whole within one ``data`` comes back as a ``memoryview`` of
        it, not a copy: file chunks then go from the socket's bytes to the disk without being
        copied in between (bench/files.py). Control frames, and frames pieced together from
        several reads, are ``bytes``.
        """
        frames = []
        view = memoryview(data)
        if self._buffer:
            view = self._finish_pending(view, frames)
            if view is None:
                return frames
        offset = 0
        end = len(view)
        while end - offset >= 4:
            (length,) = _LENGTH.unpack_from(view, offset)
            if length > self.max_frame:
                # nothing of what follows is kept: the peer is not speaking our protocol
                raise FrameTooLarge(length, self.max_frame)
            stop = offset + 4 + length
            if stop > end:
                break
            payload = view[offset + 4:stop]
            frames.append(payload if length and payload[0] == BODY_KIND else bytes(payload))
            offset = stop
        if offset < end:
            self._buffer += view[offset:]
        return frames

    def _finish_pending(self, view, frames):
        """Complete the frame an earlier read began with the start of ``view``; returns the
        rest of ``view``, or None if it was not enough."""
        buffer = self._buffer
        if len(buffer) < 4:
            take = 4 - len(buffer)
            buffer += view[:take]
            view = view[take:]
            if len(buffer) < 4:
                return None
        (length,) = _LENGTH.unpack_from(buffer, 0)
        if length > self.max_frame:
            buffer.clear()      # nothing of this read is kept either (see feed)
            raise FrameTooLarge(length, self.max_frame)
        need = 4 + length - len(buffer)
        if len(view) < need:
            buffer += view
            return None
        buffer += view[:need]
        frames.append(bytes(memoryview(buffer)[4:]))
        buffer.clear()
        return view[need:]
