"""Messages through real ChatConnections: delivery, privacy, dedup, history, burn, batching."""

from twisted.internet import defer
from twisted.trial import unittest

from chat.protocol.errors import FORBIDDEN, NOT_FOUND, SERVER_ERROR, TOO_LARGE
from chat.server.storage import StorageError
from chat.server.storage.memory import MemoryStorage
from tests.harness import Client, make_server, user


class DeliveryTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.carol = user(self.server, "carol")
        for client in (self.alice, self.bob, self.carol):
            client.events()

    def test_room_message_reaches_every_member_untouched(self):
        text = "hello 👋 你好 \u202e\x00 end"
        sent = self.alice.ok("send", to="#lobby", text=text, cid="c-1")
        self.assertFalse(sent["duplicate"])
        for client in (self.alice, self.bob, self.carol):
            [event] = client.events("message")
            msg = event["msg"]
            self.assertEqual((msg["id"], msg["text"], msg["from"], msg["conv"], msg["to"]),
                             (sent["msg_id"], text, "alice", "#lobby", "#lobby"))
            self.assertEqual(msg["ts"], sent["ts"])
            self.assertTrue(msg["ts"].endswith("Z"))

    def test_ids_increase(self):
        ids = [self.alice.ok("send", to="#lobby", text=str(i), cid=str(i))["msg_id"]
               for i in range(5)]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), 5)

    def test_private_message_reaches_only_the_two(self):
        alice2 = user(self.server, "alice", register=False)
        self.alice.events()
        self.alice.ok("send", to="@BOB", text="secret", cid="p-1")
        [to_bob] = self.bob.events("message")
        self.assertEqual((to_bob["msg"]["conv"], to_bob["msg"]["to"]), ("@alice", "@bob"))
        [to_alice] = self.alice.events("message")
        [to_alice2] = alice2.events("message")
        self.assertEqual(to_alice["msg"]["conv"], "@bob")
        self.assertEqual(to_alice2, to_alice)
        self.assertEqual(self.carol.events(), [])
        # carol can find it nowhere
        self.assertEqual(self.carol.ok("history", conv="@bob")["messages"], [])
        self.assertEqual(self.carol.ok("history", conv="@alice")["messages"], [])
        self.assertEqual(self.carol.ok("sync", since=0)["messages"], [])
        self.assertEqual(self.carol.ok("unread")["unread"], {})
        self.assertEqual([m["text"] for m in self.bob.ok("history", conv="@alice")["messages"]],
                         ["secret"])

    def test_unknown_recipient(self):
        self.assertEqual(self.alice.error("send", to="@nobody", text="x", cid="1"), NOT_FOUND)
        self.assertEqual(self.alice.error("send", to="#nowhere", text="x", cid="1"), NOT_FOUND)

    def test_oversized_text(self):
        self.assertEqual(self.alice.error("send", to="#lobby", text="x" * 16001, cid="1"),
                         TOO_LARGE)

    def test_room_history_needs_membership(self):
        self.alice.ok("create_room", room="secret-room")
        self.alice.ok("send", to="#secret-room", text="inside", cid="1")
        self.assertEqual(self.bob.error("history", conv="#secret-room"), FORBIDDEN)
        self.assertEqual(self.bob.error("read", conv="#secret-room", up_to=99), FORBIDDEN)
        self.assertEqual(self.bob.events("message"), [])


class DedupTests(unittest.TestCase):
    def test_resend_is_stored_and_delivered_once(self):
        server = make_server()
        alice = user(server, "alice")
        bob = user(server, "bob")
        first = alice.ok("send", to="@bob", text="once", cid="same")
        alice.disconnect()
        again = user(server, "alice", register=False)
        second = again.ok("send", to="@bob", text="once", cid="same")
        self.assertEqual((second["msg_id"], second["ts"], second["duplicate"]),
                         (first["msg_id"], first["ts"], True))
        self.assertEqual(len(bob.events("message")), 1)
        self.assertEqual(len(bob.ok("history", conv="@alice")["messages"]), 1)

    def test_same_cid_from_two_senders_is_two_messages(self):
        server = make_server()
        alice, bob = user(server, "alice"), user(server, "bob")
        a = alice.ok("send", to="#lobby", text="a", cid="1")
        b = bob.ok("send", to="#lobby", text="b", cid="1")
        self.assertNotEqual(a["msg_id"], b["msg_id"])
        self.assertFalse(b["duplicate"])


class SlowStorage(MemoryStorage):
    """MemoryStorage whose store_messages waits until the test releases it."""

    def __init__(self):
        super().__init__()
        self.waiting = []
        self.batches = []
        self.fail_next = False

    def store_messages(self, batch):
        self.batches.append(list(batch))
        if self.fail_next:
            self.fail_next = False
            return defer.fail(StorageError("disk full"))
        d = defer.Deferred()
        self.waiting.append((d, batch))
        return d

    def release(self):
        d, batch = self.waiting.pop(0)
        super().store_messages(batch).chainDeferred(d)


class GroupCommitTests(unittest.TestCase):
    def setUp(self):
        self.storage = SlowStorage()
        self.server = make_server(storage=self.storage)
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.bob.events()

    def test_ok_only_after_commit_and_batches_grow(self):
        for i in range(5):
            self.alice.send({"type": "send", "id": i, "to": "#lobby", "text": str(i), "cid": str(i)})
        self.alice.pump()
        self.assertEqual([f for f in self.alice.inbox if f["type"] == "ok"], [])
        self.assertEqual(self.bob.events("message"), [])  # nothing delivered before it is stored
        self.assertEqual([len(b) for b in self.storage.batches], [1])
        self.storage.release()   # the first message alone; the other four wait together
        self.assertEqual([len(b) for b in self.storage.batches], [1, 4])
        self.storage.release()
        self.assertEqual([self.alice.reply(i)["type"] for i in range(5)], ["ok"] * 5)
        self.assertEqual([e["msg"]["text"] for e in self.bob.events("message")],
                         ["0", "1", "2", "3", "4"])

    def test_resend_while_first_copy_is_being_written(self):
        self.alice.send({"type": "send", "id": 1, "to": "#lobby", "text": "x", "cid": "dup"})
        self.alice.send({"type": "send", "id": 2, "to": "#lobby", "text": "x", "cid": "dup"})
        self.storage.release()
        first, second = self.alice.reply(1)["data"], self.alice.reply(2)["data"]
        self.assertEqual(second["msg_id"], first["msg_id"])
        self.assertTrue(second["duplicate"])
        self.assertEqual(len(self.bob.events("message")), 1)
        self.assertEqual(sum(len(b) for b in self.storage.batches), 1)

    def test_storage_failure_is_an_error_not_ok(self):
        self.storage.fail_next = True
        self.assertEqual(self.alice.error("send", to="#lobby", text="lost?", cid="f"), SERVER_ERROR)
        self.assertEqual(self.bob.events("message"), [])
        self.alice.send({"type": "send", "id": 9, "to": "#lobby", "text": "again", "cid": "f"})
        self.storage.release()  # the server recovers: the resend is stored
        self.assertFalse(self.alice.reply(9)["data"]["duplicate"])
        self.flushLoggedErrors(StorageError)


class HistoryTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")
        self.ids = [self.alice.ok("send", to="#lobby", text=f"m{i}", cid=str(i))["msg_id"]
                    for i in range(7)]

    def texts(self, data):
        return [m["text"] for m in data["messages"]]

    def test_paging(self):
        newest = self.alice.ok("history", conv="#lobby", limit=3)
        self.assertEqual((self.texts(newest), newest["more"]), (["m4", "m5", "m6"], True))
        older = self.alice.ok("history", conv="#lobby", before=self.ids[4], limit=3)
        self.assertEqual((self.texts(older), older["more"]), (["m1", "m2", "m3"], True))
        oldest = self.alice.ok("history", conv="#lobby", before=self.ids[1], limit=3)
        self.assertEqual((self.texts(oldest), oldest["more"]), (["m0"], False))
        after = self.alice.ok("history", conv="#lobby", after=self.ids[2], limit=2)
        self.assertEqual((self.texts(after), after["more"]), (["m3", "m4"], True))

    def test_offline_delivery_unread_and_sync(self):
        bob = user(self.server, "bob")
        bob.disconnect()
        self.alice.ok("send", to="@bob", text="p1", cid="p1")
        self.alice.ok("send", to="#lobby", text="l1", cid="l1")
        bob = user(self.server, "bob", register=False)
        self.assertEqual(bob.ok("unread")["unread"], {"#lobby": 8, "@alice": 1})
        synced = bob.ok("sync", since=self.ids[-1])
        self.assertEqual(self.texts(synced), ["p1", "l1"])
        page = bob.ok("sync", since=0, limit=5)
        self.assertEqual((len(page["messages"]), page["more"]), (5, True))
        bob.ok("read", conv="#lobby", up_to=self.ids[-1])
        self.assertEqual(bob.ok("unread")["unread"], {"#lobby": 1, "@alice": 1})

    def test_login_reports_unread_and_last_id(self):
        bob = user(self.server, "bob")
        bob.disconnect()
        fresh = Client(self.server)
        fresh.hello()
        data = fresh.login("bob")
        self.assertEqual(data["unread"], {"#lobby": 7})
        self.assertEqual(data["last_id"], self.ids[-1])


class ReceiptTests(unittest.TestCase):
    def test_read_receipt_for_private_messages(self):
        server = make_server()
        alice, bob = user(server, "alice"), user(server, "bob")
        alice.events()
        sent = alice.ok("send", to="@bob", text="hi", cid="1")
        bob.events()
        bob.ok("read", conv="@alice", up_to=sent["msg_id"])
        self.assertEqual(alice.events("read"),
                         [{"type": "read", "conv": "@bob", "user": "bob", "up_to": sent["msg_id"]}])
        self.assertEqual(bob.events("read")[0]["conv"], "@alice")  # bob's other devices too
        self.assertEqual(alice.ok("history", conv="@bob")["peer_read"], sent["msg_id"])
        self.assertEqual(bob.ok("unread")["unread"], {})


class BurnTests(unittest.TestCase):
    def setUp(self):
        self.storage = MemoryStorage()
        self.server = make_server(storage=self.storage)
        self.clock = self.server.clock
        self.alice, self.bob = user(self.server, "alice"), user(self.server, "bob")
        self.alice.events()

    def test_burns_after_read_and_ttl(self):
        sent = self.alice.ok("send", to="@bob", text="self-destruct", cid="b", burn=5)
        [event] = self.bob.events("message")
        self.assertEqual(event["msg"]["burn"], 5)
        self.clock.advance(60)  # unread: nothing happens, however long it waits
        self.assertEqual(self.alice.events("burned"), [])
        self.bob.ok("read", conv="@alice", up_to=sent["msg_id"])
        self.clock.advance(4.9)
        self.assertEqual(self.bob.events("burned"), [])
        self.clock.advance(0.2)
        self.assertEqual(self.bob.events("burned"),
                         [{"type": "burned", "conv": "@alice", "ids": [sent["msg_id"]]}])
        self.assertEqual(self.alice.events("burned")[0]["conv"], "@bob")
        [kept] = self.bob.ok("history", conv="@alice")["messages"]
        self.assertEqual((kept["burned"], "text" in kept, kept["from"]), (True, False, "alice"))

    def test_room_burn_waits_for_every_member(self):
        carol = user(self.server, "carol")
        sent = self.alice.ok("send", to="#lobby", text="gone soon", cid="r", burn=1)
        self.bob.ok("read", conv="#lobby", up_to=sent["msg_id"])
        self.clock.advance(10)
        self.assertEqual(carol.events("burned"), [])
        carol.ok("read", conv="#lobby", up_to=sent["msg_id"])
        self.clock.advance(1.01)
        self.assertEqual(carol.events("burned")[0]["ids"], [sent["msg_id"]])

    def test_burn_survives_restart(self):
        sent = self.alice.ok("send", to="@bob", text="x", cid="b", burn=5)
        self.bob.ok("read", conv="@alice", up_to=sent["msg_id"])
        self.server.burner.stop()   # the server goes away before the deadline
        restarted = make_server(storage=self.storage, clock=self.clock)
        self.clock.advance(6)
        self.assertEqual(restarted.burner.pending, 0)
        [kept] = user(restarted, "bob", register=False).ok("history", conv="@alice")["messages"]
        self.assertTrue(kept["burned"])


class LeaveReleasesBurnTests(unittest.TestCase):
    def test_leaving_member_no_longer_holds_a_burn(self):
        server = make_server()
        alice, bob = user(server, "alice"), user(server, "bob")
        alice.ok("create_room", room="ops")
        bob.ok("join", room="ops")
        sent = alice.ok("send", to="#ops", text="gone after bob", cid="x", burn=2)
        server.clock.advance(100)
        alice.events()
        bob.ok("leave", room="ops")
        server.clock.advance(2.01)
        self.assertEqual(alice.events("burned"), [{"type": "burned", "conv": "#ops",
                                                   "ids": [sent["msg_id"]]}])


class BurnRetryTests(unittest.TestCase):
    def test_a_failed_burn_is_retried(self):
        storage = MemoryStorage()
        server = make_server(storage=storage)
        alice, bob = user(server, "alice"), user(server, "bob")
        sent = alice.ok("send", to="@bob", text="x", cid="b", burn=1)
        real_burn, failures = storage.burn, []

        def failing_burn(ids):
            if not failures:
                failures.append(ids)
                return defer.fail(StorageError("database is locked"))
            return real_burn(ids)

        storage.burn = failing_burn
        bob.ok("read", conv="@alice", up_to=sent["msg_id"])
        server.clock.advance(1.01)
        self.assertEqual(failures, [[sent["msg_id"]]])
        self.assertEqual(bob.events("burned"), [])     # not claimed while the text is still there
        server.clock.advance(5)                        # RETRY_AFTER
        self.assertEqual(bob.events("burned")[0]["ids"], [sent["msg_id"]])
        self.assertEqual(server.burner.pending, 0)
        self.assertEqual(len(self.flushLoggedErrors(StorageError)), 1)
