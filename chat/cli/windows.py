"""What the full-screen terminal keeps besides the screen: pure code, no I/O, no urwid.

* :class:`Windows`: one window per conversation (``#lobby`` is window 1, the others are
  numbered in the order they came up, as irssi does), which one is shown, and per hidden
  window its unread count and whether the user was mentioned (the activity list).
* :class:`InputHistory`: the lines typed, for Up and Down, with the line being typed kept
  as a draft.
* :func:`complete`: Tab completion of ``/commands``, ``@names``, ``#rooms`` and bare names.
"""

import re
from dataclasses import dataclass, field
from typing import Optional

HISTORY_MAX = 500
"""Typed lines remembered for Up/Down."""


@dataclass
class Window:
    """One conversation's window: ``last_unread`` is the newest message id not marked read."""

    conv: str
    unread: int = 0
    mentioned: bool = False
    last_unread: int = 0
    lines: list = field(default_factory=list)    # the interface's own line objects

    @property
    def key(self) -> str:
        return self.conv.casefold()


class Windows:
    """The numbered windows and the one shown (``current``)."""

    def __init__(self, first: str):
        self.windows: list[Window] = [Window(first)]
        self.current: Window = self.windows[0]

    def get(self, conv: str, create: bool = True) -> Optional[Window]:
        """The window of ``conv`` (names are case-insensitive); a new one if asked."""
        for window in self.windows:
            if window.key == conv.casefold():
                return window
        if not create:
            return None
        window = Window(conv)
        self.windows.append(window)
        return window

    def number(self, window: Window) -> int:
        return self.windows.index(window) + 1

    def show(self, conv: str) -> Window:
        """Make ``conv``'s window the current one; its unread count starts again at 0."""
        self.current = self.get(conv)
        self.current.unread = 0
        self.current.mentioned = False
        return self.current

    def by_number(self, n: int) -> Optional[Window]:
        return self.windows[n - 1] if 1 <= n <= len(self.windows) else None

    def close(self, conv: str) -> None:
        """Forget ``conv``'s window (a room left); window 1 stays."""
        window = self.get(conv, create=False)
        if window is not None and window is not self.windows[0]:
            self.windows.remove(window)
            if self.current is window:
                self.current = self.windows[0]

    def arrived(self, conv: str, msg_id: int, mentions_me: bool) -> Window:
        """Count a message of someone else in ``conv``'s window if it is not the one shown."""
        window = self.get(conv)
        if window is not self.current:
            window.unread += 1
            window.mentioned = window.mentioned or mentions_me
            window.last_unread = max(window.last_unread, msg_id)
        return window

    def activity(self) -> list[tuple[int, Window]]:
        """The hidden windows with unread messages, by number (irssi's ``[Act: ...]``)."""
        return [(i + 1, w) for i, w in enumerate(self.windows)
                if w is not self.current and w.unread]


class InputHistory:
    """Lines typed before, newest last; ``older``/``newer`` walk it like a shell does."""

    def __init__(self, limit: int = HISTORY_MAX):
        self.limit = limit
        self.entries: list[str] = []
        self._pos = 0              # == len(entries): at the draft
        self._draft = ""

    def add(self, line: str) -> None:
        if line.strip() and (not self.entries or self.entries[-1] != line):
            self.entries.append(line)
            del self.entries[:-self.limit]
        self._pos = len(self.entries)
        self._draft = ""

    def older(self, typed: str) -> Optional[str]:
        """The line before; ``typed`` (what is on the input line) is kept as the draft."""
        if self._pos == 0:
            return None
        if self._pos == len(self.entries):
            self._draft = typed
        self._pos -= 1
        return self.entries[self._pos]

    def newer(self) -> Optional[str]:
        """The line after, or the draft again past the newest."""
        if self._pos >= len(self.entries):
            return None
        self._pos += 1
        return self._draft if self._pos == len(self.entries) else self.entries[self._pos]


_WORD = re.compile(r"\S*$")


def complete(line: str, cursor: int, commands, names, rooms) -> tuple[str, int, list[str]]:
    """Complete the word before ``cursor``: ``/x`` at the start from ``commands`` (without
    the slash), ``@x`` from ``names``, ``#x`` from ``rooms``, a bare word from ``names``.

    Returns the new line, the new cursor and the candidates: one candidate is completed
    with a space after it, several to their longest common prefix (case-insensitively)."""
    head, tail = line[:cursor], line[cursor:]
    word = _WORD.search(head).group()
    start = cursor - len(word)
    if word.startswith("/") and not head[:start].strip():
        sigil, pool = "/", commands
    elif word.startswith("@"):
        sigil, pool = "@", names
    elif word.startswith("#"):
        sigil, pool = "#", rooms
    elif word:
        sigil, pool = "", names
    else:
        return line, cursor, []
    stem = word[len(sigil):].casefold()
    found = sorted({c for c in pool if c.casefold().startswith(stem)}, key=str.casefold)
    if not found:
        return line, cursor, []
    if len(found) == 1:
        done = sigil + found[0] + ("" if tail.startswith(" ") else " ")
    else:
        prefix = found[0]
        for other in found[1:]:
            while not other.casefold().startswith(prefix.casefold()):
                prefix = prefix[:-1]
        if len(prefix) <= len(stem):
            return line, cursor, found        # nothing to add: show the choices
        done = sigil + prefix
    new_head = head[:start] + done
    return new_head + tail, len(new_head), found


def mentions(text: str, me: str) -> bool:
    """Whether ``text`` names ``me`` as a word (``alice``, ``@alice``, ``Alice:``,
    ``alice你好``); Chinese is written without spaces, so a name in it counts anywhere."""
    if not me:
        return False
    # ASCII word edges only: a Chinese character next to a Latin name is no part of it
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(me)}(?![A-Za-z0-9_])", text,
                     re.IGNORECASE) is not None
