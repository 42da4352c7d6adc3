"""The PostgreSQL storage of a cluster node: message ids from the stream, events, sessions.

Unlike a single server, which numbers messages in memory before storing them, a node cannot
know what the others stored: :meth:`NodeStorage.store_messages` numbers a batch in the storing
transaction, under the stream's lock (:mod:`.stream_sql`), and announces it with a NOTIFY
sent in that transaction. The writer (chat.server.writer) sees ``assigns_ids`` and takes the
ids from the results. A node's events are written one at a time, in the order they were
published (the pool has several connections: a logout must not commit before its login).
"""

import time

from twisted.internet import defer

from chat.server.storage.postgresql import PostgreSQLStorage

from . import stream_sql


def _now() -> int:
    return int(time.time() * 1000)


class NodeStorage(PostgreSQLStorage):
    """:class:`PostgreSQLStorage` for node ``node`` of a cluster."""

    #: chat.server.writer: message ids come from store_messages' results
    assigns_ids = True

    def __init__(self, dsn: str, node: str, password=None, pool_size: int = 5):
        super().__init__(dsn, password, pool_size)
        self.node = node
        self._events = defer.DeferredLock()     # this node's events, in order

    def connect(self):
        """A connection of its own, outside the pool (the listener's)."""
        return self._engine.connect()

    def store_messages(self, batch):
        return self._run(stream_sql.store_messages, list(batch))

    # -- the stream
    def stream_top(self):
        return self._run(stream_sql.top)

    def stream_after(self, position: int, limit: int):
        return self._run(stream_sql.after, position, limit)

    def _in_order(self, interaction, *args):
        return self._events.run(self._run, interaction, *args)

    def append_event(self, kind: str, data: dict):
        return self._in_order(stream_sql.append_event, self.node, kind, data, _now())

    # -- nodes and sessions
    def node_started(self):
        return self._run(stream_sql.node_started, self.node)

    def node_seen(self):
        return self._run(stream_sql.node_seen, self.node)

    def node_gone(self, node: str):
        return self._run(stream_sql.node_gone, node)

    def sessions(self):
        return self._run(stream_sql.sessions)

    def session_opened(self, row: tuple):
        return self._in_order(stream_sql.session_opened, row, _now())

    def session_closed(self, sid: int):
        return self._in_order(stream_sql.session_closed, self.node, sid, _now())
