"""Messages: send (with group commit and dedup), history, sync, unread, read receipts, burn."""

from twisted.internet import defer

from chat.protocol.errors import TOO_LARGE, ProtocolError

from chat.protocol import commands as C
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.conversations import dm_members, dm_peer, is_room
from chat.server.handlers.paging import fit
from chat.server.storage import BurnDue


class MessageHandlers:
    """Handlers for sending and reading messages, and the burn-after-reading notices."""

    def __init__(self, clock, storage, writer, burner, directory, conversations, fanout,
                 views, monitor=None, limits=None, config=None):
        self.clock = clock
        self.storage = storage
        self.writer = writer
        self.burner = burner
        self.directory = directory
        self.conversations = conversations
        self.fanout = fanout
        self.views = views           # chat.server.views.MessageViews
        self.monitor = monitor       # chat.server.monitor.Monitor: admins watching live
        self.limits = limits         # chat.server.limits.Limits: the send rate
        self.config = config         # ServerConfig: max_text, history_page
        # False on a cluster node, whose stream delivers every stored message, this node's
        # own too, in one order for all nodes (chat.server.cluster)
        self.delivers_stored = True

    def commands(self):
        return {
            C.Send: self.send, C.History: self.history, C.Sync: self.sync,
            C.Unread: self.unread, C.MarkRead: self.read,
        }

    def view(self, message, viewer: int) -> dict:
        """A stored (or new) message as ``viewer`` sees it (chat.server.views)."""
        return self.views.view(message, viewer)

    # -- send
    @defer.inlineCallbacks
    def send(self, connection, request, body):
        session = connection.session
        sender = session.account_id
        if self.config is not None and len(request.text) > self.config.max_text:
            raise ProtocolError(TOO_LARGE, f"a message is at most {self.config.max_text} "
                                           "characters on this server")
        conv = self.conversations.resolve(request.to, sender)
        if self.limits is not None:
            self.limits.sends.take(sender, "too many messages; slow down")
        if is_room(conv):
            recipients = self.conversations.members.get(conv, set()) - {sender}
        else:
            recipients = {dm_peer(conv, sender)} - {sender}
            yield self.open_private_chat(conv)
        message, stored = yield self.writer.submit(
            conv, sender, session.name, request.text, request.cid, request.burn,
            sorted(recipients) if request.burn is not None else ())
        if not stored.duplicate:
            self.stored(message)
            if stored.burn_deadline is not None:
                self.burner.schedule(BurnDue(message.id, conv, stored.burn_deadline))
        return {"msg_id": stored.id, "ts": format_ts(stored.ts), "duplicate": stored.duplicate}

    @defer.inlineCallbacks
    def open_private_chat(self, conv):
        """Make both accounts members of a private chat (when its first message is sent)."""
        if conv in self.conversations.members:
            return
        now = now_ms(self.clock)
        for account_id in set(dm_members(conv)):
            yield self.storage.add_member(conv, account_id, now)
            self.conversations.add_member(conv, account_id)

    def stored(self, message) -> None:
        """A message was just stored here: deliver it (unless the stream does)."""
        if self.delivers_stored:
            self.deliver(message)

    def deliver(self, message) -> None:
        """Push a newly stored message to every online connection of its conversation."""
        if is_room(message.conv):
            # one view and one encoding for the whole room: it is the same for every member
            self.fanout.to_room(message.conv, C.MessageEvent(self.view(message, message.sender_id)))
        else:
            self.fanout.per_viewer(dm_members(message.conv),
                                   lambda viewer: C.MessageEvent(self.view(message, viewer)))
        if self.monitor is not None:
            self.monitor.message(message)

    # -- reading
    @defer.inlineCallbacks
    def history(self, connection, request, body):
        viewer = connection.session.account_id
        conv = self.conversations.resolve(request.conv, viewer)
        limit = request.limit
        if self.config is not None:
            limit = min(limit, self.config.history_page)    # more: the client pages on
        found = yield self.storage.history(conv, request.before, request.after, limit + 1)
        more = len(found) > limit
        if more:
            found = found[:-1] if request.after is not None else found[1:]
        # keep the end the client pages from: the newest when going back, the oldest forward
        messages, cut = fit([self.view(m, viewer) for m in found],
                            from_end=request.after is None)
        data = {"conv": self.conversations.wire_name(conv, viewer),
                "messages": messages, "more": more or cut}
        if not is_room(conv):
            marks = yield self.storage.read_marks(conv)
            data["peer_read"] = marks.get(dm_peer(conv, viewer), 0)
        return data

    @defer.inlineCallbacks
    def sync(self, connection, request, body):
        viewer = connection.session.account_id
        found = yield self.storage.messages_since(viewer, request.since, request.limit + 1)
        messages, cut = fit([self.view(m, viewer) for m in found[:request.limit]])
        return {"messages": messages, "more": len(found) > request.limit or cut}

    @defer.inlineCallbacks
    def unread(self, connection, request, body):
        viewer = connection.session.account_id
        counts = yield self.storage.unread_counts(viewer)
        return {"unread": {self.conversations.wire_name(conv, viewer): n
                           for conv, n in counts.items()}}

    @defer.inlineCallbacks
    def read(self, connection, request, body):
        session = connection.session
        reader = session.account_id
        conv = self.conversations.resolve(request.conv, reader)
        # a mark past the newest message would count messages not yet sent as read (and
        # tell the peer so in the receipt): it stops at the newest id
        up_to = min(request.up_to, self.writer.newest_id())
        now = now_ms(self.clock)
        due = yield self.storage.set_read(reader, conv, up_to, now)
        for item in due:
            self.burner.schedule(item)
        if is_room(conv):
            viewers = (reader,)
        else:
            viewers = set(dm_members(conv))
        self.fanout.per_viewer(viewers, lambda viewer: C.ReadEvent(
            self.conversations.wire_name(conv, viewer), session.name, up_to))
        return {}


