"""Several real nodes (``twistd chatserver --database ... --node NAME``) on one PostgreSQL
behave as one server: messages, presence, rooms, topics, read receipts, burns, kicks, bans and
the admin's session list across nodes; a node killed under traffic loses nothing acked and
duplicates nothing once its clients reconnect to another node.

The PostgreSQL server is the module's private cluster (tests/support/pgcluster.py).
"""

import os

from twisted.internet import defer

from tests import test_e2e as e2e
from tests.support import pgcluster
from tests.support.server_process import ServerProcess
from tests.support.wire import login_client, sleep

PASSWORDS = dict(e2e.PASSWORDS, dave="dave-Pa55word-k4wq", erin="erin-Pa55word-z7rt")


def tearDownModule():
    pgcluster.stop_shared()


class ClusterCase(e2e.E2ECase):
    """Starts ``nodes`` nodes on a new database of the module's PostgreSQL cluster."""

    start_server = False
    nodes = 3
    timeout = 60

    async def setUp(self):
        await super().setUp()
        self.cluster = pgcluster.shared()
        self.dbname = self.cluster.new_database()
        self.nodes_ = []
        for n in range(self.nodes):
            self.nodes_.append(self.node(f"n{n + 1}"))
        await defer.gatherResults([defer.ensureDeferred(self._start(node))
                                   for node in self.nodes_])

    async def _start(self, node):
        await node.start()

    def node(self, name):
        server = ServerProcess(os.path.join(self.tmp, name), args=e2e.FAST_HASH + [
            "--database", self.cluster.dsn(self.dbname), "--node", name, "--admin", "alice",
            "--name", "cluster"])
        self.servers.append(server)
        self.addCleanup(server.stop)
        self.addCleanup(self._check_server_output)
        return server

    async def login_at(self, node, name, register=False):
        client = await login_client(node.port, name, PASSWORDS[name], register=register)
        return self.track(client)

    async def register_all(self, *names):
        """Register each name (through the first node) and log out again."""
        for name in names:
            client = await login_client(self.nodes_[0].port, name, PASSWORDS[name],
                                        register=True)
            await client.abort()

    def _check_server_output(self):
        super()._check_server_output()
        for server in self.servers:
            for line in server.output().splitlines():
                if "#error]" in line:
                    self.fail(f"a node logged an error: {line}\n{server.describe()}")

    def rows(self, sql):
        return self.cluster.execute(sql, dbname=self.dbname)

    async def until(self, check, what, timeout=10):
        """Poll ``check`` (async or not) until it is true."""
        deadline = self._now() + timeout
        while True:
            result = check()
            if hasattr(result, "__await__"):
                result = await result
            if result:
                return result
            if self._now() > deadline:
                self.fail(f"not within {timeout} s: {what}")
            await sleep(0.05)

    @staticmethod
    def _now():
        import time
        return time.monotonic()


class CrossNodeTests(ClusterCase):

    @e2e.with_server_output
    async def test_messages_reach_every_node_in_one_order(self):
        n1, n2, n3 = self.nodes_
        await self.register_all("alice", "bob", "carol")
        alice = await self.login_at(n1, "alice")
        bob = await self.login_at(n2, "bob")
        carol = await self.login_at(n3, "carol")
        # all three send at once, each through its own node
        sends = []
        for client, prefix in ((alice, "a"), (bob, "b"), (carol, "c")):
            for i in range(20):
                sends.append(client.send_message("#lobby", f"{prefix}{i}", cid=f"{prefix}-{i}"))
        acks = await defer.gatherResults(sends)
        ids = [ack["msg_id"] for ack in acks]
        self.assertEqual(len(set(ids)), 60)
        for client in (alice, bob, carol):
            await self.until(lambda c=client: len(c.messages()) >= 60,
                             f"{client.username} got all 60 messages")
        orders = [[m["id"] for m in c.messages()] for c in (alice, bob, carol)]
        self.assertEqual(orders[0], sorted(ids))
        self.assertEqual(orders[1], orders[0])
        self.assertEqual(orders[2], orders[0])
        # each sender's own messages in the order sent
        texts = [m["text"] for m in alice.messages()]
        for prefix in "abc":
            mine = [t for t in texts if t[0] == prefix]
            self.assertEqual(mine, [f"{prefix}{i}" for i in range(20)])
        # a resend through another node is recognised by its cid
        again = await carol.send_message("#lobby", "a0", cid="c-0")
        self.assertEqual((again["msg_id"], again["duplicate"]), (acks[40]["msg_id"], True))
        self.assertEqual(self.rows("SELECT count(*) FROM messages"), [(60,)])
