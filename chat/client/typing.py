"""Who is typing where ("bob is typing…"), for any user interface; no I/O.

The server relays a ``typing`` event at most every 2 s per user and conversation, and sends
no "stopped" event (docs/PROTOCOL.md, *typing*): a typist is shown for SHOW_FOR seconds after
their last notice, and not at all once a message of theirs arrives in that conversation.
Sending is limited here too: :meth:`TypingTracker.may_send` says yes at most every SEND_EVERY
seconds per conversation, and again at once after the user sent a message there.
"""

SHOW_FOR = 6.0
"""Seconds a typist stays shown after their last notice (two notices' worth, and some)."""
SEND_EVERY = 3.0
"""Seconds between two notices the user's own typing sends to one conversation."""


class TypingTracker:
    """Typists per conversation (names compare case-insensitively), on an injected clock."""

    def __init__(self, clock, show_for: float = SHOW_FOR, send_every: float = SEND_EVERY):
        self.clock = clock
        self.show_for = show_for
        self.send_every = send_every
        self._typists = {}        # conv key -> {user key: (user, until)}
        self._sent = {}           # conv key -> when our own last notice went out

    # -- others typing
    def saw(self, conv: str, user: str) -> None:
        """A ``typing`` event: ``user`` types in ``conv`` (as this client names it)."""
        until = self.clock.seconds() + self.show_for
        self._typists.setdefault(conv.casefold(), {})[user.casefold()] = (user, until)

    def stopped(self, conv: str, user: str) -> bool:
        """``user`` sent a message in ``conv``: not typing any more. True if they were."""
        typists = self._typists.get(conv.casefold())
        if not typists or typists.pop(user.casefold(), None) is None:
            return False
        if not typists:
            del self._typists[conv.casefold()]
        return True

    def typing_in(self, conv: str) -> list:
        """The names typing in ``conv`` now, in the order they started."""
        typists = self._typists.get(conv.casefold())
        if not typists:
            return []
        now = self.clock.seconds()
        for key in [k for k, (_, until) in typists.items() if until <= now]:
            del typists[key]
        if not typists:
            del self._typists[conv.casefold()]
            return []
        return [user for user, _ in typists.values()]

    def next_change_in(self):
        """Seconds until the next typist's notice runs out (None: nobody is shown)."""
        ends = [until for typists in self._typists.values() for _, until in typists.values()]
        if not ends:
            return None
        return max(0.0, min(ends) - self.clock.seconds())

    def clear(self) -> None:
        """Forget everyone (the link went: notices that stop coming would look stuck)."""
        self._typists.clear()
        self._sent.clear()

    # -- the user typing
    def may_send(self, conv: str) -> bool:
        """True if a notice for ``conv`` may go out now (and counts it as sent)."""
        now = self.clock.seconds()
        last = self._sent.get(conv.casefold())
        if last is not None and now - last < self.send_every:
            return False
        self._sent[conv.casefold()] = now
        return True

    def message_sent(self, conv: str) -> None:
        """The user sent a message to ``conv``: the next keystroke there notifies again."""
        self._sent.pop(conv.casefold(), None)
