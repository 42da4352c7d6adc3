"""The cluster stream on a real PostgreSQL, in this process: positions commit in order under
concurrent writers (a follower never skips a row that commits late), a follower whose LISTEN
connection is cut catches up from the table, and message ids come from the storing
transaction. Nodes as whole servers: tests/test_cluster.py.
"""

import time

from twisted.internet import defer, reactor
from twisted.trial import unittest

from chat.server.cluster.follower import StreamFollower
from chat.server.cluster.listener import StreamListener
from chat.server.cluster.storage import NodeStorage
from chat.server.cluster.stream_sql import StreamEvent
from chat.server.storage import NewMessage
from tests.support import pgcluster
from tests.support.wire import sleep


def tearDownModule():
    pgcluster.stop_shared()


def message(sender, cid, conv="r:lobby"):
    return NewMessage(0, conv, sender, f"u{sender}", f"text {cid}", int(time.time() * 1000), cid)


class StreamTests(unittest.TestCase):

    timeout = 30

    async def setUp(self):
        self.pg = pgcluster.shared()
        dsn = self.pg.new_schema_dsn()
        self.a = NodeStorage(dsn, "a", pool_size=3)
        self.b = NodeStorage(dsn, "b", pool_size=3)
        await self.a.start()
        await self.b.start()
        self.addCleanup(self.b.stop)
        self.addCleanup(self.a.stop)
        self.seen = []

    def follow(self, storage, position=0):
        follower = StreamFollower(storage, lambda item, files: self.seen.append(item), position,
                                  page=7)      # small pages: the merge of both tables is cut
        listener = StreamListener(storage.connect, follower.wake, reactor.callFromThread,
                                  interval=0.2, retry=0.05)
        listener.start()
        self.addCleanup(listener.stop)
        return follower, listener

    async def until(self, check, what, timeout=10):
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                self.fail(f"not within {timeout} s: {what}")
            await sleep(0.02)

    async def test_concurrent_writers_commit_in_position_order(self):
        follower, _ = self.follow(self.a)
        writes = []
        for i in range(40):
            writes.append(self.a.store_messages([message(1, f"a{i}-{j}") for j in range(3)]))
            writes.append(self.b.store_messages([message(2, f"b{i}")]))
            writes.append(self.b.append_event("topic", {"i": i}))
        results = await defer.gatherResults(writes)
        ids = sorted([r.id for batch in results[0::3] + results[1::3] for r in batch]
                     + results[2::3])
        self.assertEqual(len(set(ids)), 40 * 5)
        # numbered in the storing transaction: one batch's ids follow each other
        for batch in results[0::3]:
            self.assertEqual([r.id for r in batch], list(range(batch[0].id, batch[0].id + 3)))
        await self.until(lambda: len(self.seen) == len(ids), "the follower saw every row")
        self.assertEqual([item.id for item in self.seen], ids)
        events = [item for item in self.seen if isinstance(item, StreamEvent)]
        self.assertEqual([e.data["i"] for e in events], list(range(40)))
        self.assertEqual({e.node for e in events}, {"b"})
        # a resend of a stored cid is the first copy, through either node
        again = await self.b.store_messages([message(1, "a0-0")])
        self.assertEqual((again[0].id, again[0].duplicate), (results[0][0].id, True))

    async def test_a_cut_listen_connection_catches_up_from_the_table(self):
        follower, listener = self.follow(self.a)
        await self.b.append_event("topic", {"i": 0})
        await self.until(lambda: len(self.seen) == 1, "the first event")
        listener.interval = 30       # no timer: only the reconnection can bring what follows
        pids = self.pg.execute("SELECT pid FROM pg_stat_activity WHERE left(query, 6) = 'LISTEN'",
                               dbname=self.pg._scratch)
        self.assertEqual(len(pids), 1, pids)
        self.pg.execute("SELECT pg_terminate_backend(%s)", (pids[0][0],),
                        dbname=self.pg._scratch)
        # written while the listener is down: no notification reaches it
        await self.until(lambda: not listener.connected, "the listener saw the cut")
        await self.b.append_event("topic", {"i": 1})
        await self.b.store_messages([message(2, "while-down")])
        await self.until(lambda: len(self.seen) == 3, "the rows written while it was down")
        self.assertEqual(self.seen[1].data, {"i": 1})
        self.assertEqual(self.seen[2].cid, "while-down")
