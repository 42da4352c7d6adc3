"""Guests (``--allow-guests``): people who chat under a free name without an account.

A guest logs in with a name only (native ``guest``, IRC without SASL). The name must be no
account's (look-alikes included) and no online guest's; it is held in the directory, like an
account's, for as long as the guest stays, and released when they leave. Each guest login
is a new identity with an id of its own below zero, never used before (not in an earlier run
either): a guest who comes back under the same name is somebody new and sees nothing of the
earlier guest's private chats.

What a guest may do: chat in rooms (they start in ``#lobby`` and may join others, or make
new ones, as IRC users expect of ``JOIN``) and privately, set the topic of the rooms they are
in, read the history of the rooms they are in, download the files of their conversations.
What a guest may not (:data:`GUEST_FORBIDDEN`): send files, set an avatar, change a password,
or anything of an admin. Nothing of a guest is stored but the messages they send (with their
name, like everybody's), the rooms they make (which stay when they leave) and read marks: no
membership, no last-seen time (:class:`GuestStorage`).
"""

import itertools

from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.errors import ALREADY_LOGGED_IN, FORBIDDEN, NAME_TAKEN, ProtocolError
from chat.protocol.names import name_key
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.conversations import LOBBY, is_room, room_conv
from chat.server.session import Session

GUEST_FORBIDDEN = {
    C.FileOffer: "guests cannot send files: log in with an account",
    C.SetAvatar: "guests cannot set an avatar: log in with an account",
    C.ChangePassword: "guests have no password to change",
}
"""Requests a guest gets ``forbidden`` for, with the reason (admin requests are refused to
every non-admin already)."""

GUESTS_OFF = "this server does not allow guests: log in with an account"

log = Logger(namespace="chat.server.guests")


def is_guest_id(account_id) -> bool:
    """Guests' ids are below zero; accounts' are 1 and up (id 0 is nobody's)."""
    return account_id < 0


def guest_refusal(session, request):
    """The ``ProtocolError`` a guest's ``request`` gets, or None if guests may make it."""
    if session is None or not is_guest_id(session.account_id):
        return None
    reason = GUEST_FORBIDDEN.get(type(request))
    return None if reason is None else ProtocolError(FORBIDDEN, reason)


def guest_view(name: str, since_ms: int) -> dict:
    """A guest as the user lists show it (the fields of an account's, and ``guest``)."""
    return {"name": name, "admin": False, "avatar": False, "created": format_ts(since_ms),
            "last_seen": None, "online": True, "guest": True}


class GuestIds:
    """Ids for guests, below zero and unique across runs: the run's start in milliseconds
    times a million, plus a counter (a million guests per millisecond of start time)."""

    def __init__(self, start_ms: int):
        self._numbers = itertools.count(1)
        self._base = start_ms * 1_000_000

    def next(self) -> int:
        return -(self._base + next(self._numbers))


def _is_guest_conv(conv: str) -> bool:
    """A private chat with a guest (``d:<negative id>:<id>``)."""
    return not is_room(conv) and conv.startswith("d:-")


class GuestStorage:
    """The storage, with what guests leave behind left out: their memberships (and those of
    private chats with a guest, which end with the guest) and last-seen times. Everything else
    is passed through unchanged."""

    def __init__(self, storage):
        self._storage = storage

    def __getattr__(self, name):
        return getattr(self._storage, name)

    def _done(self):
        from twisted.internet import defer
        return defer.succeed(None)

    def add_member(self, conv, account_id, now):
        if is_guest_id(account_id) or _is_guest_conv(conv):
            return self._done()
        return self._storage.add_member(conv, account_id, now)

    def remove_member(self, conv, account_id):
        if is_guest_id(account_id) or _is_guest_conv(conv):
            return self._done()
        return self._storage.remove_member(conv, account_id)

    def set_last_seen(self, account_id, now):
        if is_guest_id(account_id):
            return self._done()
        return self._storage.set_last_seen(account_id, now)


class Guests:
    """The guests online: their ids, names and login times; made before the handlers that
    consult it (the user list, the end of a session)."""

    def __init__(self, clock, directory, conversations):
        self.clock = clock
        self.directory = directory
        self.conversations = conversations
        self.ids = GuestIds(now_ms(clock))
        self.online: dict[int, int] = {}      # guest id -> login time (ms)

    @property
    def count(self) -> int:
        return len(self.online)

    def name_refusal(self, name: str):
        """Why ``name`` cannot be a guest's now, or None."""
        holder = self.directory.id_for(name_key(name))
        if holder is not None:
            if is_guest_id(holder):
                return f"the name {name} is taken by a guest online"
            return (f"{name} is the name of an account: log in with its password, "
                    "or choose another name")
        other = self.directory.lookalikes.holder(name)
        if other is not None:
            return f"the name {name} looks like {other}, which is taken"
        return None

    def add(self, name: str) -> int:
        """Hold ``name`` (checked by :meth:`name_refusal`) for a new guest; their id."""
        guest_id = self.ids.next()
        self.directory.add(guest_id, name, name_key(name))   # holds its look-alikes too
        self.online[guest_id] = now_ms(self.clock)
        self.conversations.add_member(room_conv(LOBBY), guest_id)
        return guest_id

    def rename(self, session, name: str) -> str:
        """A guest online takes the free name ``name`` (an IRC guest's ``NICK``): the old
        name is released and the new one held, by the rules of a guest's login; returns the
        old name, or raises ``ProtocolError`` (``name_taken``)."""
        refusal = None if name_key(name) == session.key else self.name_refusal(name)
        if refusal is not None:
            raise ProtocolError(NAME_TAKEN, refusal)
        old = session.name
        self.directory.remove(session.account_id)
        self.directory.add(session.account_id, name, name_key(name))
        session.name, session.key = name, name_key(name)
        log.info("guest {old} is now {user}", old=old, user=name)
        return old

    def ended(self, session) -> None:
        """A guest's login ended: forget them, and let their name go."""
        guest_id = session.account_id
        if self.online.pop(guest_id, None) is None:
            return
        conversations = self.conversations
        for conv in list(conversations.convs_of.get(guest_id, ())):
            conversations.remove_member(conv, guest_id)
        conversations.convs_of.pop(guest_id, None)
        self.directory.remove(guest_id)
        log.info("guest {user} left; the name is free again", user=session.name)

    def views(self):
        """``(name, view)`` of every guest online, for the user lists."""
        return [(self.directory.name(i), guest_view(self.directory.name(i), since))
                for i, since in self.online.items()]


class GuestHandlers:
    """The ``guest`` request. ``sign_in(connection, session)`` is the server's one way to make
    a connection logged in (the same as a password login's)."""

    def __init__(self, config, clock, guests: Guests, presence, rooms_view, newest_id, sign_in):
        self.config = config
        self.clock = clock
        self.guests = guests
        self.presence = presence
        self.rooms_view = rooms_view
        self.newest_id = newest_id
        self.sign_in = sign_in

    def commands(self):
        return {C.GuestLogin: self.guest}

    def admit(self, peer, name: str):
        """Log ``peer`` in as the guest ``name`` (already a valid name: ``normalise_name``)
        and return its session, or raise ``ProtocolError``: ``forbidden`` (no guests here),
        ``already_logged_in``, ``name_taken`` (an account's name or a look-alike of one, or
        an online guest's). Every door's guest login comes here (native ``guest``, IRC
        without SASL)."""
        if not self.config.allow_guests:
            raise ProtocolError(FORBIDDEN, GUESTS_OFF)
        if peer.session is not None:
            raise ProtocolError(ALREADY_LOGGED_IN, f"already logged in as {peer.session.name}")
        refusal = self.guests.name_refusal(name)
        if refusal is not None:
            raise ProtocolError(NAME_TAKEN, refusal)
        guest_id = self.guests.add(name)
        session = Session(guest_id, name, name_key(name), False, self.clock.seconds(),
                          guest=True)
        self.sign_in(peer, session)
        log.info("guest {user} from {address}", user=name, address=peer.address)
        return session

    def guest(self, connection, request, body):
        guest_id = self.admit(connection, request.username).account_id
        name = request.username
        return {
            "user": guest_view(name, self.guests.online[guest_id]),
            "rooms": self.rooms_view(guest_id),
            "unread": {},
            "last_id": self.newest_id(),
            "online": self.presence.count,
        }
