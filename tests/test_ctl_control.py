"""chatctl's control protocol, without sockets: the wire format (chat.ctl.wire), and the
server's side (chat.server.control) on a harness server with StringTransports, next to native
clients that see what chatctl does (logins, bans, kicks, notices)."""

import json
import os
import sqlite3
import tempfile

from twisted.internet import defer
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.ctl import wire
from chat.ctl.wire import ControlError
from chat.server import control
from chat.server.control import ControlOperations, ControlProtocol, backup_database
from chat.server.storage.sqlite import SQLiteStorage
from tests.harness import PASSWORD, Client, make_server, user

NEW_PASSWORD = "a-new-Pa55word"


class WireTests(unittest.TestCase):

    def test_request_round_trip(self):
        line = wire.encode_request("adduser", name="张伟", password="pw-123456")
        self.assertTrue(line.endswith(b"\n"))
        self.assertEqual(line.count(b"\n"), 1)
        self.assertEqual(wire.decode_request(line),
                         ("adduser", {"name": "张伟", "password": "pw-123456"}))

    def test_reply_round_trip(self):
        self.assertEqual(wire.decode_reply(wire.encode_ok({"n": 1})), {"n": 1})
        with self.assertRaises(ControlError) as caught:
            wire.decode_reply(wire.encode_error("no such user: bob"))
        self.assertEqual(caught.exception.message, "no such user: bob")

    def test_bad_requests(self):
        cases = {
            b"not json\n": "not a line of UTF-8 JSON",
            b"\xff\xfe\n": "not a line of UTF-8 JSON",
            b"[1, 2]\n": "not a JSON object",
            b'{"command": "rm -rf"}\n': "unknown command 'rm -rf'",
            b'{"command": 5}\n': "unknown command 5",
            b'{"command": "users", "args": []}\n': "args must be an object",
            b'{"command": "users", "args": {"x": 1}}\n': "users: unknown argument 'x'",
            b'{"command": "adduser", "args": {"name": "a"}}\n':
                "adduser: missing argument 'password'",
            b'{"command": "deluser", "args": {"name": 7}}\n': "deluser: 'name' must be a str",
            b'{"command": "adduser", "args": {"name": "a", "password": "p", "admin": 1}}\n':
                "adduser: 'admin' must be a bool",
        }
        for line, message in cases.items():
            with self.assertRaises(ControlError, msg=line) as caught:
                wire.decode_request(line)
            self.assertIn(message, caught.exception.message, line)

    def test_bad_replies(self):
        for line in (b"{}\n", b'{"ok": true}\n', b'{"ok": false, "error": 3}\n', b"x\n"):
            self.assertRaises(ControlError, wire.decode_reply, line)

    def test_encode_checks_too(self):
        self.assertRaises(ControlError, wire.encode_request, "nope")
        self.assertRaises(ControlError, wire.encode_request, "deluser")

    def test_socket_path(self):
        self.assertEqual(wire.socket_path("/srv/chat"), "/srv/chat/control.sock")
        self.assertTrue(os.path.isabs(wire.socket_path("rel")))


class ControlCase(unittest.TestCase):
    """A harness server, and control connections to it over StringTransports."""

    def setUp(self):
        self.server = make_server()
        self.operations = ControlOperations(self.server, running=True)

    def control(self, line: bytes, allowed_uids=None):
        """Send one raw line; returns (reply line as an object, transport)."""
        proto = ControlProtocol(self.operations, allowed_uids)
        transport = StringTransport()
        proto.makeConnection(transport)
        proto.dataReceived(line)
        return transport

    def call(self, command, **args) -> dict:
        """The result of a request that must succeed."""
        transport = self.control(wire.encode_request(command, **args))
        self.assertTrue(transport.disconnecting, "the server closes after its reply")
        return wire.decode_reply(transport.value())

    def refused(self, command, **args) -> str:
        transport = self.control(wire.encode_request(command, **args))
        with self.assertRaises(ControlError) as caught:
            wire.decode_reply(transport.value())
        return caught.exception.message


class AccountTests(ControlCase):

    def test_adduser_then_native_login_at_once(self):
        result = self.call("adduser", name="Alice", password=PASSWORD)
        self.assertEqual(result, {"name": "Alice", "admin": False})
        client = Client(self.server)
        client.hello()
        data = client.login("alice")
        self.assertEqual(data["user"]["name"], "Alice")
        self.assertIn("lobby", [room["name"] for room in data["rooms"]])

    def test_an_operator_may_set_a_short_password(self):
        # the IRC conformance suite's accounts have passwords like "sesame" and "bar"
        self.assertEqual(self.call("adduser", name="jilles", password="sesame"),
                         {"name": "jilles", "admin": False})
        client = Client(self.server)
        client.hello()
        client.login("jilles", "sesame")
        self.call("passwd", name="jilles", password="bar")
        again = Client(self.server)
        again.hello()
        again.login("jilles", "bar")
        self.assertIn("1 to 1024", self.refused("passwd", name="jilles", password=""))
        self.assertIn("1 to 1024", self.refused("adduser", name="x", password="y" * 1025))

    def test_adduser_admin(self):
        self.assertTrue(self.call("adduser", name="root", password=PASSWORD, admin=True)["admin"])
        root = Client(self.server)
        root.hello()
        self.assertTrue(root.login("root")["user"]["admin"])

    def test_first_account_is_not_made_admin(self):
        # registration makes the first account an admin (nobody else could); an operator
        # with chatctl says --admin when he means it
        self.assertFalse(self.call("adduser", name="first", password=PASSWORD)["admin"])

    def test_name_rules_of_registration(self):
        user(self.server, "alice")
        self.assertEqual(self.refused("adduser", name="ALICE", password=PASSWORD),
                         "the name ALICE is taken")
        self.assertEqual(self.refused("adduser", name="аlice", password=PASSWORD),
                         "the name аlice looks like alice, which is taken")
        self.assertIn("bad user name 'a b'", self.refused("adduser", name="a b", password=PASSWORD))
        self.assertIn("invisible", self.refused("adduser", name="bo\u200bb", password=PASSWORD))
        self.assertIn("1 to 1024", self.refused("adduser", name="bob", password=""))

    def test_a_registration_cannot_take_a_lookalike_of_a_chatctl_account(self):
        self.call("adduser", name="alice", password=PASSWORD)
        client = Client(self.server)
        client.hello()
        self.assertEqual(client.error("register", username="аlice", password=PASSWORD),
                         "name_taken")

    def test_two_adduser_of_one_name_at_once(self):
        hasher = self.server.accounts.hasher
        held = []

        def hold(f, *args):
            d = defer.Deferred()
            held.append((d, f, args))
            return d
        self.patch(hasher, "_run", hold)
        first = self.control(wire.encode_request("adduser", name="alice", password=PASSWORD))
        second = self.control(wire.encode_request("adduser", name="alice", password=PASSWORD))
        while held:             # one hash at a time (the hasher's semaphore): each in turn
            d, f, args = held.pop(0)
            d.callback(f(*args))
        self.assertEqual(wire.decode_reply(first.value())["name"], "alice")
        with self.assertRaises(ControlError):
            wire.decode_reply(second.value())
        # the loser did not take the winner's look-alike protection with it
        self.assertEqual(self.refused("adduser", name="аlice", password=PASSWORD),
                         "the name аlice looks like alice, which is taken")

    def test_passwd(self):
        alice = user(self.server, "alice")
        self.assertEqual(self.call("passwd", name="ALICE", password=NEW_PASSWORD),
                         {"name": "alice"})
        self.assertFalse(alice.closed, "a password change ends no session")
        again = Client(self.server)
        again.hello()
        self.assertEqual(again.error("login", username="alice", password=PASSWORD),
                         "bad_credentials")
        again.login("alice", NEW_PASSWORD)

    def test_passwd_unknown_user(self):
        self.assertEqual(self.refused("passwd", name="nobody", password=NEW_PASSWORD),
                         "no such user: nobody")

    def test_deluser(self):
        alice = user(self.server, "alice")
        bob = user(self.server, "bob")
        self.assertEqual(self.call("deluser", name="alice"), {"name": "alice", "closed": 1})
        self.assertTrue(alice.closed)
        bye = alice.events("bye")
        self.assertEqual(bye[0]["code"], "kicked")
        self.assertIn("deleted", bye[0]["message"])
        self.assertNotIn("alice", [u["name"] for u in bob.ok("users")["users"]])
        # gone everywhere: no login, the name (and its look-alikes) free again, and the new
        # alice is another account, not the old one's heir
        client = Client(self.server)
        client.hello()
        self.assertEqual(client.error("login", username="alice", password=PASSWORD),
                         "bad_credentials")
        self.call("adduser", name="аlice", password=PASSWORD)
        self.assertEqual(self.refused("deluser", name="alice"), "no such user: alice")

    def test_deluser_while_a_login_checks_the_password(self):
        self.call("adduser", name="alice", password=PASSWORD)
        hasher = self.server.accounts.hasher
        held = []

        def hold(f, *args):
            d = defer.Deferred()
            held.append((d, f, args))
            return d
        self.patch(hasher, "_run", hold)
        client = Client(self.server)
        client.hello()
        client.send({"type": "login", "id": 9, "username": "alice", "password": PASSWORD})
        self.assertEqual(len(held), 1, "the password check is running")
        self.call("deluser", name="alice")
        d, f, args = held[0]
        d.callback(f(*args))                      # the check ends: the password was right
        reply = client.reply(9)
        self.assertEqual(reply["type"], "error", reply)
        self.assertIsNone(client.connection.session)

    def test_users_and_rooms(self):
        alice = user(self.server, "alice")
        user(self.server, "bob").disconnect()
        alice.ok("create_room", room="dev", topic="builds")
        self.call("ban", name="bob", reason="spam")
        users = {u["name"]: u for u in self.call("users")["users"]}
        self.assertEqual(set(users), {"alice", "bob"})
        self.assertTrue(users["alice"]["online"])
        self.assertTrue(users["alice"]["admin"])       # the first registration
        self.assertEqual((users["bob"]["online"], users["bob"]["banned"],
                          users["bob"]["ban_reason"]), (False, True, "spam"))
        self.assertIsNotNone(users["bob"]["last_seen"])
        rooms = {r["name"]: r for r in self.call("rooms")["rooms"]}
        self.assertEqual(rooms["lobby"], {"name": "lobby", "topic": "", "members": 2,
                                          "online": 1})
        self.assertEqual((rooms["dev"]["members"], rooms["dev"]["topic"]), (1, "builds"))


class AdminTests(ControlCase):
    """kick, ban and notice go through the admin handlers: clients see the same events."""

    def test_kick(self):
        alice = user(self.server, "alice")
        self.assertEqual(self.call("kick", name="alice", reason="calm down"),
                         {"name": "alice", "closed": 1})
        [bye] = alice.events("bye")
        self.assertEqual((bye["code"], bye["message"]), ("kicked", "kicked by server: calm down"))
        self.assertTrue(alice.closed)
        self.assertEqual(self.refused("kick", name="alice"), "alice is not online")

    def test_ban_and_unban(self):
        alice = user(self.server, "alice")
        self.assertEqual(self.call("ban", name="alice"), {"name": "alice", "closed": 1})
        self.assertEqual(alice.events("bye")[0]["code"], "banned")
        client = Client(self.server)
        client.hello()
        self.assertEqual(client.error("login", username="alice", password=PASSWORD), "banned")
        self.assertEqual(self.call("unban", name="alice"), {"name": "alice"})
        client.login("alice")

    def test_notice(self):
        alice = user(self.server, "alice")
        bob = user(self.server, "bob")
        self.assertEqual(self.call("notice", text="back at 5 你好"), {"delivered": 2})
        for client in (alice, bob):
            [notice] = client.events("notice")
            self.assertEqual((notice["from"], notice["text"]), ("server", "back at 5 你好"))

    def test_notice_too_long(self):
        self.assertIn("over 16000 characters", self.refused("notice", text="x" * 16_001))

    def test_offline_refuses_kick_and_notice(self):
        self.operations = ControlOperations(self.server, running=False)
        user(self.server, "alice").disconnect()
        self.assertEqual(self.refused("notice", text="hi"),
                         "the server is not running: nobody is online to read a notice")
        self.assertIn("not running", self.refused("kick", name="alice"))
        self.assertEqual(self.call("ban", name="alice"), {"name": "alice", "closed": 0})

    def test_stats(self):
        user(self.server, "alice")
        self.server.clock.advance(90)
        stats = self.call("stats")
        self.assertEqual({k: stats[k] for k in ("accounts", "online", "connections", "rooms",
                                                  "running", "uptime")},
                         {"accounts": 1, "online": 1, "connections": 1, "rooms": 1,
                          "running": True, "uptime": 90})


class ProtocolTests(ControlCase):

    def test_one_request_per_connection(self):
        transport = self.control(wire.encode_request("stats") + wire.encode_request("users"))
        self.assertEqual(transport.value().count(b"\n"), 1)

    def test_garbage_gets_an_error_line(self):
        transport = self.control(b"GET / HTTP/1.1\r\n")
        self.assertTrue(transport.disconnecting)
        reply = json.loads(transport.value())
        self.assertEqual(reply["ok"], False)
        self.assertIn("JSON", reply["error"])

    def test_too_long_a_line_is_refused(self):
        transport = self.control(b"x" * (wire.MAX_LINE + 10))
        self.assertTrue(transport.disconnecting)
        self.assertIn("longer than", json.loads(transport.value())["error"])

    def test_silent_peer_times_out(self):
        proto = ControlProtocol(self.operations)
        proto.callLater = self.server.clock.callLater
        transport = StringTransport()
        proto.makeConnection(transport)
        self.server.clock.advance(control.REQUEST_TIMEOUT + 1)
        self.assertTrue(transport.disconnecting)
        self.assertIn("no request", json.loads(transport.value())["error"])

    def test_other_users_are_refused(self):
        self.patch(control, "peer_uid", lambda transport: 4242)
        transport = self.control(wire.encode_request("users"), allowed_uids={1000, 0})
        self.assertTrue(transport.disconnecting)
        self.assertIn("run chatctl as the user that runs the server",
                      json.loads(transport.value())["error"])

    def test_same_user_is_served(self):
        self.patch(control, "peer_uid", lambda transport: 1000)
        transport = self.control(wire.encode_request("stats"), allowed_uids={1000, 0})
        self.assertTrue(wire.decode_reply(transport.value())["running"])

    def test_an_unexpected_failure_is_one_error_line(self):
        def broken():
            raise RuntimeError("disk on fire")
        self.operations.do_stats = broken
        self.assertEqual(self.refused("stats"),
                         "internal error: disk on fire (see the server's log)")
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)


class BackupTests(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, self.tmp, True)
        self.db = os.path.join(self.tmp, "chat.db")

    @defer.inlineCallbacks
    def test_backup_of_a_live_database(self):
        storage = SQLiteStorage(self.db)
        yield storage.start()
        self.addCleanup(storage.stop)
        yield storage.create_account("alice", "alice", "hash", 1)
        server = make_server(storage=None)
        ops = ControlOperations(server, db_path=self.db,
                                threads_run=lambda f, *a: defer.maybeDeferred(f, *a))
        target = os.path.join(self.tmp, "copy.db")
        result = yield ops.run("backup", {"path": target})
        self.assertEqual(result["path"], target)
        self.assertEqual(os.stat(target).st_mode & 0o777, 0o600)
        copy = sqlite3.connect(target)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("SELECT name FROM accounts").fetchall(), [("alice",)])
        self.assertFalse(os.path.exists(target + ".partial"))
        with self.assertRaises(ControlError) as caught:
            yield ops.run("backup", {"path": target})
        self.assertIn("exists already", caught.exception.message)
        with self.assertRaises(ControlError):
            yield ops.run("backup", {"path": "relative.db"})
        with self.assertRaises(ControlError) as caught:
            yield ops.run("backup", {"path": os.path.join(self.tmp, "no", "x.db")})
        self.assertIn("is not a directory", caught.exception.message)

    def test_backup_database_leaves_nothing_on_failure(self):
        target = os.path.join(self.tmp, "copy.db")
        with open(self.db, "wb") as f:
            f.write(b"not a database at all" * 100)
        self.assertRaises(sqlite3.Error, backup_database, self.db, target)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["chat.db"])

    @defer.inlineCallbacks
    def test_no_database_no_backup(self):
        ops = ControlOperations(make_server(), db_path=None)
        with self.assertRaises(ControlError) as caught:
            yield ops.run("backup", {"path": os.path.join(self.tmp, "x.db")})
        self.assertIn("--lite", caught.exception.message)


class HashOnlyHasherTests(unittest.TestCase):
    """chatctl on a stopped server makes a hasher without the dummy hash of unknown logins."""

    def test_no_dummy_made_and_still_safe_if_one_is_needed(self):
        from chat.server.passwords import PasswordHasher
        sync = lambda f, *a: defer.maybeDeferred(f, *a)          # noqa: E731
        hasher = PasswordHasher(time_cost=1, memory_kib=8, run_in_thread=sync, logins=False)
        self.assertIsNone(hasher._dummy_hash)
        made = self.successResultOf(hasher.hash("a-password-1"))
        self.assertTrue(self.successResultOf(hasher.verify(made, "a-password-1")))
        self.assertFalse(self.successResultOf(hasher.verify(None, "a-password-1")))
        self.assertIsNotNone(hasher._dummy_hash)
