"""Typing notices ("bob is typing…"): relayed at once to the conversation's other online
members, never stored, never sent to anyone offline (docs/PROTOCOL.md, *typing*)."""

from chat.protocol import commands as C
from chat.server.conversations import dm_members, is_room

BURST = 3
"""Notices of one account in one conversation relayed in a row (a client sends one every 3 s
while typing, and one at once when typing on after a message)..."""
REFILL_EVERY = 2.0
"""... and then one more every this many seconds; the others are answered ``relayed:
false`` and go nowhere."""
REMEMBERED_MAX = 10_000
"""(account, conversation) pairs remembered before the stale ones are dropped."""


class TypingHandlers:
    """``typing``: one notice to the other members online, rate-limited per account and
    conversation by a token bucket (BURST, one more every REFILL_EVERY seconds)."""

    def __init__(self, clock, conversations, fanout):
        self.clock = clock
        self.conversations = conversations
        self.fanout = fanout
        self._buckets = {}           # (account id, conv) -> (tokens left, when counted)

    def commands(self):
        return {C.Typing: self.typing}

    def typing(self, connection, request, body):
        session = connection.session
        me = session.account_id
        conv = self.conversations.resolve(request.conv, me)     # not_found, forbidden
        now = self.clock.seconds()
        key = (me, conv)
        tokens, counted = self._buckets.get(key, (BURST, now))
        tokens = min(BURST, tokens + (now - counted) / REFILL_EVERY)
        if tokens < 1:
            return {"relayed": False}
        if len(self._buckets) >= REMEMBERED_MAX:
            # bounded: a bucket that has filled up again limits nothing and can go
            full_after = BURST * REFILL_EVERY
            self._buckets = {k: v for k, v in self._buckets.items()
                             if now - v[1] < full_after}
        self._buckets[key] = (tokens - 1, now)
        if is_room(conv):
            name = self.conversations.wire_name(conv, me)
            # every kind of connection (native, IRC) that is not the typist's own
            others = tuple(c for c in self.conversations.online_connections(conv)
                           if getattr(getattr(c, "session", None), "account_id", None) != me)
            self.fanout.to_connections(others, C.TypingEvent(name, session.name))
        else:
            peers = [member for member in dm_members(conv) if member != me]
            self.fanout.per_viewer(peers, lambda viewer: C.TypingEvent(
                self.conversations.wire_name(conv, viewer), session.name))
        return {"relayed": True}
