"""Every reply fits in one frame: lists page by name, message pages are cut by size."""

from twisted.trial import unittest

from chat.protocol import commands as C
from chat.protocol.errors import SERVER_ERROR
from chat.server.handlers.paging import fit
from tests.harness import Client, make_server, user


class ListPagingTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        registrar = Client(self.server)
        registrar.hello()
        self.names = [f"user{i:02d}" for i in range(12)]
        for name in self.names:
            registrar.register(name)
        self.alice = user(self.server, "alice")

    def walk(self, kind, key, **fields):
        seen, after = [], None
        while True:
            page = self.alice.ok(kind, limit=5, **({"after": after} if after else {}), **fields)
            seen += [item["name"] for item in page[key]]
            if not page["more"]:
                return seen
            after = seen[-1]

    def test_users_page_by_name(self):
        self.assertEqual(self.walk("users", "users"), sorted(self.names + ["alice"]))

    def test_online_users_only(self):
        page = self.alice.ok("users", online=True)
        self.assertEqual(([u["name"] for u in page["users"]], page["online"]), (["alice"], 1))

    def test_members_page_by_name(self):
        self.assertEqual(self.walk("members", "members", room="lobby"),
                         sorted(self.names + ["alice"]))

    def test_rooms_page_by_name(self):
        for i in range(7):
            self.alice.ok("create_room", room=f"room{i}")
        self.assertEqual(self.walk("rooms", "rooms"), ["lobby"] + [f"room{i}" for i in range(7)])


class MessagePagesFitTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")
        # 30 messages of 16,000 emoji (64 KB of UTF-8 each): one per frame at most
        self.ids = [self.alice.ok("send", to="#lobby", text=chr(0x1F600 + i) * 16000,
                                  cid=f"big{i}")["msg_id"] for i in range(30)]
        self.alice.events()

    def test_history_back_in_size_cut_pages(self):
        seen, before = [], None
        for _ in range(100):
            page = self.alice.ok("history", conv="#lobby", limit=200,
                                 **({"before": before} if before else {}))
            self.assertTrue(page["messages"], "a page always holds at least one message")
            seen = [m["id"] for m in page["messages"]] + seen
            if not page["more"]:
                break
            before = page["messages"][0]["id"]
        self.assertEqual(seen, self.ids)

    def test_history_forward_and_sync_in_size_cut_pages(self):
        for kind, cursor in (("history", "after"), ("sync", "since")):
            seen, last = [], 0
            for _ in range(100):
                fields = {"conv": "#lobby", "after": last} if kind == "history" else {"since": last}
                page = self.alice.ok(kind, limit=200, **fields)
                seen += [m["id"] for m in page["messages"]]
                if not page["more"]:
                    break
                last = seen[-1]
            self.assertEqual(seen, self.ids, cursor)


class FitTests(unittest.TestCase):
    def test_fit_from_either_end(self):
        items = [{"n": i, "pad": "x" * 90} for i in range(10)]
        head, cut = fit(items, budget=350)
        self.assertEqual(([i["n"] for i in head], cut), ([0, 1, 2], True))
        tail, cut = fit(items, from_end=True, budget=350)
        self.assertEqual(([i["n"] for i in tail], cut), ([7, 8, 9], True))
        self.assertEqual(fit(items), (items, False))


class OversizedReplySafetyNetTests(unittest.TestCase):
    def test_a_reply_over_the_limit_becomes_an_error(self):
        server = make_server()
        server._handlers[C.Ping] = lambda connection, request, body: {"blob": "x" * 70_000}
        client = Client(server)
        self.assertEqual(client.error("ping"), SERVER_ERROR)
        self.flushLoggedErrors()
