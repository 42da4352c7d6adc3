"""A minimal WebSocket client for tests: the handshake, masked frames out, frames in.

Socket-free (it writes to and reads from whatever the test gives it), so the web door's
tests run on StringTransports and a task.Clock; the browser tests use a real browser.
"""

import base64
import os
import struct

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 1, 2, 8, 9, 10


def handshake(path="/ws", host="127.0.0.1:8080", origin="http://127.0.0.1:8080",
              extra=()) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def client_frame(opcode: int, payload: bytes, fin: bool = True, length=None) -> bytes:
    """One masked client frame; ``length`` overrides the announced length (lies for tests)."""
    mask = os.urandom(4)
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def text(payload) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    return client_frame(OP_TEXT, payload)


def binary(payload: bytes) -> bytes:
    return client_frame(OP_BINARY, payload)


class FrameReader:
    """Splits what a server sent into its HTTP response head and its (unmasked) frames."""

    def __init__(self):
        self.buffer = b""
        self.head = None
        self.frames = []          # (opcode, payload)

    def feed(self, data: bytes) -> list:
        self.buffer += data
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return []
            self.head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
        new = []
        while len(self.buffer) >= 2:
            opcode = self.buffer[0] & 0x0F
            n = self.buffer[1] & 0x7F
            offset = 2
            if n == 126:
                if len(self.buffer) < 4:
                    break
                (n,) = struct.unpack(">H", self.buffer[2:4])
                offset = 4
            elif n == 127:
                if len(self.buffer) < 10:
                    break
                (n,) = struct.unpack(">Q", self.buffer[2:10])
                offset = 10
            if len(self.buffer) < offset + n:
                break
            new.append((opcode, self.buffer[offset:offset + n]))
            self.buffer = self.buffer[offset + n:]
        self.frames.extend(new)
        return new

    @property
    def status(self) -> int:
        return int(self.head.split(" ", 2)[1]) if self.head else None
