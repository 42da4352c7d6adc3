"""SASL PLAIN over ``AUTHENTICATE`` (IRCv3 sasl-3.1/3.2), without I/O.

The client sends ``AUTHENTICATE PLAIN``, gets ``AUTHENTICATE +``, then sends the base64 of
``authzid NUL authcid NUL password`` in pieces of 400 bytes (a piece of exactly 400 bytes
means more follow, ``+`` is an empty last piece); ``AUTHENTICATE *`` aborts. The password is
checked by the caller (the server's accounts, in a thread); this module only decodes.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Optional

from chat.server.irc import numerics as N
from chat.server.irc.lines import Message

MECHANISMS = ("PLAIN",)
CHUNK = 400
MAX_PAYLOAD = 8192
"""Base64 bytes of one exchange at most (a 1024-character password fits)."""


@dataclass
class Credentials:
    """A decoded PLAIN message: log in as ``authcid`` with ``password``."""

    authzid: str
    authcid: str
    password: str


class SaslFailure(Exception):
    """The exchange failed: send ``numeric`` with ``text``."""

    def __init__(self, numeric: str, text: str, before: tuple = ()):
        super().__init__(text)
        self.numeric = numeric
        self.text = text
        self.before = before      # lines that go first (908 for an unknown mechanism)


class SaslExchange:
    """One connection's SASL state. :meth:`step` takes each ``AUTHENTICATE`` parameter and
    returns the lines to send and, once the last piece is in, :class:`Credentials`."""

    def __init__(self):
        self.mechanism: Optional[str] = None
        self._pieces: list = []
        self._size = 0

    @property
    def active(self) -> bool:
        return self.mechanism is not None

    def reset(self) -> None:
        self.mechanism = None
        self._pieces = []
        self._size = 0

    def step(self, param: str, nick: str):
        """Returns ``(lines, credentials or None)``; raises :class:`SaslFailure`."""
        target = nick or "*"
        if param == "*":
            self.reset()
            raise SaslFailure(N.ERR_SASLABORTED, "SASL authentication aborted")
        if self.mechanism is None:
            mechanism = param.upper()
            if mechanism not in MECHANISMS:
                raise SaslFailure(N.ERR_SASLFAIL, "SASL authentication failed", (Message(
                    N.RPL_SASLMECHS, [target, ",".join(MECHANISMS),
                                      "are available SASL mechanisms"]),))
            self.mechanism = mechanism
            return [Message("AUTHENTICATE", ["+"])], None
        if len(param) > CHUNK:
            self.reset()
            raise SaslFailure(N.ERR_SASLTOOLONG, "SASL message too long")
        if param != "+":
            self._size += len(param)
            if self._size > MAX_PAYLOAD:
                self.reset()
                raise SaslFailure(N.ERR_SASLTOOLONG, "SASL message too long")
            self._pieces.append(param)
            if len(param) == CHUNK:
                return [], None           # more to come
        payload = "".join(self._pieces)
        self.reset()
        return [], decode_plain(payload)


def failure_lines(failure: SaslFailure, nick: str) -> list:
    """The numerics for a failed exchange (a 908 first when the mechanism was unknown)."""
    target = nick or "*"
    lines = list(failure.before)
    lines.append(Message(failure.numeric, [target, failure.text]))
    return lines


def decode_plain(payload: str) -> Credentials:
    try:
        raw = base64.b64decode(payload, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise SaslFailure(N.ERR_SASLFAIL, "SASL authentication failed") from None
    parts = text.split("\0")
    if len(parts) != 3 or not parts[1] or not parts[2]:
        raise SaslFailure(N.ERR_SASLFAIL, "SASL authentication failed")
    authzid, authcid, password = parts
    return Credentials(authzid, authcid, password)


def encode_plain(authcid: str, password: str, authzid: str = "") -> list:
    """The ``AUTHENTICATE`` parameters a client sends (for tests and the e2e client)."""
    payload = base64.b64encode(f"{authzid}\0{authcid}\0{password}".encode()).decode()
    pieces = [payload[i:i + CHUNK] for i in range(0, len(payload), CHUNK)] or ["+"]
    if len(pieces[-1]) == CHUNK:
        pieces.append("+")
    return pieces
