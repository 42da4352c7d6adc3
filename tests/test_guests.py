"""Guests (``--allow-guests``), without sockets: the native ``guest`` login, what guests may
and may not do, how others see them, and their names (free names only, released on leaving)."""

from twisted.trial import unittest

from chat.ctl import wire
from chat.server.control import ControlOperations
from chat.server.guests import GuestIds, GuestStorage, is_guest_id
from chat.server.storage.memory import MemoryStorage
from chat.server.presence import PRESENCE_INTERVAL
from tests.harness import Client, make_server, user


def guest(server, name):
    """A connected, greeted guest; returns (client, login data)."""
    client = Client(server)
    client.hello()
    data = client.ok("guest", username=name)
    client.events()
    return client, data


class GuestsOffTests(unittest.TestCase):

    def test_off_by_default(self):
        server = make_server()
        client = Client(server)
        self.assertFalse(client.hello()["policy"]["guests"])
        reply = client.request("guest", username="visitor")
        self.assertEqual((reply["code"], reply["message"]),
                         ("forbidden", "this server does not allow guests: log in with an account"))
        self.assertEqual(client.error("users"), "not_logged_in")


class GuestTests(unittest.TestCase):

    def setUp(self):
        self.server = make_server(allow_guests=True)

    def test_hello_tells(self):
        self.assertTrue(Client(self.server).hello()["policy"]["guests"])

    def test_login(self):
        client = Client(self.server)
        client.hello()
        data = client.ok("guest", username="Visitor")
        self.assertEqual(data["user"], {"name": "Visitor", "admin": False, "avatar": False,
                                        "created": data["user"]["created"], "last_seen": None,
                                        "online": True, "guest": True})
        self.assertEqual([room["name"] for room in data["rooms"]], ["lobby"])
        self.assertEqual((data["unread"], data["online"]), ({}, 1))
        # the server's own record of the login says guest too (the session every door reads)
        [session] = [c.session for c in self.server.connections if c.session is not None]
        self.assertEqual((session.name, session.guest, session.account_id < 0),
                         ("Visitor", True, True))
        self.assertEqual(client.error("guest", username="again"), "already_logged_in")
        self.assertEqual(client.error("login", username="x", password="whatever"),
                         "already_logged_in")

    def test_chat_in_a_room_and_privately(self):
        alice = user(self.server, "alice")
        alice.ok("create_room", room="dev")
        visitor, _ = guest(self.server, "visitor")
        [change] = alice.presence_changes()
        self.assertEqual(change, {"user": "visitor", "online": True, "guest": True})
        visitor.ok("send", to="#lobby", text="hi all", cid="g1")
        [message] = [e["msg"] for e in alice.events("message")]
        self.assertEqual((message["from"], message["text"]), ("visitor", "hi all"))
        visitor.ok("join", room="dev")
        self.assertEqual(alice.events("joined"), [{"type": "joined", "room": "dev",
                                                    "user": "visitor"}])
        visitor.ok("send", to="@alice", text="psst", cid="g2")
        [private] = [e["msg"] for e in alice.events("message")]
        self.assertEqual((private["conv"], private["text"]), ("@visitor", "psst"))
        alice.ok("send", to="@visitor", text="hello guest", cid="a1")
        [back] = [e["msg"] for e in visitor.events("message") if e["msg"]["cid"] == "a1"]
        self.assertEqual((back["conv"], back["from"]), ("@alice", "alice"))
        history = visitor.ok("history", conv="@alice")["messages"]
        self.assertEqual([m["text"] for m in history], ["psst", "hello guest"])

    def test_marked_as_guests_to_others(self):
        alice = user(self.server, "alice")
        guest(self.server, "visitor")
        users = {u["name"]: u for u in alice.ok("users")["users"]}
        self.assertTrue(users["visitor"]["guest"])
        self.assertNotIn("guest", users["alice"])
        self.assertEqual(alice.ok("users", online=True)["online"], 2)
        members = {m["name"]: m for m in alice.ok("members", room="lobby")["members"]}
        self.assertEqual(members["visitor"], {"name": "visitor", "online": True, "guest": True})
        self.assertEqual(members["alice"], {"name": "alice", "online": True})

    def test_what_guests_cannot_do(self):
        visitor, _ = guest(self.server, "visitor")
        refused = {
            "file_offer": {"to": "#lobby", "name": "a.txt", "size": 3, "sha256": "ab" * 32,
                           "mime": "text/plain"},
            "change_password": {"old": "x", "new": "y" * 8},
            "notice": {"text": "hi"},
            "kick": {"user": "visitor"},
        }
        for kind, fields in refused.items():
            self.assertEqual(visitor.error(kind, **fields), "forbidden", kind)
        reply = visitor.request("file_offer", **refused["file_offer"])
        self.assertEqual(reply["message"], "guests cannot send files: log in with an account")

    def test_guests_make_rooms_and_set_topics(self):
        alice = user(self.server, "alice")
        visitor, _ = guest(self.server, "visitor")
        made = visitor.ok("create_room", room="visitors")
        self.assertTrue(made["room"]["member"])
        visitor.ok("set_topic", room="visitors", topic="come in")
        visitor.ok("set_topic", room="lobby", topic="guests rule")
        alice.ok("join", room="visitors")
        rooms = {r["name"]: r for r in alice.ok("rooms")["rooms"]}
        self.assertEqual(rooms["visitors"]["topic"], "come in")
        visitor.disconnect()
        self.server.clock.advance(PRESENCE_INTERVAL)
        rooms = {r["name"]: r for r in alice.ok("rooms")["rooms"]}
        self.assertIn("visitors", rooms)          # the room stays when its guest maker goes
        self.assertEqual(rooms["visitors"]["members"], 1)

    def test_name_rules(self):
        user(self.server, "alice").disconnect()      # an account, offline: still its name
        guest(self.server, "visitor")
        client = Client(self.server)
        client.hello()
        cases = {
            "alice": "alice is the name of an account: log in with its password, or choose "
                     "another name",
            "ALICE": "ALICE is the name of an account: log in with its password, or choose "
                     "another name",
            "аlice": "the name аlice looks like alice, which is taken",
            "visitor": "the name visitor is taken by a guest online",
            "VISITOR": "the name VISITOR is taken by a guest online",
            "vіsitor": "the name vіsitor looks like visitor, which is taken",
        }
        for name, message in cases.items():
            reply = client.request("guest", username=name)
            self.assertEqual((reply["code"], reply["message"]), ("name_taken", message), name)
        self.assertEqual(client.error("guest", username="a b"), "bad_request")
        self.assertEqual(client.error("guest", username=""), "bad_request")

    def test_nobody_registers_an_online_guests_name(self):
        guest(self.server, "visitor")
        client = Client(self.server)
        client.hello()
        self.assertEqual(client.error("register", username="Visitor", password="p" * 8),
                         "name_taken")
        ops = ControlOperations(self.server)
        failure = self.failureResultOf(ops.run("adduser", {"name": "visitor",
                                                           "password": "p" * 8}))
        self.assertEqual(failure.check(wire.ControlError), wire.ControlError)

    def test_the_name_is_released_on_leaving(self):
        alice = user(self.server, "alice")
        first, _ = guest(self.server, "visitor")
        first.ok("send", to="@alice", text="from the first visitor", cid="v1")
        alice.events()
        first.disconnect()
        changes = alice.presence_changes()
        self.assertEqual(changes[-1]["user"], "visitor")
        self.assertEqual((changes[-1]["online"], changes[-1]["guest"]), (False, True))
        self.assertNotIn("visitor", [u["name"] for u in alice.ok("users")["users"]])
        self.assertEqual(alice.error("send", to="@visitor", text="?", cid="a2"), "not_found")
        # somebody new under the same name: none of the first one's private chat
        second, data = guest(self.server, "visitor")
        self.assertEqual(second.ok("history", conv="@alice")["messages"], [])
        # and the name may become an account's now
        again = Client(self.server)
        again.hello()
        second.ok("logout")
        again.register("visitor")

    def test_logout_ends_the_guest(self):
        visitor, _ = guest(self.server, "visitor")
        visitor.ok("logout")
        self.assertFalse(visitor.closed)
        self.assertEqual(len(self.server.guests.online), 0)
        visitor.ok("guest", username="visitor")      # free again, even for the same connection

    def test_admin_kicks_a_guest(self):
        admin = user(self.server, "root")             # the first account: an admin
        visitor, _ = guest(self.server, "visitor")
        self.assertEqual(admin.ok("kick", user="visitor")["closed"], 1)
        self.assertEqual(visitor.events("bye")[0]["code"], "kicked")
        self.assertEqual(len(self.server.guests.online), 0)

    def test_chatctl_sees_guests(self):
        user(self.server, "alice")
        guest(self.server, "visitor")
        ops = ControlOperations(self.server)
        users = ops.run("users", {}).result["users"]
        self.assertEqual([(u["name"], u.get("guest", False)) for u in users],
                         [("alice", False), ("visitor", True)])
        stats = ops.run("stats", {}).result
        self.assertEqual((stats["accounts"], stats["guests"], stats["online"]), (1, 1, 2))
        self.assertEqual(ops.run("kick", {"name": "visitor"}).result["closed"], 1)
        self.assertEqual(ops.run("stats", {}).result["guests"], 0)


class GuestIdTests(unittest.TestCase):

    def test_below_zero_and_unique_across_runs(self):
        first, later = GuestIds(1_800_000_000_000), GuestIds(1_800_000_000_001)
        ids = [first.next() for _ in range(3)] + [later.next() for _ in range(3)]
        self.assertEqual(len(set(ids)), 6)
        self.assertTrue(all(is_guest_id(i) for i in ids))
        self.assertGreater(-min(ids), 2 ** 53, "fits SQLite's 64-bit integers, not on the wire")
        self.assertLess(-min(ids), 2 ** 63)

    def test_storage_keeps_no_guest_membership(self):
        storage = GuestStorage(MemoryStorage())
        storage.add_member("r:lobby", -5, 1)
        storage.add_member("d:-5:3", 3, 1)
        storage.add_member("d:2:3", 3, 1)
        storage.add_member("r:lobby", 3, 1)
        self.assertEqual(storage.memberships().result, {"r:lobby": {3}, "d:2:3": {3}})
        storage.remove_member("d:-5:3", 3)
        storage.set_last_seen(-5, 10)
        self.assertEqual(storage.count_accounts().result, 0)     # the rest passes through
