"""Live monitoring: admin connections that receive a copy of every new message.

Only a server started with ``--allow-monitoring`` lets admins turn it on (``hello`` tells every
client so in ``policy.monitoring``). The message handlers call :meth:`Monitor.message` for each
newly stored message; with nobody watching that costs one set lookup.
"""

from chat.protocol import commands as C
from chat.server.fanout import Fanout


class Monitor:
    """The connections watching, and the copy of each new message they get."""

    def __init__(self, views):
        self.views = views               # chat.server.views.MessageViews
        self.watchers: set = set()

    def watch(self, connection) -> None:
        self.watchers.add(connection)

    def forget(self, connection) -> bool:
        """Stop sending to ``connection`` (monitor off, logout, closed); True if it watched."""
        if connection not in self.watchers:
            return False
        self.watchers.discard(connection)
        return True

    def message(self, message) -> None:
        if self.watchers:
            # one view, one encoding for every watcher: they all see it as its sender does
            Fanout.to_connections(tuple(self.watchers), C.MonitorEvent(self.views.as_sent(message)))
