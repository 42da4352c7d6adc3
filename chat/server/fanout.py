"""Delivering events to connections: encode once, write many.

Every event that goes to more than one connection is encoded to a frame once and the same
bytes are written to each transport; only what differs per viewer (the ``conv`` of a private
message) is encoded per viewer.
"""

from time import perf_counter

from chat.protocol.codec import control_frame
from chat.server.metrics import NullMetrics


class Fanout:
    """Sends events to everyone, to an account's connections, or to a room's online members."""

    def __init__(self, presence, conversations, metrics=NullMetrics()):
        self.presence = presence
        self.conversations = conversations
        self.metrics = metrics     # chat.server.metrics: deliveries, time per fan-out

    @staticmethod
    def to_connections(connections, event) -> int:
        frame = control_frame(event.to_dict())
        for connection in connections:
            connection.send_frame(frame)
        return len(connections)

    def _counted(self, connections, event) -> int:
        if not self.metrics.enabled:
            return self.to_connections(connections, event)
        started = perf_counter()
        n = self.to_connections(connections, event)
        self.metrics.delivered(n, perf_counter() - started)
        return n

    def to_everyone(self, event) -> int:
        return self._counted(tuple(self.presence.connections), event)

    def to_room(self, conv: str, event) -> int:
        return self._counted(tuple(self.conversations.online_connections(conv)), event)

    def per_viewer(self, account_ids, make_event) -> None:
        """Send ``make_event(account_id)`` to each account's connections (private chats)."""
        for account_id in set(account_ids):
            connections = tuple(self.presence.of(account_id))
            if connections:
                self._counted(connections, make_event(account_id))
