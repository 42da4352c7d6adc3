"""What the user typed: one input line becomes a :class:`Command`, or a :class:`ParseError`.

Pure code, no I/O. Command words are case-insensitive; names keep their case (the server
compares them case-insensitively anyway); free text keeps its inner spacing.
"""

import re
import shlex
from dataclasses import dataclass
from typing import Callable, Optional

ADMIN_COMMANDS = frozenset({"notice", "list", "user", "kick", "ban", "unban", "monitor",
                            "shutdown"})

HISTORY_DEFAULT = 20
HISTORY_MAX = 200        # the server's history page limit
SHUTDOWN_MAX = 3600      # the server's longest shutdown delay

# Shown as they are in both languages: command syntax is the same for everybody.
USAGE = {
    "msg": "/msg @user text",
    "join": "/join #room",
    "leave": "/leave [#room]",
    "burn": "/burn text",
    "notice": "/notice [@user] text",
    "user": "/user NAME",
    "kick": "/kick NAME [reason]",
    "ban": "/ban NAME [reason]",
    "unban": "/unban NAME",
    "monitor": "/monitor on|off",
    "send": "/send [@user|@all] path",
    "get": "/get ID [dir]",
    "users": "/users [-o]",
}

# \d and int() accept any decimal digits, so full-width ３０ from a Chinese IME works too.
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass(frozen=True)
class Command:
    """One parsed input line; which fields are set depends on ``name``."""

    name: str
    text: str = ""
    target: Optional[str] = None   # user or room name, without '@' / '#'
    number: Optional[int] = None
    flag: Optional[bool] = None


class ParseError(Exception):
    """A line that is no valid command; ``key`` and ``params`` are a message of ``text.tr``."""

    def __init__(self, key: str, **params):
        super().__init__(key, params)
        self.key = key
        self.params = params


def parse_line(line: str) -> Optional[Command]:
    """The command of one input line, None for a blank line; raises :class:`ParseError`."""
    line = line.strip()
    if not line:
        return None
    if line.startswith("//"):
        return Command("say", text=line[1:])
    if not line.startswith("/"):
        if line.lower() in ("exit", "quit"):
            return Command("quit")
        return Command("say", text=line)
    word, rest = _split(line[1:])
    handler = _HANDLERS.get(word.lower())
    if handler is None:
        raise ParseError("unknown_command", command="/" + word)
    return handler(word.lower(), rest)


def _split(text: str) -> tuple[str, str]:
    """The first word and the rest, whose inner spacing is kept."""
    match = re.match(r"(\S*)\s*(.*)", text, re.DOTALL)
    return match.group(1), match.group(2)


def _usage(name: str) -> ParseError:
    return ParseError("usage", usage=USAGE[name])


def _unprefixed(word: str, sigil: str) -> str:
    return word[1:] if word.startswith(sigil) else word


def _one_name(name: str, rest: str, sigil: str) -> str:
    words = rest.split()
    target = _unprefixed(words[0], sigil) if len(words) == 1 else ""
    if not target:
        raise _usage(name)
    return target


def _bare(name: str, rest: str) -> Command:
    return Command(name)


def _quit(name: str, rest: str) -> Command:
    return Command("quit")


def _users(name: str, rest: str) -> Command:
    """``/users``: everybody; ``/users -o`` (or ``--online``): who is online."""
    if rest in ("-o", "--online"):
        return Command(name, flag=True)
    if rest:
        raise _usage(name)
    return Command(name)


def _topic(name: str, rest: str) -> Command:
    return Command(name, text=rest)     # no text: show the topic


def _burn(name: str, rest: str) -> Command:
    if not rest:
        raise _usage(name)
    return Command(name, text=rest)


def _msg(name: str, rest: str) -> Command:
    target, text = _split(rest)
    target = _unprefixed(target, "@")
    if not target:
        raise _usage(name)
    return Command(name, target=target, text=text)   # no text: switch to that chat


def _join(name: str, rest: str) -> Command:
    return Command(name, target=_one_name(name, rest, "#"))


def _leave(name: str, rest: str) -> Command:
    if not rest:
        return Command(name)
    return Command(name, target=_one_name(name, rest, "#"))


def _user_name(name: str, rest: str) -> Command:
    return Command(name, target=_one_name(name, rest, "@"))


def _with_reason(name: str, rest: str) -> Command:
    target, reason = _split(rest)
    target = _unprefixed(target, "@")
    if not target:
        raise _usage(name)
    return Command(name, target=target, text=reason)


def _history(name: str, rest: str) -> Command:
    if not rest:
        return Command(name, number=HISTORY_DEFAULT)
    return Command(name, number=_number(rest, 1, HISTORY_MAX))


def _number(word: str, low: int, high: int) -> int:
    if not _INTEGER.fullmatch(word) or not low <= int(word) <= high:
        raise ParseError("bad_number", min=low, max=high)
    return int(word)


def _notice(name: str, rest: str) -> Command:
    if rest.startswith("@"):
        target, text = _split(rest)
        if len(target) < 2 or not text:
            raise _usage(name)
        return Command(name, target=target[1:], text=text)
    if not rest:
        raise _usage(name)
    return Command(name, text=rest)


def _monitor(name: str, rest: str) -> Command:
    switch = rest.lower()
    if switch not in ("on", "off"):
        raise _usage(name)
    return Command(name, flag=switch == "on")


def _shutdown(name: str, rest: str) -> Command:
    first, message = _split(rest)
    if _INTEGER.fullmatch(first):
        return Command(name, number=_number(first, 0, SHUTDOWN_MAX), text=message)
    return Command(name, number=0, text=rest)


def _path(name: str, text: str) -> str:
    """A path as typed: in quotes (``"my notes.txt"``, ``'a b'``) or with backslash escapes
    (``my\\ notes.txt``) as in a shell; a plain path may hold spaces as it is."""
    if not any(c in text for c in "\"'\\"):
        return text
    try:
        words = shlex.split(text)
    except ValueError:               # no closing quotation
        raise ParseError("bad_quotes") from None
    if len(words) != 1:
        raise _usage(name)
    return words[0]


def _send(name: str, rest: str) -> Command:
    target = None
    if rest.startswith("@"):
        target, rest = _split(rest)
        target = target[1:]
    if not rest or target == "":
        raise _usage(name)
    return Command(name, target=target, text=_path(name, rest))


def _get(name: str, rest: str) -> Command:
    file_id, directory = _split(rest)
    if not re.fullmatch(r"\d+", file_id):
        raise _usage(name)
    return Command(name, number=int(file_id), text=_path(name, directory) if directory else "")


_HANDLERS: dict[str, Callable[[str, str], Command]] = {
    "msg": _msg, "join": _join, "leave": _leave,
    "rooms": _bare, "users": _users, "help": _bare, "list": _bare, "files": _bare,
    "quit": _quit, "exit": _quit,
    "topic": _topic, "history": _history, "burn": _burn,
    "notice": _notice, "user": _user_name, "kick": _with_reason, "ban": _with_reason,
    "unban": _user_name, "monitor": _monitor, "shutdown": _shutdown,
    "send": _send, "get": _get,
}
