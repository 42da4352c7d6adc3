"""Accounts, sessions, presence and rooms through real ChatConnections (no sockets)."""

import unicodedata

from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from chat.protocol.errors import (
    ALREADY_LOGGED_IN, BAD_CREDENTIALS, BAD_REQUEST, FORBIDDEN, NAME_TAKEN, NOT_FOUND,
    NOT_LOGGED_IN, TOO_LARGE, UNSUPPORTED_VERSION)
from chat.protocol.framing import iter_body_frames
from chat.server.storage.memory import MemoryStorage
from tests.harness import PASSWORD, Client, make_server, user

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400   # 102,408 bytes: two body frames


class HelloTests(unittest.TestCase):
    def test_hello_reports_version_and_policy(self):
        server = make_server(name="lan-chat", message_log=True, persistent=True)
        data = Client(server).hello()
        self.assertEqual(data["version"], 1)
        self.assertEqual(data["name"], "lan-chat")
        self.assertEqual(data["policy"],
                         {"message_log": True, "persistent": True, "monitoring": False,
                          "guests": False})
        self.assertEqual(data["limits"]["max_frame"], 65536)
        self.assertEqual(data["heartbeat"], {"ping_after": 30.0, "timeout": 90.0})

    def test_lite_policy(self):
        data = Client(make_server(message_log=False, persistent=False)).hello()
        self.assertFalse(data["policy"]["message_log"])
        self.assertFalse(data["policy"]["persistent"])

    def test_other_version(self):
        self.assertEqual(Client(make_server()).error("hello", version=2), UNSUPPORTED_VERSION)

    def test_request_before_hello(self):
        client = Client(make_server())
        self.assertEqual(client.error("login", username="a", password=PASSWORD), BAD_REQUEST)
        self.assertIn("ts", client.ok("ping"))  # ping is fine at any time


class AccountTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.client = Client(self.server)
        self.client.hello()

    def test_register_then_login(self):
        created = self.client.register("张伟")["user"]
        self.assertEqual(created["name"], "张伟")
        data = self.client.login("张伟")
        self.assertEqual(data["user"]["name"], "张伟")
        self.assertTrue(data["user"]["online"])
        self.assertEqual([r["name"] for r in data["rooms"]], ["lobby"])
        self.assertEqual(data["online"], 1)

    def test_first_account_is_admin(self):
        self.assertTrue(self.client.register("first")["user"]["admin"])
        self.assertFalse(self.client.register("second")["user"]["admin"])

    def test_simultaneous_first_registrations_make_exactly_one_admin(self):
        # twelve registrations on a new server whose hashes end before any account is
        # written, as with SQLite in its thread: none may conclude that it is the first
        storage = MemoryStorage()
        held = []
        create = storage.create_account

        def create_later(*args, **kwargs):
            held.append(defer.Deferred().addCallback(lambda _: create(*args, **kwargs)))
            return held[-1]
        storage.create_account = create_later
        server = make_server(storage)
        clients = [Client(server) for _ in range(12)]
        for number, client in enumerate(clients):
            client.hello()
            client.send({"type": "register", "id": 1, "username": f"user{number}",
                         "password": PASSWORD})
        self.assertEqual(len(held), len(clients))
        for d in held:
            d.callback(None)
        admins = [client.reply(1)["data"]["user"]["admin"] for client in clients]
        self.assertEqual(admins.count(True), 1, admins)

    def test_admin_option_grants_role(self):
        server = make_server(admins=frozenset({"boss"}))
        client = Client(server)
        client.hello()
        client.register("someone")
        self.assertTrue(client.register("BOSS")["user"]["admin"])

    def test_name_taken_case_insensitively(self):
        self.client.register("Alice")
        self.assertEqual(self.client.error("register", username="ALICE", password=PASSWORD),
                         NAME_TAKEN)
        self.assertEqual(self.client.error("register", username="ａｌｉｃｅ", password=PASSWORD),
                         NAME_TAKEN)

    def test_login_is_case_insensitive(self):
        self.client.register("Alice")
        self.assertEqual(self.client.login("aLiCe")["user"]["name"], "Alice")

    def test_bad_names_and_passwords(self):
        for fields in ({"username": "no spaces", "password": PASSWORD},
                       {"username": "x" * 33, "password": PASSWORD},
                       {"username": "bob", "password": "short"},
                       {"username": "bob", "password": "p" * 1025}):
            self.assertEqual(self.client.error("register", **fields), BAD_REQUEST, fields)

    def test_wrong_password_and_unknown_user(self):
        self.client.register("alice")
        self.assertEqual(self.client.error("login", username="alice", password="wrong pass"),
                         BAD_CREDENTIALS)
        self.assertEqual(self.client.error("login", username="nobody", password=PASSWORD),
                         BAD_CREDENTIALS)

    def test_failed_logins_never_log_an_unknown_name_as_typed(self):
        texts = []

        def observer(event):
            texts.append(formatEvent(event))
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        self.client.register("alice")
        # a password typed into the name field, then the account's own name, wrongly
        self.assertEqual(self.client.error("login", username="Hunter2-secret", password=PASSWORD),
                         BAD_CREDENTIALS)
        self.assertEqual(self.client.error("login", username="ALICE", password="wrong pass"),
                         BAD_CREDENTIALS)
        failed = [t for t in texts if "failed login" in t]
        self.assertEqual(len(failed), 2, texts)
        self.assertNotIn("hunter2", " ".join(texts).lower())
        self.assertRegex(failed[0], r"an unknown user \(name hash [0-9a-f]{8}\)")
        self.assertIn("failed login as alice ", failed[1])

    def test_login_twice_on_one_connection(self):
        self.client.register("alice")
        self.client.login("alice")
        self.assertEqual(self.client.error("login", username="alice", password=PASSWORD),
                         ALREADY_LOGGED_IN)
        self.assertEqual(self.client.error("register", username="b", password=PASSWORD),
                         ALREADY_LOGGED_IN)

    def test_logout_then_commands_need_login(self):
        self.client.register("alice")
        self.client.login("alice")
        self.assertEqual(self.client.ok("logout"), {})
        self.assertEqual(self.client.error("users"), NOT_LOGGED_IN)
        self.client.login("alice")  # the connection may log in again
        self.assertEqual(self.client.ok("users")["online"], 1)

    def test_every_logged_in_command_refused_before_login(self):
        for kind, fields in (("logout", {}), ("users", {}), ("rooms", {}),
                             ("create_room", {"room": "r"}), ("join", {"room": "lobby"}),
                             ("leave", {"room": "r"}), ("set_topic", {"room": "r", "topic": ""}),
                             ("members", {"room": "lobby"}),
                             ("send", {"to": "#lobby", "text": "x", "cid": "1"}),
                             ("history", {"conv": "#lobby"}), ("sync", {"since": 0}),
                             ("unread", {}), ("read", {"conv": "#lobby", "up_to": 1}),
                             ("change_password", {"old": "x", "new": PASSWORD}),
                             ("get_avatar", {"user": "x"})):
            self.assertEqual(self.client.error(kind, **fields), NOT_LOGGED_IN, kind)

    def test_change_password(self):
        self.client.register("alice")
        self.client.login("alice")
        self.assertEqual(self.client.error("change_password", old="wrong one", new="new secret"),
                         BAD_CREDENTIALS)
        self.client.ok("change_password", old=PASSWORD, new="new secret")
        other = Client(self.server)
        other.hello()
        self.assertEqual(other.error("login", username="alice", password=PASSWORD),
                         BAD_CREDENTIALS)
        other.login("alice", "new secret")

    def test_a_password_is_the_same_typed_in_nfc_or_nfd(self):
        nfc = "J\u00fcrgen-M\u00fcller-2026"
        nfd = unicodedata.normalize("NFD", nfc)
        self.assertNotEqual(nfc, nfd)
        self.client.register("juergen", nfd)                 # a macOS input method sends NFD
        self.client.login("juergen", nfd)
        other = Client(self.server)
        other.hello()
        other.login("juergen", nfc)                          # the same keys elsewhere: NFC
        self.client.ok("change_password", old=nfc, new=nfd + "!")
        self.client.ok("change_password", old=nfd + "!", new=PASSWORD)
        third = Client(self.server)
        third.hello()
        third.login("juergen")

    def test_avatar_round_trip_in_body_frames(self):
        self.client.send({"type": "register", "id": 50, "username": "alice",
                          "password": PASSWORD, "avatar_type": "image/png", "body": len(PNG)})
        for frame in iter_body_frames(50, PNG):
            self.client.raw(frame)
        self.assertTrue(self.client.reply(50)["data"]["user"]["avatar"])
        self.client.login("alice")
        reply = self.client.request("get_avatar", id=51, user="ALICE")
        self.assertEqual(reply["data"], {"user": "alice", "avatar_type": "image/png",
                                         "size": len(PNG)})
        self.assertEqual(reply["body"], len(PNG))
        bodies = [f["payload"] for f in self.client.inbox if f["type"] == "_body"]
        self.assertEqual(b"".join(b[5:] for b in bodies), PNG)

    def test_avatar_errors(self):
        self.client.register("alice")
        self.client.login("alice")
        self.assertEqual(self.client.error("get_avatar", user="alice"), NOT_FOUND)
        self.assertEqual(self.client.error("set_avatar", avatar_type="image/png",
                                           body=256 * 1024 + 1), TOO_LARGE)
        self.client.send({"type": "set_avatar", "id": 60, "avatar_type": "image/jpeg", "body": 4})
        self.client.raw(next(iter_body_frames(60, b"GIF8")))
        self.assertEqual(self.client.reply(60)["code"], BAD_REQUEST)  # not a JPEG
        self.assertEqual(self.client.error("set_avatar", id="s", avatar_type="image/png", body=4),
                         BAD_REQUEST)  # bodies need integer ids


class PresenceTests(unittest.TestCase):
    def test_online_and_offline_notices(self):
        server = make_server()
        alice = user(server, "alice")
        server.clock.advance(1)
        bob = user(server, "bob")
        [event] = alice.events("presence")  # after a quiet spell: at once, no waiting
        self.assertEqual(event, {"type": "presence", "count": 2,
                                 "changes": [{"user": "bob", "online": True}]})
        server.clock.advance(1)
        bob.disconnect()
        [event] = alice.events("presence")
        [gone] = event["changes"]
        self.assertEqual((gone["user"], gone["online"], event["count"]), ("bob", False, 1))
        users = {u["name"]: u for u in alice.ok("users")["users"]}
        self.assertFalse(users["bob"]["online"])
        self.assertEqual(users["bob"]["last_seen"], gone["last_seen"])
        self.assertTrue(users["alice"]["online"])

    def test_a_burst_of_logins_is_one_event(self):
        server = make_server()
        watcher = user(server, "watcher")
        server.clock.advance(1)
        clients = [user(server, f"u{i}") for i in range(30)]
        first = watcher.events("presence")
        self.assertEqual(len(first), 1)  # the first arrival is announced at once ...
        server.clock.advance(0.2)
        [rest] = watcher.events("presence")  # ... the other 29 together, one interval later
        self.assertEqual([c["user"] for c in rest["changes"]], [f"u{i}" for i in range(1, 30)])
        self.assertEqual(rest["count"], 31)
        clients[5].disconnect()
        clients[6].disconnect()
        server.clock.advance(0.2)
        self.assertEqual([(c["user"], c["online"]) for c in watcher.presence_changes()],
                         [("u5", False), ("u6", False)])

    def test_in_and_out_within_an_interval_keeps_the_last_state(self):
        server = make_server()
        watcher = user(server, "watcher")
        other = user(server, "other")  # within the interval of watcher's own login
        other.disconnect()
        self.assertEqual([(c["user"], c["online"]) for c in watcher.presence_changes()],
                         [("other", False)])

    def test_second_device_is_not_a_new_arrival(self):
        server = make_server()
        alice = user(server, "alice")
        user(server, "bob")
        alice.presence_changes()
        bob2 = user(server, "bob", register=False)
        self.assertEqual(alice.presence_changes(), [])
        bob2.disconnect()
        self.assertEqual(alice.presence_changes(), [])  # bob is still online on the first one
        self.assertEqual(alice.ok("users")["online"], 2)


class RoomTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.alice.events()

    def test_create_join_leave_topic(self):
        room = self.alice.ok("create_room", room="Dev", topic="builds")["room"]
        self.assertEqual(room, {"name": "Dev", "topic": "builds", "members": 1, "member": True})
        self.assertEqual(self.bob.error("create_room", room="dev"), NAME_TAKEN)
        self.assertEqual(self.bob.ok("join", room="#dev")["room"]["members"], 2)
        self.assertEqual(self.alice.events("joined"),
                         [{"type": "joined", "room": "Dev", "user": "bob"}])
        self.bob.ok("set_topic", room="dev", topic="release 🚀")
        self.assertEqual(self.alice.events("topic")[0]["topic"], "release 🚀")
        rooms = {r["name"]: r for r in self.bob.ok("rooms")["rooms"]}
        self.assertEqual(rooms["Dev"]["topic"], "release 🚀")
        self.assertEqual(rooms["lobby"]["members"], 2)
        self.assertEqual(self.alice.ok("members", room="dev")["members"],
                         [{"name": "alice", "online": True}, {"name": "bob", "online": True}])
        self.bob.ok("leave", room="dev")
        self.assertEqual(self.alice.events("left"), [{"type": "left", "room": "Dev", "user": "bob"}])
        self.assertEqual(self.bob.events("left")[0]["user"], "bob")
        self.assertEqual(self.bob.error("set_topic", room="dev", topic="x"), FORBIDDEN)
        self.assertEqual(self.bob.error("send", to="#dev", text="x", cid="1"), FORBIDDEN)

    def test_lobby_cannot_be_left(self):
        self.assertEqual(self.alice.error("leave", room="lobby"), FORBIDDEN)

    def test_unknown_room(self):
        for kind in ("join", "leave", "members"):
            self.assertEqual(self.alice.error(kind, room="nowhere"), NOT_FOUND)

    def test_membership_is_stored(self):
        storage = MemoryStorage()
        server = make_server(storage=storage)
        alice = user(server, "alice")
        alice.ok("create_room", room="dev")
        restarted = make_server(storage=storage)
        again = user(restarted, "alice", register=False)
        rooms = {r["name"]: r["member"] for r in again.ok("rooms")["rooms"]}
        self.assertEqual(rooms, {"dev": True, "lobby": True})


class ShutdownTests(unittest.TestCase):
    def test_stop_saves_last_seen_before_closing_storage(self):
        storage = MemoryStorage()
        server = make_server(storage=storage)
        alice = user(server, "alice")
        closed = []
        real_stop = storage.stop
        storage.stop = lambda: (closed.append(True), real_stop())[1]
        storage.set_last_seen = lambda account_id, now, real=storage.set_last_seen: (
            self.assertEqual(closed, []), real(account_id, now))[1]
        self.successResultOf(server.stop())
        self.assertEqual(alice.events("bye")[0]["code"], "shutdown")
        self.assertEqual(closed, [True])
        account = self.successResultOf(storage.account_by_key("alice"))
        self.assertEqual(account.last_seen, int(server.clock.seconds() * 1000))


class TransportOptionTests(unittest.TestCase):
    def test_connections_disable_nagle(self):
        from twisted.internet.testing import StringTransport

        from chat.server.connection import ChatConnection

        class Transport(StringTransport):
            no_delay = None

            def setTcpNoDelay(self, enabled):
                self.no_delay = enabled

        transport = Transport()
        ChatConnection(make_server()).makeConnection(transport)
        self.assertIs(transport.no_delay, True)


class LoginRaceTests(unittest.TestCase):
    def test_connection_lost_while_password_is_checked(self):
        from twisted.internet import defer

        from chat.server.core import ChatServer, ServerConfig
        from chat.server.passwords import PasswordHasher

        pending = []

        def held(function, *args):  # the "thread" finishes when the test says so
            d = defer.Deferred()
            pending.append((d, function, args))
            return d

        server = make_server()
        register = Client(server)
        register.hello()
        register.register("alice")
        slow = ChatServer(ServerConfig(), server.storage,
                          PasswordHasher(time_cost=1, memory_kib=8, run_in_thread=held),
                          server.clock)
        slow.start()
        client = Client(slow)
        client.hello()
        client.send({"type": "login", "id": 7, "username": "alice", "password": PASSWORD})
        client.disconnect()  # gone before the hash is checked
        d, function, args = pending.pop()
        d.callback(function(*args))
        self.assertEqual(slow.presence.count, 0)
        self.assertEqual(slow.presence.connections, set())
        self.assertIsNone(client.connection.session)
