"""One node of a cluster: what it tells the others, and what it does with what they tell.

:class:`ClusterNode` joins a :class:`~chat.server.core.ChatServer` to the stream
(:mod:`chat.server.cluster`). Messages: every stored message, this node's own included, is
delivered by the follower in stream order, so members on every node see the same order.
Other changes are events, published after the change is stored (the reply waits for it) by
wrapping the request handlers, and replayed by the other nodes (the kinds below, in
:meth:`ClusterNode._appliers`): the in-memory state changes as it did on the first node and
the same notices go to the local members. Presence: every local login and logout is a row of
``node_sessions`` and an event; nodes say they are alive every ``HEARTBEAT`` seconds, and the
sessions of a node silent for ``DEAD_AFTER`` seconds (killed, cut off) are dropped.

Kinds: ``account`` (registered), ``room`` (created), ``member`` (joined or left a room),
``topic``, ``read`` (a read mark: the receipt), ``burned``, ``ban`` (or unban), ``kick``,
``notice`` (an admin's notice), ``session`` (a login or logout), ``node`` (a node started).
"""

import itertools

from twisted.internet import defer, task
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.errors import BAD_REQUEST, ProtocolError
from chat.protocol.names import name_key
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.conversations import LOBBY, dm_members, is_room, room_conv
from chat.server.handlers.paging import fit
from chat.server.storage import Room

from .follower import StreamFollower
from .listener import StreamListener
from .presence import RemoteSession
from .stream_sql import StreamEvent


def _because(reason) -> str:
    return f": {reason}" if reason else ""


class ClusterNode:
    """Node ``node`` of the cluster that ``server``'s storage (a NodeStorage) is shared by."""

    log = Logger()

    HEARTBEAT = 1.0       # seconds between two "I am alive" writes
    DEAD_AFTER = 5.0      # seconds of silence after which a node's sessions are dropped
    LISTEN_TIMER = 2.0    # the follower reads the table at least this often (safety net)

    def __init__(self, server, node: str, reactor):
        self.server = server
        self.node = node
        self.reactor = reactor
        self.storage = server.storage
        self.presence = server.presence          # a ClusterPresence
        self.position = 0
        self.follower = None
        self.listener = None
        self._heartbeat = None
        self._sids: dict = {}                    # local connection -> its session id
        self._next_sid = itertools.count(1)
        self._on_burned = None

    # -- start and stop
    @defer.inlineCallbacks
    def prepare(self):
        """Before the server loads its state: mark this node started (its old sessions go),
        take the stream position (whatever comes later is replayed on top of the state
        loaded next: every kind is idempotent), load the other nodes' sessions."""
        yield self.storage.node_started()
        self.position = yield self.storage.stream_top()
        for row in (yield self.storage.sessions()):
            if row[0] != self.node:
                self.presence.remote_opened(RemoteSession(*row))
        yield self.storage.append_event("node", {"started": True})

    def start(self) -> None:
        """After the state is loaded: follow the stream, publish, beat."""
        server = self.server
        server.messages.delivers_stored = False      # the follower delivers every message
        self.presence.on_open = self._session_opened
        self.presence.on_close = self._session_closed
        self._on_burned = server.burner.on_burned
        server.burner.on_burned = self._burned
        self._wrap_handlers()
        self.follower = StreamFollower(self.storage, self.apply, self.position)
        self.listener = StreamListener(self.storage.connect, self.follower.wake,
                                       self.reactor.callFromThread, self.LISTEN_TIMER)
        self.listener.start()
        self._heartbeat = task.LoopingCall(self._beat)
        self._heartbeat.clock = server.clock
        self._heartbeat.start(self.HEARTBEAT, now=False).addErrback(
            lambda f: self.log.failure("the heartbeat stopped", f))
        self.follower.wake("start")

    def stop(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()
        if self.listener is not None:
            self.listener.stop()

    # -- publishing
    def publish(self, kind: str, data: dict):
        d = self.storage.append_event(kind, data)
        d.addErrback(self._publish_failed, kind)
        return d

    def _publish_failed(self, failure, kind):
        # the change itself is stored: other nodes see it when they next load their state
        self.log.error("could not tell the other nodes of a {kind} change: {why}", kind=kind,
                       why=failure.getErrorMessage())

    def _session_opened(self, connection, account_id) -> None:
        sid = next(self._next_sid)
        self._sids[connection] = sid
        session = connection.session
        row = (self.node, sid, account_id, session.name, int(bool(session.admin)),
               str(connection.host), int(connection.port or 0), connection.client_name,
               int(session.since * 1000))
        self.storage.session_opened(row).addErrback(self._publish_failed, "login")

    def _session_closed(self, connection, account_id) -> None:
        sid = self._sids.pop(connection, None)
        if sid is not None:
            self.storage.session_closed(sid).addErrback(self._publish_failed, "logout")

    def _burned(self, conv, ids) -> None:
        self._on_burned(conv, ids)
        self.publish("burned", {"conv": conv, "ids": list(ids)})

    # -- the heartbeat
    @defer.inlineCallbacks
    def _beat(self):
        try:
            db_now, nodes = yield self.storage.node_seen()
        except Exception as error:
            self.log.warn("the heartbeat could not be written: {why}", why=error)
            return
        for name, seen in nodes:
            if name != self.node and db_now - seen > self.DEAD_AFTER * 1000:
                if self.presence.sessions_of_node(name):
                    self.log.warn("node {node} is silent since {s:.1f} s: its sessions are "
                                  "gone", node=name, s=(db_now - seen) / 1000)
                    self._drop_node(name)
                    yield self.storage.node_gone(name)

    def _drop_node(self, node: str) -> None:
        for session in self.presence.sessions_of_node(node):
            gone = self.presence.remote_closed(session.node, session.sid)
            if gone is not None:
                self.server.notices.changed(gone.name, False, format_ts(now_ms(self.server.clock)))

    # -- applying the stream
    def apply(self, item, files) -> None:
        if isinstance(item, StreamEvent):
            if item.node != self.node:
                applier = self._appliers().get(item.kind)
                if applier is not None:
                    applier(item.data, item.node)
            return
        server = self.server
        server.writer.seen(item.id)
        if item.file_id is not None and item.file_id not in server.catalog.complete:
            record = files.get(item.file_id)
            if record is not None and record.complete:
                server.catalog.add_complete(record)
        server.messages.deliver(item)

    def _appliers(self) -> dict:
        return {"account": self._account, "room": self._room, "member": self._member,
                "topic": self._topic, "read": self._read, "burned": self._burned_elsewhere,
                "ban": self._ban, "kick": self._kick, "notice": self._notice,
                "session": self._session, "node": self._node}

    def _account(self, data, node) -> None:
        self.server.directory.add(data["id"], data["name"], data["key"])
        self.server.conversations.add_member(room_conv(LOBBY), data["id"],
                                             self.presence.of(data["id"]))

    def _room(self, data, node) -> None:
        conversations = self.server.conversations
        room = Room(data["name"], data["key"], data["topic"], data["created_by"],
                    data["created"])
        if room.key not in conversations.rooms:
            conversations.rooms[room.key] = room
            conversations.room_lookalikes.add(room.name)
        if room.created_by is not None:
            conversations.add_member(room_conv(room.key), room.created_by,
                                     self.presence.of(room.created_by))

    def _member(self, data, node) -> None:
        conversations, fanout = self.server.conversations, self.server.fanout
        conv, account_id = data["conv"], data["account"]
        room = conversations.rooms.get(conv[2:])
        name = self.server.directory.name(account_id)
        was = conversations.is_member(conv, account_id)
        if data["on"]:
            conversations.add_member(conv, account_id, self.presence.of(account_id))
            if not was and room is not None:
                fanout.to_room(conv, C.Joined(room.name, name))
        elif was:
            if room is not None:
                fanout.to_room(conv, C.Left(room.name, name))
            conversations.remove_member(conv, account_id, self.presence.of(account_id))

    def _topic(self, data, node) -> None:
        conversations = self.server.conversations
        room = conversations.rooms.get(data["key"])
        if room is None:
            return
        from dataclasses import replace
        conversations.rooms[room.key] = room = replace(room, topic=data["topic"])
        self.server.fanout.to_room(room_conv(room.key),
                                   C.Topic(room.name, data["topic"], data["by"]))

    def _read(self, data, node) -> None:
        conv, reader = data["conv"], data["account"]
        viewers = (reader,) if is_room(conv) else set(dm_members(conv))
        wire_name = self.server.conversations.wire_name
        self.server.fanout.per_viewer(viewers, lambda viewer: C.ReadEvent(
            wire_name(conv, viewer), data["name"], data["up_to"]))

    def _burned_elsewhere(self, data, node) -> None:
        self._on_burned(data["conv"], data["ids"])

    def _throw_out(self, account_id, code, message) -> int:
        return self.server.admin._throw_out(tuple(self.presence.of(account_id)), code, message)

    def _ban(self, data, node) -> None:
        account_id = data["account"]
        self.server.directory.set_banned(account_id, data["banned"], data.get("reason"))
        if data["banned"]:
            self._throw_out(account_id, "banned",
                            f"banned by {data['by']}{_because(data.get('reason'))}")

    def _kick(self, data, node) -> None:
        self._throw_out(data["account"], "kicked",
                        f"kicked by {data['by']}{_because(data.get('reason'))}")

    def _notice(self, data, node) -> None:
        fanout = self.server.fanout
        if data.get("to") is None:
            fanout.to_everyone(C.NoticeEvent(data["by"], data["text"], data["ts"]))
        else:
            account_id = data["to"]
            fanout.to_peers(tuple(self.presence.of(account_id)), C.NoticeEvent(
                data["by"], data["text"], data["ts"], to=self.server.directory.name(account_id)))

    def _session(self, data, node) -> None:
        notices = self.server.notices
        if data["open"]:
            session = RemoteSession(*data["row"])
            if self.presence.remote_opened(session):
                notices.changed(session.name, True)
        else:
            gone = self.presence.remote_closed(data["node"], data["sid"])
            if gone is not None:
                notices.changed(gone.name, False, format_ts(now_ms(self.server.clock)))

    def _node(self, data, node) -> None:
        # a node (re)started: the sessions of its earlier life ended with it
        self._drop_node(node)

    # -- the request handlers, wrapped
    def _wrap_handlers(self) -> None:
        server = self.server
        for kind, make in ((C.Register, self._after_register), (C.CreateRoom, self._after_room),
                           (C.Join, self._membership), (C.Leave, self._membership),
                           (C.SetTopic, self._after_topic), (C.MarkRead, self._after_read),
                           (C.Ban, self._after_ban), (C.Unban, self._after_ban),
                           (C.Kick, self._kick_anywhere), (C.SendNotice, self._notice_anywhere),
                           (C.Sessions, self._all_sessions), (C.Login, self._caught_up)):
            server.set_handler(kind, make(server.handler(kind)))

    @staticmethod
    def _then(original, connection, request, body, after):
        d = defer.maybeDeferred(original, connection, request, body)

        def done(result):
            published = after(result)
            if published is None:
                return result
            return published.addCallback(lambda _: result)
        return d.addCallback(done)

    def _caught_up(self, original):
        """Before a login: read the stream up to now, so that a ban (or an account, a room)
        committed on another node before this login began holds here too."""
        def handler(connection, request, body):
            d = self.follower.caught_up()
            d.addCallback(lambda _: original(connection, request, body))
            return d
        return handler

    def _after_register(self, original):
        def handler(connection, request, body):
            def after(result):
                key = name_key(request.username)
                account_id = self.server.directory.id_for(key)
                if account_id is None:
                    return None
                return self.publish("account", {"id": account_id, "key": key,
                                                "name": self.server.directory.name(account_id)})
            return self._then(original, connection, request, body, after)
        return handler

    def _after_room(self, original):
        def handler(connection, request, body):
            def after(result):
                room = self.server.conversations.rooms.get(name_key(request.room))
                if room is None:
                    return None
                return self.publish("room", {"key": room.key, "name": room.name,
                                             "topic": room.topic, "created_by": room.created_by,
                                             "created": room.created})
            return self._then(original, connection, request, body, after)
        return handler

    def _membership(self, original):
        def handler(connection, request, body):
            conversations = self.server.conversations
            account_id = connection.session.account_id if connection.session else None
            try:
                room = conversations.room(request.room)
            except ProtocolError:
                room = None
            if account_id is None:
                return original(connection, request, body)
            if room is None:
                # made a moment ago on another node? Read the stream up to now, then retry
                d = self.follower.caught_up()
                d.addCallback(lambda _: handler(connection, request, body)
                              if conversations.rooms.get(name_key(request.room.lstrip("#")))
                              else original(connection, request, body))
                return d
            conv = room_conv(room.key)
            before = conversations.is_member(conv, account_id)

            def after(result):
                now = conversations.is_member(conv, account_id)
                if now == before:
                    return None
                return self.publish("member", {"conv": conv, "account": account_id, "on": now})
            return self._then(original, connection, request, body, after)
        return handler

    def _after_topic(self, original):
        def handler(connection, request, body):
            def after(result):
                room = self.server.conversations.room(request.room)
                return self.publish("topic", {"key": room.key, "topic": room.topic,
                                              "by": connection.session.name})
            return self._then(original, connection, request, body, after)
        return handler

    def _after_read(self, original):
        def handler(connection, request, body):
            session = connection.session
            up_to = min(request.up_to, self.server.writer.newest_id())

            def after(result):
                conv = self.server.conversations.resolve(request.conv, session.account_id)
                return self.publish("read", {"conv": conv, "account": session.account_id,
                                             "name": session.name, "up_to": up_to})
            return self._then(original, connection, request, body, after)
        return handler

    def _after_ban(self, original):
        """A ban (or unban) holds on every node; a ban's ``closed`` counts every node's."""
        def handler(connection, request, body):
            account_id = self.server.directory.id_for(name_key(request.user))
            elsewhere = len(self.presence.remote_of(account_id)) if account_id else 0

            def after(result):
                banned = account_id in self.server.directory.banned
                d = self.publish("ban", {"account": account_id, "banned": banned,
                                         "reason": self.server.directory.banned.get(account_id),
                                         "by": connection.session.name})
                if banned and "closed" in result:
                    result["closed"] += elsewhere
                return d
            return self._then(original, connection, request, body, after)
        return handler

    def _kick_anywhere(self, original):
        """A kick reaches the user's sessions on every node; ``closed`` counts them all."""
        def handler(connection, request, body):
            session = connection.session
            account_id = self.server.directory.id_for(name_key(request.user))
            elsewhere = self.presence.remote_of(account_id) if account_id is not None else []
            if not session.admin or not elsewhere:
                return original(connection, request, body)
            if account_id == session.account_id:
                raise ProtocolError(BAD_REQUEST, "you cannot kick yourself")
            here = 0
            if self.presence.of(account_id):
                here = yield_closed(original(connection, request, body))
            d = self.publish("kick", {"account": account_id, "by": session.name,
                                      "reason": request.reason})
            self.log.info("admin {admin} kicked {user} on the other nodes ({n} sessions)",
                          admin=session.name, user=request.user, n=len(elsewhere))
            return d.addCallback(lambda _: {"closed": here + len(elsewhere)})
        return handler

    def _notice_anywhere(self, original):
        def handler(connection, request, body):
            session = connection.session
            if not session.admin:
                return original(connection, request, body)
            if request.to is None:
                def after(result):
                    return self.publish("notice", {"by": session.name, "text": request.text,
                                                   "ts": format_ts(now_ms(self.server.clock))})
                return self._then(original, connection, request, body, after)
            account_id = self.server.directory.id_for(name_key(request.to))
            if account_id is None or self.presence.of(account_id) \
                    or not self.presence.remote_of(account_id):
                return original(connection, request, body)
            if len(request.text) > self.server.config.max_text:
                return original(connection, request, body)      # its error
            d = self.publish("notice", {"by": session.name, "text": request.text,
                                        "ts": format_ts(now_ms(self.server.clock)),
                                        "to": account_id})
            return d.addCallback(lambda _: {"delivered": 1})
        return handler

    def _all_sessions(self, original):
        """Every node's sessions, each with its ``node``; ``idle`` only for this node's."""
        def handler(connection, request, body):
            def merge(result):
                items = [dict(item, node=self.node) for item in result["sessions"]]
                items += [{"user": s.name, "address": s.address, "port": s.port,
                           "client": s.client, "since": format_ts(s.since), "admin": bool(s.admin),
                           "node": s.node} for s in self.presence.remote.values()]
                items.sort(key=lambda item: (name_key(item["user"]), item["since"]))
                items, more = fit(items)
                return {"online": self.presence.count, "sessions": items,
                        "more": more or result["more"]}
            return defer.maybeDeferred(original, connection, request, body).addCallback(merge)
        return handler


def yield_closed(result) -> int:
    """The ``closed`` count of the (synchronous) kick handler's reply."""
    return result["closed"]
