"""Rooms: list, create, join, leave, topic, members."""

from dataclasses import replace

from twisted.internet import defer
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.errors import FORBIDDEN, NAME_TAKEN, ProtocolError
from chat.protocol.names import name_key
from chat.protocol.timestamps import now_ms
from chat.server.conversations import LOBBY, room_conv
from chat.server.guests import is_guest_id
from chat.server.handlers.paging import REPLY_BUDGET, fit, page_by_name

REPLY_SHARE = REPLY_BUDGET // 2
"""What the login reply's room list may take (its unread counts need room too)."""
from chat.server.storage import NameTaken


def member_view(name: str, online: bool, account_id: int) -> dict:
    view = {"name": name, "online": online}
    if is_guest_id(account_id):
        view["guest"] = True
    return view


class RoomHandlers:
    """Handlers for the room requests."""

    log = Logger()

    def __init__(self, clock, storage, directory, conversations, presence, fanout, newest_id,
                 burner, limits=None, config=None):
        self.clock = clock
        self.storage = storage
        self.directory = directory
        self.conversations = conversations
        self.presence = presence
        self.fanout = fanout
        self.newest_id = newest_id   # () -> the newest message id on the server
        self.burner = burner
        self.limits = limits         # chat.server.limits.Limits; None: no limits (tests)
        self.config = config

    def _limit(self, window, session, message: str) -> None:
        """Count one event of ``session``'s account in ``window``, or raise rate_limited."""
        if self.limits is not None:
            getattr(self.limits, window).hit(session.account_id, message)

    def commands(self):
        return {
            C.Rooms: self.rooms, C.CreateRoom: self.create_room, C.Join: self.join,
            C.Leave: self.leave, C.SetTopic: self.set_topic, C.Members: self.members,
        }

    def room_view(self, room, account_id: int) -> dict:
        conv = room_conv(room.key)
        return {
            "name": room.name,
            "topic": room.topic,
            "members": len(self.conversations.members.get(conv, ())),
            "member": self.conversations.is_member(conv, account_id),
        }

    def rooms_of(self, account_id: int) -> list:
        """The rooms an account is in, for the login reply."""
        mine = [self.room_view(room, account_id)
                for key, room in sorted(self.conversations.rooms.items())
                if self.conversations.is_member(room_conv(key), account_id)]
        return fit(mine, budget=REPLY_SHARE)[0]

    def rooms(self, connection, request, body):
        account_id = connection.session.account_id
        entries = [(room.name, self.room_view(room, account_id))
                   for room in self.conversations.rooms.values()]
        rooms, more = page_by_name(entries, request.after, request.limit)
        return {"rooms": rooms, "more": more}

    @defer.inlineCallbacks
    def create_room(self, connection, request, body):
        session = connection.session
        key = name_key(request.room)
        if key in self.conversations.rooms:
            raise ProtocolError(NAME_TAKEN, f"the room #{request.room} exists already")
        cap = self.config.rooms_per_account if self.config is not None else 0
        if cap and not session.admin:
            mine = sum(1 for room in self.conversations.rooms.values()
                       if room.created_by == session.account_id)
            if mine >= cap:
                raise ProtocolError(FORBIDDEN, f"you have created {mine} rooms, the most one "
                                               "account may; ask an admin for more")
        lookalike = self.conversations.room_lookalikes.reserve(request.room)
        if lookalike is not None:
            raise ProtocolError(NAME_TAKEN, f"the room #{request.room} looks like #{lookalike}, "
                                            "which exists already")
        try:
            self._limit("room_creations", session,
                        "too many rooms created; try again in {wait} s")
            room = yield self.storage.create_room(
                request.room, key, request.topic, session.account_id, now_ms(self.clock))
        except NameTaken:
            self.conversations.room_lookalikes.remove(request.room)
            raise ProtocolError(NAME_TAKEN, f"the room #{request.room} exists already") from None
        except BaseException:
            self.conversations.room_lookalikes.remove(request.room)
            raise
        self.conversations.rooms[room.key] = room
        yield self._add_member(room, session)
        self.log.info("{user} created room #{room}", user=session.name, room=room.name)
        return {"room": self.room_view(room, session.account_id)}

    @defer.inlineCallbacks
    def join(self, connection, request, body):
        session = connection.session
        room = self.conversations.room(request.room)
        if not self.conversations.is_member(room_conv(room.key), session.account_id):
            self._limit("joins", session, "too many joins and leaves; try again in {wait} s")
            yield self._add_member(room, session)
            self.log.info("{user} joined #{room}", user=session.name, room=room.name)
            self.fanout.to_room(room_conv(room.key), C.Joined(room.name, session.name))
        return {"room": self.room_view(room, session.account_id)}

    @defer.inlineCallbacks
    def _add_member(self, room, session):
        conv = room_conv(room.key)
        yield self.storage.add_member(conv, session.account_id, now_ms(self.clock))
        self.conversations.add_member(conv, session.account_id,
                                      self.presence.of(session.account_id))

    @defer.inlineCallbacks
    def leave(self, connection, request, body):
        session = connection.session
        room = self.conversations.room(request.room)
        if room.key == LOBBY:
            raise ProtocolError(FORBIDDEN, "everybody stays in #lobby")
        conv = room_conv(room.key)
        if self.conversations.is_member(conv, session.account_id):
            self._limit("joins", session, "too many joins and leaves; try again in {wait} s")
            # whoever leaves has read what they leave behind: burn messages waiting for this
            # member would otherwise wait for ever
            due = yield self.storage.set_read(session.account_id, conv, self.newest_id(),
                                              now_ms(self.clock))
            for item in due:
                self.burner.schedule(item)
            yield self.storage.remove_member(conv, session.account_id)
            # tell the room, the leaver's own connections included, before they drop out of it
            self.fanout.to_room(conv, C.Left(room.name, session.name))
            self.conversations.remove_member(conv, session.account_id,
                                             self.presence.of(session.account_id))
            self.log.info("{user} left #{room}", user=session.name, room=room.name)
        return {}

    @defer.inlineCallbacks
    def set_topic(self, connection, request, body):
        session = connection.session
        room = self.conversations.room(request.room)
        conv = room_conv(room.key)
        if not self.conversations.is_member(conv, session.account_id):
            raise ProtocolError(FORBIDDEN, f"only members of #{room.name} may set its topic")
        self._limit("topics", session, "too many topic changes; try again in {wait} s")
        yield self.storage.set_topic(room.key, request.topic)
        self.conversations.rooms[room.key] = room = replace(room, topic=request.topic)
        self.log.info("{user} set the topic of #{room}", user=session.name, room=room.name)
        self.fanout.to_room(conv, C.Topic(room.name, request.topic, session.name))
        return {}

    def members(self, connection, request, body):
        room = self.conversations.room(request.room)
        ids = self.conversations.members.get(room_conv(room.key), ())
        entries = [(self.directory.name(i), member_view(self.directory.name(i),
                                                        self.presence.is_online(i), i))
                   for i in ids]
        members, more = page_by_name(entries, request.after, request.limit)
        return {"room": room.name, "members": members, "more": more}
