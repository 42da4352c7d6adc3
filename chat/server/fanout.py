"""Delivering events to peers: one event object, handed to many.

Every event that goes to more than one peer is built once and the same object is given to
each peer's ``deliver``; each transport renders it (the native one encodes it once for all
its connections, see :mod:`chat.server.frames`). Only what differs per viewer (the ``conv``
of a private message) is a separate event per viewer.
"""

from time import perf_counter

from chat.server.metrics import NullMetrics


class Fanout:
    """Sends events to everyone, to an account's peers, or to a room's online members."""

    def __init__(self, presence, conversations, metrics=NullMetrics()):
        self.presence = presence
        self.conversations = conversations
        self.metrics = metrics     # chat.server.metrics: deliveries, time per fan-out

    @staticmethod
    def to_peers(peers, event) -> int:
        for peer in peers:
            peer.deliver(event)
        return len(peers)

    to_connections = to_peers   # its older name

    def _counted(self, peers, event) -> int:
        if not self.metrics.enabled:
            return self.to_peers(peers, event)
        started = perf_counter()
        n = self.to_peers(peers, event)
        self.metrics.delivered(n, perf_counter() - started)
        return n

    def to_everyone(self, event) -> int:
        return self._counted(tuple(self.presence.connections), event)

    def to_room(self, conv: str, event) -> int:
        return self._counted(tuple(self.conversations.online_connections(conv)), event)

    def per_viewer(self, account_ids, make_event) -> None:
        """Send ``make_event(account_id)`` to each account's peers (private chats)."""
        for account_id in set(account_ids):
            peers = tuple(self.presence.of(account_id))
            if peers:
                self._counted(peers, make_event(account_id))
