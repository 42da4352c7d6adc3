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
from tests.support.wire import ConnectionClosed, RequestError, RequestTimeout, login_client, sleep

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

    node_args = ()

    def node(self, name):
        server = ServerProcess(os.path.join(self.tmp, name), args=e2e.FAST_HASH + [
            "--database", self.cluster.dsn(self.dbname), "--node", name, "--admin", "alice",
            "--name", "cluster", *self.node_args])
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
    async def test_one_chat_across_three_nodes(self):
        """Messages in one order, presence, rooms, topics, receipts, burns, the session
        list, kicks and bans: each through one node, seen on the others."""
        n1, n2, n3 = self.nodes_
        await self.register_all("alice", "bob", "carol")
        alice = await self.login_at(n1, "alice")
        bob = await self.login_at(n2, "bob")
        # presence: carol comes online on n3; alice (n1) and bob (n2) are told
        carol = await self.login_at(n3, "carol")
        for client in (alice, bob):
            await client.next_event("presence", match=lambda e: {"user": "carol",
                                                                 "online": True} in e["changes"])
        self.assertEqual(carol.login_data["online"], 3)
        users = await self.until(lambda: self._online_users(alice), "everyone online at n1",
                                 timeout=5)
        self.assertEqual(users, {"alice", "bob", "carol"})

        # a room made on n1, joined through n2 and n3: the joins are announced everywhere
        await alice.request("create_room", room="dev", topic="")
        await bob.request("join", room="#dev")
        joined = await alice.next_event("joined")
        self.assertEqual((joined["room"], joined["user"]), ("dev", "bob"))
        await carol.request("join", room="#dev")
        for client in (alice, bob):
            joined = await client.next_event("joined", match=lambda e: e["user"] == "carol")
            self.assertEqual(joined["room"], "dev")
        members = (await bob.request("members", room="#dev"))["members"]
        self.assertEqual({(m["name"], m["online"]) for m in members},
                         {("alice", True), ("bob", True), ("carol", True)})
        # the topic set on n3 reaches n1 and n2, and n2's room list has it
        await carol.request("set_topic", room="#dev", topic="cross-node 跨节点")
        for client in (alice, bob):
            topic = await client.next_event("topic")
            self.assertEqual((topic["room"], topic["topic"], topic["by"]),
                             ("dev", "cross-node 跨节点", "carol"))
        rooms = {r["name"]: r for r in (await bob.request("rooms"))["rooms"]}
        self.assertEqual((rooms["dev"]["topic"], rooms["dev"]["members"]),
                         ("cross-node 跨节点", 3))
        # a room message through n1 reaches the members on n2 and n3
        await alice.send_message("#dev", "to the room", cid="dev-1")
        for client in (bob, carol):
            msg = (await client.next_event("message", match=e2e.cid_is("dev-1")))["msg"]
            self.assertEqual((msg["conv"], msg["text"]), ("#dev", "to the room"))
        await self.check_one_order(alice, bob, carol)

        # a private message, its read receipt and its burn across n1 and n2
        ok = await alice.send_message("@bob", "burns 🔥", cid="burn-1", burn=1)
        msg = (await bob.next_event("message", match=e2e.cid_is("burn-1")))["msg"]
        self.assertEqual((msg["conv"], msg["text"]), ("@alice", "burns 🔥"))
        await bob.request("read", conv="@alice", up_to=ok["msg_id"])
        receipt = await alice.next_event("read", match=lambda e: e["up_to"] >= ok["msg_id"])
        self.assertEqual((receipt["conv"], receipt["user"]), ("@bob", "bob"))
        burned = await alice.next_event("burned", timeout=5)
        self.assertEqual((burned["conv"], burned["ids"]), ("@bob", [ok["msg_id"]]))
        self.assertEqual((await bob.next_event("burned", timeout=5))["ids"], [ok["msg_id"]])

        # carol leaves #dev on n3: n1 and n2 are told
        await carol.request("leave", room="#dev")
        for client in (alice, bob):
            left = await client.next_event("left")
            self.assertEqual((left["room"], left["user"]), ("dev", "carol"))

        # the admin's session list on n1 shows every node's sessions with its name
        sessions = (await alice.request("sessions"))["sessions"]
        self.assertEqual(sorted((s["user"], s["node"]) for s in sessions),
                         [("alice", "n1"), ("bob", "n2"), ("carol", "n3")])
        self.assertEqual([s.get("idle") is not None for s in sessions], [True, False, False])

        # a kick through n1 closes carol's connection on n3; bob (n2) sees her go offline
        self.assertEqual(await alice.request("kick", user="carol", reason="tidy"),
                         {"closed": 1})
        bye = await carol.next_event("bye")
        self.assertEqual((bye["code"], bye["message"]), ("kicked", "kicked by alice: tidy"))
        await bob.next_event("presence", match=lambda e: any(
            c["user"] == "carol" and not c["online"] for c in e["changes"]))
        # a ban through n1 closes bob on n2 and holds on n3
        self.assertEqual(await alice.request("ban", user="bob", reason="spam"), {"closed": 1})
        bye = await bob.next_event("bye")
        self.assertEqual((bye["code"], bye["message"]), ("banned", "banned by alice: spam"))
        with self.assertRaises(e2e.RequestError) as caught:
            await self.login_at(n3, "bob")
        self.assertEqual(caught.exception.code, "banned")
        await alice.request("unban", user="bob")
        await self.until(lambda: self._can_log_in(n3, "bob"), "bob may log in on n3 again")

    async def check_one_order(self, alice, bob, carol):
        """60 messages sent at once through three nodes reach everyone in one order."""
        base = len(alice.messages())
        self.assertEqual([len(c.messages()) for c in (bob, carol)], [base, base])
        # all three send at once, each through its own node
        sends = []
        for client, prefix in ((alice, "a"), (bob, "b"), (carol, "c")):
            for i in range(20):
                sends.append(client.send_message("#lobby", f"{prefix}{i}", cid=f"{prefix}-{i}"))
        acks = await defer.gatherResults(sends)
        ids = [ack["msg_id"] for ack in acks]
        self.assertEqual(len(set(ids)), 60)
        for client in (alice, bob, carol):
            await self.until(lambda c=client: len(c.messages()) >= base + 60,
                             f"{client.username} got all 60 messages")
        orders = [[m["id"] for m in c.messages()[base:]] for c in (alice, bob, carol)]
        self.assertEqual(orders[0], sorted(ids))
        self.assertEqual(orders[1], orders[0])
        self.assertEqual(orders[2], orders[0])
        # each sender's own messages in the order sent
        texts = [m["text"] for m in alice.messages()[base:]]
        for prefix in "abc":
            mine = [t for t in texts if t[0] == prefix]
            self.assertEqual(mine, [f"{prefix}{i}" for i in range(20)])
        # a resend through another node is recognised by its cid
        again = await carol.send_message("#lobby", "a0", cid="c-0")
        self.assertEqual((again["msg_id"], again["duplicate"]), (acks[40]["msg_id"], True))
        self.assertEqual(self.rows("SELECT count(*) FROM messages WHERE cid LIKE '_-%%'"),
                         [(60,)])

    async def _online_users(self, client):
        users = (await client.request("users"))["users"]
        online = {u["name"] for u in users if u["online"]}
        return online if len(online) == 3 else None

    async def _can_log_in(self, node, name):
        try:
            client = await self.login_at(node, name)
        except e2e.RequestError:
            return False
        await client.abort()
        return True


class NodeKilledTests(ClusterCase):
    """SIGKILL of a node while its clients send: they reconnect to the other node."""

    nodes = 2
    node_args = ("--send-rate", "0")      # as fast as the senders go

    @e2e.with_server_output
    async def test_sigkill_under_traffic_loses_nothing_acked_and_duplicates_nothing(self):
        n1, n2 = self.nodes_
        await self.register_all("alice", "bob", "carol", "dave")
        watcher = await self.login_at(n2, "carol")          # on the node that stays
        reader = Reconnecting(self, "dave", [n1, n2])       # on the one killed, then the other
        await reader.connect()
        acked = {}                                          # cid -> msg_id of its ack
        senders = [Reconnecting(self, name, [n1, n2]) for name in ("alice", "bob")]
        for sender in senders:
            await sender.connect()
        per_sender = 60
        sending = [defer.ensureDeferred(s.send_all(per_sender, acked)) for s in senders]
        await self.until(lambda: len(acked) >= 40, "40 messages acked before the kill")
        await n1.kill9()
        await defer.gatherResults(sending)
        self.assertTrue(all(s.reconnected for s in senders), "the senders were cut off")
        self.assertEqual(len(acked), 2 * per_sender)

        # the database: every acked message once, under the id its ack gave
        rows = dict(self.rows("SELECT cid, id FROM messages"))
        self.assertEqual(rows, acked)
        ids = sorted(acked.values())
        # the watcher on the node that stayed saw each of them once, in id order
        await self.until(lambda: len(watcher.messages()) >= len(ids), "the watcher saw all")
        self.assertEqual([m["id"] for m in watcher.messages()], ids)
        # the reader cut off with n1 gets, on n2, exactly what it missed
        await reader.catch_up()
        await self.until(lambda: len(reader.seen) >= len(ids), "the reader saw all",
                         timeout=5)
        self.assertEqual(reader.seen, ids)
        self.assertTrue(reader.reconnected)


class Reconnecting:
    """A test client that moves to the next node when its connection dies: a sender resends
    what had no ack (same cid), a reader syncs from the last id it saw (the clients' own
    --host lists do the same)."""

    def __init__(self, case, name, nodes):
        self.case = case
        self.name = name
        self.nodes = list(nodes)
        self.client = None
        self.reconnected = False
        self.seen = []            # ids of the messages received, live or by sync, in order

    async def connect(self):
        for attempt in range(100):
            node = self.nodes[0]
            if node.running:
                try:
                    self.client = await self.case.login_at(node, self.name)
                    self.client._event = self._watch(self.client._event)
                    return
                except (ConnectionClosed, RequestError, RequestTimeout, OSError, Exception):
                    pass
            self.nodes.append(self.nodes.pop(0))
            self.reconnected = True
            await sleep(0.05)
        self.case.fail(f"{self.name} found no node to log in to")

    def _watch(self, original):
        def event(frame):
            if frame.get("type") == "message":
                self._take([frame["msg"]["id"]])
            return original(frame)
        return event

    def _take(self, ids):
        for msg_id in ids:
            if not self.seen or msg_id > self.seen[-1]:
                self.seen.append(msg_id)
            elif msg_id not in self.seen:
                self.case.fail(f"{self.name}: message {msg_id} came after {self.seen[-1]}")

    async def catch_up(self):
        """Reconnect if cut off, then sync from the last id seen (pages until no more)."""
        if self.client.close_reason is not None:
            await self.connect()
        while True:
            since = self.seen[-1] if self.seen else 0
            data = await self.client.request("sync", since=since, limit=500)
            self._take([m["id"] for m in data["messages"]])
            if not data["more"]:
                return

    async def send_all(self, count, acked, window=5):
        unacked = {f"{self.name}-{i}": f"{self.name} says {i}" for i in range(count)}
        while unacked:
            batch = list(unacked)[:window]
            results = await defer.DeferredList(
                [self.client.send_message("#lobby", unacked[cid], cid=cid) for cid in batch],
                consumeErrors=True)
            lost = False
            for cid, (ok, result) in zip(batch, results):
                if ok:
                    if cid in acked:         # a resend: the first copy's id
                        self.case.assertEqual(result["msg_id"], acked[cid])
                    acked[cid] = result["msg_id"]
                    del unacked[cid]
                else:
                    lost = True
            if lost:
                await self.client.abort()
                await self.connect()
