"""Channel modes that only IRC has: operators, voices, invite-only, topic lock (sans-IO).

The rooms themselves (who is a member, the topic) are the server's; this table adds what IRC
users expect on top, in memory (a restart forgets granted ``+o``/``+v`` and ``+i``):

* ``+o``: a channel operator. The server's admins always are; the room's creator is one from
  the start and again at each JOIN (an operator may take it away with ``-o``); others get it
  from an operator (``MODE #room +o nick``).
* ``+v``: voice; shown in NAMES, nothing else (rooms are not moderated).
* ``+t`` (off by default, as members of a room may set its topic): only operators
  change the topic from IRC.
* ``+i``: only invited users may join from IRC (``INVITE``).
* ``+n`` is always on: only members may send to a room (the server's own rule).

Native clients do not see these modes and are not bound by them (docs/IRC.md).
"""

from dataclasses import dataclass, field

SETTABLE = frozenset("itov")
"""Modes ``MODE`` may change (``n`` is always on)."""
MEMBER_MODES = frozenset("ov")


@dataclass
class ChannelModes:
    """The IRC-only state of one room (keys are name keys of accounts)."""

    creator: str = None
    invite_only: bool = False
    topic_lock: bool = False
    ops: set = field(default_factory=set)
    voices: set = field(default_factory=set)
    invited: set = field(default_factory=set)
    topic_by: str = None          # who set the topic last, and when (clock seconds), since
    topic_at: float = None        # the server started (the rooms do not keep it)

    def flags(self) -> str:
        return "+" + "".join(sorted(("i" if self.invite_only else "") + "n"
                                    + ("t" if self.topic_lock else "")))

    def __post_init__(self):
        if self.creator is not None:
            self.ops.add(self.creator)

    def is_op(self, key: str, admin: bool = False) -> bool:
        return admin or key in self.ops

    def prefixes(self, key: str, admin: bool, multi: bool) -> str:
        """``@``, ``+``, ``@+`` (multi-prefix) or ``""`` for a member in NAMES and WHO."""
        out = ""
        if self.is_op(key, admin):
            out += "@"
        if key in self.voices and (multi or not out):
            out += "+"
        return out


class ChannelTable:
    """The IRC-only state of every room, made on first use."""

    def __init__(self):
        self._modes: dict[str, ChannelModes] = {}

    def get(self, room_key: str, creator_key: str = None) -> ChannelModes:
        modes = self._modes.get(room_key)
        if modes is None:
            modes = self._modes[room_key] = ChannelModes(creator=creator_key)
        return modes

    def rename(self, old_key: str, new_key: str) -> None:
        """A guest changed its nick: its operator status, voice and invitations go with it."""
        for modes in self._modes.values():
            if modes.creator == old_key:
                modes.creator = new_key
            for group in (modes.ops, modes.voices, modes.invited):
                if old_key in group:
                    group.discard(old_key)
                    group.add(new_key)

    def forget_member(self, room_key: str, key: str) -> None:
        """Someone left (or was kicked): their +o, +v and invite go with them."""
        modes = self._modes.get(room_key)
        if modes is not None:
            modes.ops.discard(key)
            modes.voices.discard(key)


def parse_mode_changes(params: list):
    """``["+ov-t", "a", "b"]`` -> ``[("+", "o", "a"), ("+", "v", "b"), ("-", "t", None)]``
    and the unknown mode letters; a member mode without its nick is left out."""
    changes, unknown = [], []
    args = list(params[1:])
    sign = "+"
    for letter in params[0] if params else "":
        if letter in "+-":
            sign = letter
            continue
        if letter in MEMBER_MODES:
            if not args:
                continue
            changes.append((sign, letter, args.pop(0)))
        elif letter in SETTABLE or letter == "n":
            changes.append((sign, letter, None))
        else:
            unknown.append(letter)
    return changes, unknown
