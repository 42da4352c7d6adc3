"""Typing notices ("bob is typing…"): relayed at once to the conversation's other online
members, never stored, never sent to anyone offline (docs/PROTOCOL.md, *typing*)."""

from chat.protocol import commands as C
from chat.server.conversations import dm_members, is_room

RELAY_GAP = 2.0
"""Seconds between two notices of one account in one conversation that are relayed; the ones
in between are answered ``relayed: false`` (a client sends one every 3 s while typing)."""
REMEMBERED_MAX = 10_000
"""(account, conversation) pairs remembered before the stale ones are dropped."""


class TypingHandlers:
    """``typing``: one notice to the other members online, at most one per RELAY_GAP."""

    def __init__(self, clock, conversations, fanout, gap: float = RELAY_GAP):
        self.clock = clock
        self.conversations = conversations
        self.fanout = fanout
        self.gap = gap
        self._last = {}              # (account id, conv) -> when its last notice was relayed

    def commands(self):
        return {C.Typing: self.typing}

    def typing(self, connection, request, body):
        session = connection.session
        me = session.account_id
        conv = self.conversations.resolve(request.conv, me)     # not_found, forbidden
        now = self.clock.seconds()
        key = (me, conv)
        last = self._last.get(key)
        if last is not None and now - last < self.gap:
            return {"relayed": False}
        if len(self._last) >= REMEMBERED_MAX:
            # bounded: whatever is older than the gap no longer limits anything
            self._last = {k: t for k, t in self._last.items() if now - t < self.gap}
        self._last[key] = now
        if is_room(conv):
            name = self.conversations.wire_name(conv, me)
            others = tuple(c for c in self.conversations.online_connections(conv)
                           if getattr(c, "session", None) is None
                           or c.session.account_id != me)
            self.fanout.to_connections(others, C.TypingEvent(name, session.name))
        else:
            peers = [member for member in dm_members(conv) if member != me]
            self.fanout.per_viewer(peers, lambda viewer: C.TypingEvent(
                self.conversations.wire_name(conv, viewer), session.name))
        return {"relayed": True}
