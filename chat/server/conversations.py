"""Conversation keys and the in-memory index of who is in which conversation.

Storage keys: ``r:<room key>`` for a room, ``d:<low id>:<high id>`` for a private chat.
Clients see ``#room`` and ``@peer`` instead (relative to the viewer); :class:`Conversations`
translates both ways.

The index mirrors the stored membership (loaded at start, written through on every change) and
adds which *connections* of members are online per conversation, so that fanning a room message
out costs one set iteration, not a scan of all members.
"""

from typing import Optional

from chat.protocol.errors import FORBIDDEN, NOT_FOUND, ProtocolError
from chat.protocol.names import ROOM_PREFIX, USER_PREFIX, name_key
from chat.server.lookalikes import Lookalikes

LOBBY = "lobby"
ALL = "@all"          # a file offer's target meaning everybody (admins only)


def room_conv(room_key: str) -> str:
    return "r:" + room_key


def dm_conv(a: int, b: int) -> str:
    low, high = (a, b) if a <= b else (b, a)
    return f"d:{low}:{high}"


def is_room(conv: str) -> bool:
    return conv.startswith("r:")


def dm_peer(conv: str, viewer: int) -> int:
    """The other account of a private conversation (the viewer himself for a self-chat)."""
    low, high = (int(part) for part in conv[2:].split(":"))
    return high if viewer == low else low


def dm_members(conv: str) -> tuple[int, int]:
    low, high = (int(part) for part in conv[2:].split(":"))
    return low, high


class Directory:
    """Account ids, names and keys, held in memory for naming senders and peers; and which
    accounts are banned (with the reason), mirroring the stored flag."""

    def __init__(self):
        self._names: dict[int, str] = {}
        self._ids: dict[str, int] = {}
        self.lookalikes = Lookalikes()   # account names by confusable skeleton
        # in memory so that login checks it after the password hash, which runs in a thread:
        # a ban made meanwhile is seen, as a flag read from storage before the hash would not
        self.banned: dict[int, Optional[str]] = {}   # account id -> reason

    def add(self, account_id: int, name: str, key: str) -> None:
        self._names[account_id] = name
        self._ids[key] = account_id
        self.lookalikes.add(name)

    def remove(self, account_id: int) -> None:
        """Forget a deleted account: its name (and look-alikes of it) may be taken again."""
        name = self._names.pop(account_id, None)
        if name is None:
            return
        self._ids = {key: i for key, i in self._ids.items() if i != account_id}
        self.lookalikes.remove(name)
        self.banned.pop(account_id, None)

    def name(self, account_id: int) -> str:
        return self._names.get(account_id, f"#{account_id}")

    def id_for(self, key: str):
        return self._ids.get(key)

    def set_banned(self, account_id: int, banned: bool, reason: Optional[str] = None) -> None:
        if banned:
            self.banned[account_id] = reason
        else:
            self.banned.pop(account_id, None)

    def __len__(self) -> int:
        return len(self._names)


class Conversations:
    """Rooms, membership and online connections per conversation."""

    def __init__(self, directory: Directory):
        self.directory = directory
        self.rooms: dict[str, object] = {}               # room key -> storage Room
        self.room_lookalikes = Lookalikes()              # room names by confusable skeleton
        self.members: dict[str, set[int]] = {}           # conv -> account ids
        self.convs_of: dict[int, set[str]] = {}          # account id -> convs
        self.online: dict[str, set] = {}                 # conv -> online connections

    # -- loading and membership
    def load(self, rooms, memberships) -> None:
        for room in rooms:
            self.rooms[room.key] = room
            self.room_lookalikes.add(room.name)
        for conv, account_ids in memberships.items():
            for account_id in account_ids:
                self._index(conv, account_id)

    def _index(self, conv: str, account_id: int) -> None:
        self.members.setdefault(conv, set()).add(account_id)
        self.convs_of.setdefault(account_id, set()).add(conv)

    def add_member(self, conv: str, account_id: int, connections=()) -> None:
        self._index(conv, account_id)
        if connections:
            self.online.setdefault(conv, set()).update(connections)

    def remove_member(self, conv: str, account_id: int, connections=()) -> None:
        self.members.get(conv, set()).discard(account_id)
        self.convs_of.get(account_id, set()).discard(conv)
        online = self.online.get(conv)
        if online is not None:
            online.difference_update(connections)

    def is_member(self, conv: str, account_id: int) -> bool:
        return account_id in self.members.get(conv, ())

    # -- connections
    def connection_online(self, connection, account_id: int) -> None:
        for conv in self.convs_of.get(account_id, ()):
            if is_room(conv):
                self.online.setdefault(conv, set()).add(connection)

    def connection_offline(self, connection, account_id: int) -> None:
        for conv in self.convs_of.get(account_id, ()):
            online = self.online.get(conv)
            if online is not None:
                online.discard(connection)

    def online_connections(self, conv: str):
        return self.online.get(conv, ())

    # -- names on the wire
    def room(self, name: str):
        """The Room called ``name`` (any case), or ``not_found``."""
        room = self.rooms.get(name_key(name))
        if room is None:
            raise ProtocolError(NOT_FOUND, f"no such room: {name}")
        return room

    def resolve(self, ref: str, viewer: int, may_address_all: Optional[bool] = None) -> str:
        """The storage key of ``#room`` (members only) / ``@user`` as seen by ``viewer``: the
        one place a request's target becomes a conversation (messages, files, history, read
        marks, typing). ``may_address_all`` is None where ``@all`` means nothing (a user of
        that name cannot exist); where it means everybody (a file offer) it is #lobby, and
        ``may_address_all`` says whether ``viewer`` may (admins)."""
        if may_address_all is not None and ref == ALL:
            if not may_address_all:
                raise ProtocolError(FORBIDDEN, "only admins may send a file to everybody")
            return room_conv(LOBBY)
        if ref.startswith(ROOM_PREFIX):
            room = self.room(ref[1:])
            conv = room_conv(room.key)
            if not self.is_member(conv, viewer):
                raise ProtocolError(FORBIDDEN, f"you are not a member of #{room.name}")
            return conv
        assert ref.startswith(USER_PREFIX)
        peer = self.directory.id_for(name_key(ref[1:]))
        if peer is None:
            raise ProtocolError(NOT_FOUND, f"no such user: {ref[1:]}")
        return dm_conv(viewer, peer)

    def wire_name(self, conv: str, viewer: int) -> str:
        """``#room`` or ``@peer`` for ``conv`` as ``viewer`` sees it."""
        if is_room(conv):
            room = self.rooms.get(conv[2:])
            return ROOM_PREFIX + (room.name if room is not None else conv[2:])
        return USER_PREFIX + self.directory.name(dm_peer(conv, viewer))
