"""IRC lines: parsing and formatting messages with IRCv3 tags, and a bounded input buffer.

A line is ``[@tags SPACE] [:source SPACE] COMMAND [params...] [SPACE :trailing]`` ended by
CR LF (a bare LF or CR is accepted too, as most servers do). The limits are the ones of
RFC 1459 and IRCv3 message-tags: the tag section (from ``@`` to its space) at most 8191 bytes,
the rest at most 512 bytes with its CR LF; of the tags, a client may send at most 4,094 bytes.

:class:`LineReader` is the input side: it takes bytes as they come and returns the complete
lines; a line over the limits is reported once as :data:`TOO_LONG` and its bytes are dropped
as they arrive, so a peer that never sends a line end makes the reader hold at most
``MAX_LINE`` bytes.
"""

from dataclasses import dataclass, field
from typing import Optional

MAX_TAGS = 8191
"""Bytes of the tag section at most, from the ``@`` to the space after the tags."""
MAX_BODY = 512
"""Bytes of the rest of a line at most, with its CR LF (RFC 1459)."""
MAX_LINE = MAX_TAGS + MAX_BODY
MAX_CLIENT_TAG_DATA = 4094
"""Tag data a client may send (without ``@`` and the space) and a server may add."""
MAX_PARAMS = 15


class ParseError(ValueError):
    """A line that is not an IRC message (empty, only a source, bad tags)."""


class _TooLong:
    """The marker :meth:`LineReader.feed` returns for a line over the limits."""

    __slots__ = ()

    def __repr__(self):
        return "TOO_LONG"


TOO_LONG = _TooLong()

_UNESCAPE = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}


def unescape_tag_value(raw: str) -> str:
    """``a\\sb\\:c`` -> ``a b;c``; an unknown escape is the character itself, a lone
    backslash at the end is dropped (IRCv3 message-tags)."""
    if "\\" not in raw:
        return raw
    out = []
    chars = iter(raw)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        following = next(chars, None)
        if following is None:
            break
        out.append(_UNESCAPE.get(following, following))
    return "".join(out)


def escape_tag_value(value: str) -> str:
    return "".join(_ESCAPE.get(ch, ch) for ch in value)


def parse_tags(raw: str) -> dict:
    """``a=1;+b;c=x\\sy`` -> ``{"a": "1", "+b": "", "c": "x y"}``; a key given twice keeps
    its last value; empty keys are skipped."""
    tags = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, _, value = item.partition("=")
        if not key:
            continue
        tags[key] = unescape_tag_value(value)
    return tags


def format_tags(tags: dict) -> str:
    return ";".join(key if value in (None, "") else f"{key}={escape_tag_value(str(value))}"
                    for key, value in tags.items())


@dataclass
class Message:
    """One IRC message. ``command`` is upper case (numerics are three digits)."""

    command: str
    params: list = field(default_factory=list)
    source: Optional[str] = None
    tags: dict = field(default_factory=dict)

    def to_line(self) -> str:
        """The line without its CR LF. The last parameter gets a ``:`` when it needs one
        (empty, with a space, starting with ``:``)."""
        parts = []
        if self.tags:
            parts.append("@" + format_tags(self.tags))
        if self.source:
            parts.append(":" + self.source)
        parts.append(self.command)
        params = list(self.params)
        if params:
            last = params.pop()
            for param in params:
                parts.append(param)
            if last == "" or " " in last or last.startswith(":"):
                last = ":" + last
            parts.append(last)
        return " ".join(parts)

    def to_bytes(self) -> bytes:
        return self.to_line().encode("utf-8") + b"\r\n"


def parse_line(line: str) -> Message:
    """Parse one line (without its line end); raises :class:`ParseError`."""
    rest = line.lstrip(" ")
    tags = {}
    if rest.startswith("@"):
        raw_tags, _, rest = rest[1:].partition(" ")
        tags = parse_tags(raw_tags)
        rest = rest.lstrip(" ")
    source = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    if not rest:
        raise ParseError("no command")
    trailing = None
    if " :" in rest:
        rest, trailing = rest.split(" :", 1)
    elif rest.startswith(":"):
        raise ParseError("no command")
    words = rest.split()
    if not words:
        raise ParseError("no command")
    command, params = words[0].upper(), words[1:]
    if trailing is not None:
        params.append(trailing)
    if len(params) > MAX_PARAMS:
        # RFC 1459: the 15th parameter takes the rest of the line
        params = params[:MAX_PARAMS - 1] + [" ".join(params[MAX_PARAMS - 1:])]
    return Message(command, params, source, tags)


def tag_section_length(line: bytes) -> int:
    """Bytes of a raw line's tag section (``@`` to its space, inclusive); 0 without tags."""
    if not line.startswith(b"@"):
        return 0
    space = line.find(b" ")
    return len(line) if space < 0 else space + 1


def line_too_long(line: bytes) -> bool:
    """Whether a complete raw line from a client (without its line end) is over the limits:
    its tag data (without ``@`` and the space) over the 4,094 bytes a client may send, or
    the rest over 510 bytes."""
    tags = tag_section_length(line)
    return tags - 2 > MAX_CLIENT_TAG_DATA or len(line) - tags > MAX_BODY - 2


def truncate_line(data: bytes) -> bytes:
    """An outgoing line (with its CR LF) cut to 512 bytes after its tags, at a character
    boundary: a reply may repeat what the client sent (a PONG) and grow past the limit."""
    tags = tag_section_length(data)
    if len(data) - tags <= MAX_BODY:
        return data
    body = data[tags:tags + MAX_BODY - 2]
    while body and (body[-1] & 0xC0) == 0x80:      # inside a UTF-8 sequence
        body = body[:-1]
    if body and body[-1] >= 0xC0:                  # a lead byte whose sequence was cut
        body = body[:-1]
    return data[:tags] + body + b"\r\n"


class LineReader:
    """Splits incoming bytes into lines, holding at most :data:`MAX_LINE` bytes.

    :meth:`feed` returns, in order, each complete line (bytes, line end removed, empty lines
    skipped) and :data:`TOO_LONG` for each line over the limits, whose bytes are not kept.
    """

    def __init__(self, max_line: int = MAX_LINE):
        self.max_line = max_line
        self._buffer = bytearray()
        self._discarding = False      # inside an overlong line: drop bytes up to its end

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list:
        out = []
        start = 0
        length = len(data)
        while start < length:
            end = _line_end(data, start)
            if end < 0:
                chunk = data[start:]
                if self._discarding:
                    return out
                if len(self._buffer) + len(chunk) > self.max_line:
                    self._buffer.clear()
                    self._discarding = True
                    out.append(TOO_LONG)
                    return out
                self._buffer += chunk
                return out
            piece = data[start:end]
            start = end + 1
            if self._discarding:
                self._discarding = False
                continue
            if self._buffer:
                if len(self._buffer) + len(piece) > self.max_line:
                    self._buffer.clear()
                    out.append(TOO_LONG)
                    continue
                self._buffer += piece
                line = bytes(self._buffer)
                self._buffer.clear()
            else:
                line = bytes(piece)
            if not line:
                continue          # the LF of a CR LF, or a blank line
            out.append(TOO_LONG if line_too_long(line) else line)
        return out


def _line_end(data: bytes, start: int) -> int:
    """Index of the first CR or LF in ``data`` from ``start``, or -1."""
    lf = data.find(b"\n", start)
    cr = data.find(b"\r", start, lf if lf >= 0 else len(data))
    return cr if cr >= 0 else lf


def split_text(text: str, room: int) -> list:
    """``text`` as pieces of at most ``room`` UTF-8 bytes, split at line breaks and, for
    longer lines, at the last space that fits (or inside a word when none does); never
    inside a character. Empty lines are kept as a single space (IRC cannot send empty
    text)."""
    room = max(room, 4)
    pieces = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            pieces.append(" ")
            continue
        while len(line.encode("utf-8")) > room:
            cut = _fit(line, room)
            space = line.rfind(" ", 0, cut)
            if space > 0:
                cut = space
            pieces.append(line[:cut])
            line = line[cut:].lstrip(" ") if space > 0 else line[cut:]
        if line:
            pieces.append(line)
    return pieces


def _fit(text: str, room: int) -> int:
    """How many characters of ``text`` fit in ``room`` UTF-8 bytes (at least one)."""
    used = 0
    for index, ch in enumerate(text):
        used += len(ch.encode("utf-8"))
        if used > room:
            return max(index, 1)
    return len(text)
