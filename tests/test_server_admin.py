"""The admin requests through real ChatConnections (no sockets): notice, sessions, user_info,
kick, ban/unban, members of any room, monitor and shutdown, and who may use them."""

from typing import ClassVar

from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from chat.protocol.errors import (
    BAD_CREDENTIALS, BAD_REQUEST, BANNED, FORBIDDEN, NOT_FOUND, NOT_LOGGED_IN)
from chat.protocol.timestamps import format_ts
from chat.server.handlers.admin import MONITORING_OFF
from chat.server.storage.memory import MemoryStorage
from tests.harness import PASSWORD, Client, make_server, user

ADMIN_REQUESTS = (
    ("notice", {"text": "hello"}),
    ("notice", {"text": "hello", "to": "carol"}),
    ("sessions", {}),
    ("user_info", {"user": "carol"}),
    ("kick", {"user": "carol", "reason": "testing"}),
    ("ban", {"user": "carol"}),
    ("unban", {"user": "carol"}),
    ("monitor", {"on": True}),
    ("shutdown", {"seconds": 5}),
)


class AdminTestCase(unittest.TestCase):
    """alice (the first account, so an admin), bob and carol, all logged in."""

    config: ClassVar[dict] = {}

    def setUp(self):
        self.server = make_server(**self.config)
        self.clock = self.server.clock
        self.alice = user(self.server, "alice")
        self.clock.advance(1)
        self.bob = user(self.server, "bob")
        self.clock.advance(1)
        self.carol = user(self.server, "carol")
        self.quiet()

    def quiet(self):
        """Let pending presence notices go out and forget every event received so far."""
        self.clock.advance(1)
        for client in (self.alice, self.bob, self.carol):
            client.events()

    def capture_log(self):
        """Collect the text of every log event from now on; returns the list."""
        texts = []

        def observer(event):
            texts.append(formatEvent(event))
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        return texts

    def assertLogged(self, texts, fragment):
        self.assertTrue(any(fragment in text for text in texts), (fragment, texts))


class ForbiddenTests(AdminTestCase):
    config: ClassVar[dict] = {"monitoring": True}  # so that monitor is refused for the role, not the flag

    def test_every_admin_request_is_forbidden_to_others(self):
        logged = self.capture_log()
        for kind, fields in ADMIN_REQUESTS:
            reply = self.bob.request(kind, **fields)
            self.assertEqual((reply["type"], reply["code"]), ("error", FORBIDDEN), kind)
            self.assertIn("admins only", reply["message"])
        self.assertLogged(logged, "bob (not an admin) asked for kick: refused")
        # and none of it happened
        self.assertFalse(self.carol.closed)
        self.assertEqual(self.carol.events(), [])
        self.clock.advance(10)
        self.assertEqual(self.server.request_stop.calls, 0)
        self.assertEqual(self.server.monitor.watchers, set())
        self.carol.ok("users")

    def test_admin_requests_need_login(self):
        client = Client(self.server)
        client.hello()
        for kind, fields in ADMIN_REQUESTS:
            self.assertEqual(client.error(kind, **fields), NOT_LOGGED_IN, kind)

    def test_admin_option_grants_the_role(self):
        server = make_server(admins=frozenset({"boss"}))
        user(server, "first")
        boss = user(server, "boss")
        other = user(server, "other")
        self.assertEqual(boss.ok("sessions")["online"], 3)
        self.assertEqual(other.error("sessions"), FORBIDDEN)


class NoticeTests(AdminTestCase):
    def test_notice_to_everyone(self):
        logged = self.capture_log()
        self.assertEqual(self.alice.ok("notice", text="lunch at noon"), {"delivered": 3})
        for client in (self.alice, self.bob, self.carol):
            [event] = client.events()
            self.assertEqual(event, {"type": "notice", "from": "alice", "text": "lunch at noon",
                                     "ts": format_ts(self.clock.seconds() * 1000),
                                     "kind": "notice"})
        self.assertLogged(logged, "admin alice sent a notice to everyone (3 reached): lunch")

    def test_notice_counts_accounts_not_connections(self):
        user(self.server, "bob", register=False)
        self.assertEqual(self.alice.ok("notice", text="hi")["delivered"], 3)

    def test_notice_to_one_user_reaches_all_of_their_connections(self):
        bob2 = user(self.server, "bob", register=False)
        self.quiet()
        self.assertEqual(self.alice.ok("notice", text="please stop", to="BOB"), {"delivered": 1})
        for client in (self.bob, bob2):
            [event] = client.events()
            self.assertEqual((event["type"], event["from"], event["to"], event["text"],
                              event["kind"]), ("notice", "alice", "bob", "please stop", "notice"))
        self.assertEqual(self.alice.events(), [])
        self.assertEqual(self.carol.events(), [])

    def test_notice_to_unknown_or_offline_user(self):
        self.assertEqual(self.alice.error("notice", text="x", to="nobody"), NOT_FOUND)
        self.carol.disconnect()
        reply = self.alice.request("notice", text="x", to="carol")
        self.assertEqual((reply["code"], reply["message"]), (NOT_FOUND, "carol is not online"))
        self.assertEqual(self.bob.events("notice"), [])

    def test_notice_text_limits(self):
        self.assertEqual(self.alice.error("notice", text=""), BAD_REQUEST)
        self.assertEqual(self.alice.error("notice", text="x" * 16_001), "too_large")


class SessionTests(AdminTestCase):
    def test_sessions_list_every_logged_in_connection(self):
        self.clock.advance(5)
        bob2 = user(self.server, "bob", register=False)
        Client(self.server).hello()  # connected, not logged in: not a session
        data = self.alice.ok("sessions")
        self.assertEqual((data["online"], data["more"]), (3, False))
        sessions = data["sessions"]
        self.assertEqual([(s["user"], s["admin"]) for s in sessions],
                         [("alice", True), ("bob", False), ("bob", False), ("carol", False)])
        by_port = {s["port"]: s for s in sessions}
        for client in (self.alice, self.bob, bob2, self.carol):
            connection = client.connection
            entry = by_port[connection.port]
            self.assertEqual(entry, {
                "user": connection.session.name, "address": "192.0.2.10",
                "port": connection.port, "client": "test",
                "since": format_ts(connection.session.since * 1000),
                "idle": entry["idle"], "admin": connection.session.admin})
        self.assertLess(sessions[1]["since"], sessions[2]["since"])  # bob, then bob2
        self.assertEqual(sessions[2]["port"], bob2.connection.port)
        since_login = self.clock.seconds() - self.bob.connection.session.since
        self.assertEqual(by_port[self.bob.connection.port]["idle"], int(since_login))
        self.assertGreaterEqual(since_login, 5)
        self.assertEqual(by_port[bob2.connection.port]["idle"], 0)

    def test_idle_counts_requests_but_not_pings(self):
        self.clock.advance(100)
        self.bob.ok("ping")                            # a heartbeat is not activity
        self.carol.ok("send", to="#lobby", text="here", cid="i1")
        self.clock.advance(7)
        idle = {s["user"]: s["idle"] for s in self.alice.ok("sessions")["sessions"]}
        bob_since_login = int(self.clock.seconds() - self.bob.connection.session.since)
        self.assertGreaterEqual(bob_since_login, 107)
        self.assertEqual((idle["bob"], idle["carol"], idle["alice"]), (bob_since_login, 7, 0))

    def test_sessions_fit_one_frame(self):
        for _ in range(400):
            client = Client(self.server)
            client.ok("hello", version=1, client="c" * 64)
            client.login("bob")
        data = self.alice.ok("sessions")  # the harness checks that the frame fits
        self.assertTrue(data["more"])
        self.assertLess(len(data["sessions"]), 403)
        self.assertEqual(data["sessions"][0]["user"], "alice")


class UserInfoTests(AdminTestCase):
    def test_user_info_of_an_online_user(self):
        bob2 = user(self.server, "bob", register=False)
        self.bob.ok("create_room", room="Dev")
        info = self.alice.ok("user_info", user="BOB")["user"]
        created = info.pop("created")
        self.assertTrue(created.endswith("Z"))
        sessions = info.pop("sessions")
        self.assertEqual(info, {"name": "bob", "admin": False, "avatar": False,
                                "last_seen": None, "online": True, "banned": False,
                                "ban_reason": None, "rooms": ["Dev", "lobby"]})
        self.assertEqual(sorted(s["port"] for s in sessions),
                         sorted([self.bob.connection.port, bob2.connection.port]))
        self.assertEqual(set(sessions[0]), {"address", "port", "client", "since", "idle"})
        self.assertEqual(sessions[0]["address"], "192.0.2.10")

    def test_user_info_of_an_offline_user(self):
        self.carol.disconnect()
        info = self.alice.ok("user_info", user="carol")["user"]
        self.assertEqual((info["online"], info["sessions"]), (False, []))
        self.assertEqual(info["last_seen"], format_ts(self.clock.seconds() * 1000))

    def test_user_info_of_unknown_user(self):
        self.assertEqual(self.alice.error("user_info", user="nobody"), NOT_FOUND)


class KickTests(AdminTestCase):
    def test_kick_closes_every_connection_of_the_user(self):
        bob2 = user(self.server, "bob", register=False)
        self.quiet()
        logged = self.capture_log()
        self.assertEqual(self.alice.ok("kick", user="bob", reason="spamming"), {"closed": 2})
        for client in (self.bob, bob2):
            self.assertEqual(client.events("bye"), [
                {"type": "bye", "code": "kicked", "message": "kicked by alice: spamming"}])
            self.assertTrue(client.closed)
            # whatever it still sends no longer acts as bob
            self.assertEqual(client.error("users"), NOT_LOGGED_IN)
        self.assertLogged(logged, "admin alice kicked bob: spamming (2 connections closed)")
        self.assertFalse(self.server.presence.is_online(self.server.directory.id_for("bob")))
        # the others carry on, and hear that bob went offline
        self.assertEqual([(c["user"], c["online"]) for c in self.carol.presence_changes()],
                         [("bob", False)])
        self.carol.ok("send", to="#lobby", text="still here", cid="1")
        self.assertEqual(self.alice.events("message")[0]["msg"]["text"], "still here")
        self.assertFalse(self.carol.closed)
        self.assertFalse(self.alice.closed)
        # a kick is no ban: bob may come back
        user(self.server, "bob", register=False)

    def test_kick_without_reason(self):
        self.assertEqual(self.alice.ok("kick", user="carol"), {"closed": 1})
        [bye] = self.carol.events("bye")
        self.assertEqual(bye["message"], "kicked by alice")

    def test_kick_errors(self):
        self.assertEqual(self.alice.error("kick", user="nobody"), NOT_FOUND)
        self.assertEqual(self.alice.error("kick", user="ALICE"), BAD_REQUEST)
        self.carol.disconnect()
        reply = self.alice.request("kick", user="carol")
        self.assertEqual((reply["code"], reply["message"]), (NOT_FOUND, "carol is not online"))
        self.assertEqual(self.alice.error("kick", user="bob", reason="r" * 501), BAD_REQUEST)
        self.assertFalse(self.alice.closed)
        self.assertFalse(self.bob.closed)


class BanTests(AdminTestCase):
    def login_reply(self, name, password=PASSWORD):
        client = Client(self.server)
        client.hello()
        return client.request("login", username=name, password=password)

    def test_ban_closes_connections_and_refuses_login_until_unban(self):
        bob2 = user(self.server, "bob", register=False)
        self.quiet()
        logged = self.capture_log()
        self.assertEqual(self.alice.ok("ban", user="bob", reason="spam"), {"closed": 2})
        for client in (self.bob, bob2):
            self.assertEqual(client.events("bye"), [
                {"type": "bye", "code": "banned", "message": "banned by alice: spam"}])
            self.assertTrue(client.closed)
        self.assertLogged(logged, "admin alice banned bob: spam (2 connections closed)")

        refused = self.login_reply("bob")
        self.assertEqual((refused["code"], refused["message"]),
                         (BANNED, "this account is banned: spam"))
        # a wrong password learns nothing about the ban
        self.assertEqual(self.login_reply("bob", "wrong password")["code"], BAD_CREDENTIALS)
        info = self.alice.ok("user_info", user="bob")["user"]
        self.assertEqual((info["banned"], info["ban_reason"]), (True, "spam"))

        self.assertEqual(self.alice.ok("unban", user="bob"), {})
        self.assertLogged(logged, "admin alice unbanned bob")
        self.assertEqual(self.login_reply("bob")["type"], "ok")
        info = self.alice.ok("user_info", user="bob")["user"]
        self.assertEqual((info["banned"], info["ban_reason"]), (False, None))

    def test_ban_an_offline_account_without_reason(self):
        self.carol.disconnect()
        self.assertEqual(self.alice.ok("ban", user="carol"), {"closed": 0})
        refused = self.login_reply("carol")
        self.assertEqual((refused["code"], refused["message"]),
                         (BANNED, "this account is banned"))

    def test_a_ban_during_a_login_in_progress_is_seen(self):
        self.carol.disconnect()
        pending = defer.Deferred()
        self.patch(self.server.accounts.hasher, "verify", lambda stored, password: pending)
        client = Client(self.server)
        client.hello()
        client.send({"type": "login", "id": 7, "username": "carol", "password": PASSWORD})
        self.assertEqual(self.alice.ok("ban", user="carol"), {"closed": 0})
        pending.callback(True)  # the password hash checks out only now
        self.assertEqual(client.reply(7)["code"], BANNED)
        self.assertFalse(self.server.presence.is_online(self.server.directory.id_for("carol")))

    def test_ban_errors(self):
        self.assertEqual(self.alice.error("ban", user="alice"), BAD_REQUEST)
        self.assertEqual(self.alice.error("ban", user="nobody"), NOT_FOUND)
        self.assertEqual(self.alice.error("unban", user="nobody"), NOT_FOUND)
        self.assertEqual(self.alice.ok("unban", user="carol"), {})  # not banned: harmless
        self.assertFalse(self.alice.closed)

    def test_an_admin_may_ban_another_admin(self):
        server = make_server(admins=frozenset({"root"}))
        alice = user(server, "alice")
        root = user(server, "root")
        self.assertTrue(root.connection.session.admin)
        self.assertEqual(alice.ok("ban", user="root"), {"closed": 1})
        self.assertEqual(root.events("bye")[0]["code"], "banned")

    def test_ban_is_kept_in_storage(self):
        storage = MemoryStorage()
        server = make_server(storage=storage)
        alice = user(server, "alice")
        user(server, "bob")
        alice.ok("ban", user="bob", reason="gone")
        server.stop()
        restarted = make_server(storage=storage)  # loads everything from the storage again
        client = Client(restarted)
        client.hello()
        self.assertEqual(client.error("login", username="bob", password=PASSWORD), BANNED)


class MembersTests(AdminTestCase):
    def test_admin_lists_members_of_a_room_she_is_not_in(self):
        self.bob.ok("create_room", room="secret")
        members = self.alice.ok("members", room="secret")["members"]
        self.assertEqual(members, [{"name": "bob", "online": True}])

    def test_others_keep_what_they_had(self):
        # members was never limited to a room's members; it stays so for everyone
        self.bob.ok("create_room", room="secret")
        self.assertEqual([m["name"] for m in self.carol.ok("members", room="secret")["members"]],
                         ["bob"])
        self.assertEqual(self.carol.error("members", room="nowhere"), NOT_FOUND)


class MonitorRefusedTests(AdminTestCase):
    def test_monitor_needs_the_server_flag(self):
        reply = self.alice.request("monitor", on=True)
        self.assertEqual((reply["code"], reply["message"]), (FORBIDDEN, MONITORING_OFF))
        self.assertIn("--allow-monitoring", reply["message"])
        self.assertEqual(self.server.monitor.watchers, set())
        self.assertFalse(Client(self.server).hello()["policy"]["monitoring"])


class MonitorTests(AdminTestCase):
    config: ClassVar[dict] = {"monitoring": True}

    def test_hello_tells_clients(self):
        self.assertTrue(Client(self.server).hello()["policy"]["monitoring"])

    def test_monitor_sees_a_private_message_between_two_others(self):
        logged = self.capture_log()
        self.assertEqual(self.alice.ok("monitor", on=True), {"on": True})
        self.assertLogged(logged, "admin alice turned monitoring on")
        sent = self.bob.ok("send", to="@carol", text="just between us", cid="p1")
        [event] = self.alice.events()
        self.assertEqual(event, {"type": "monitor", "msg": {
            "id": sent["msg_id"], "conv": "@carol", "from": "bob", "to": "@carol",
            "ts": sent["ts"], "cid": "p1", "text": "just between us"}})
        self.bob.ok("send", to="#lobby", text="hi all", cid="r1", burn=5)
        monitored = self.alice.events("monitor")
        self.assertEqual([(e["msg"]["conv"], e["msg"]["text"], e["msg"]["burn"])
                          for e in monitored], [("#lobby", "hi all", 5)])
        self.assertEqual(len(self.alice.events("message")), 1)  # her own copy as a member

        self.assertEqual(self.alice.ok("monitor", on=False), {"on": False})
        self.assertLogged(logged, "admin alice turned monitoring off")
        self.bob.ok("send", to="@carol", text="again", cid="p2")
        self.assertEqual(self.alice.events(), [])
        self.assertEqual(self.alice.ok("monitor", on=False), {"on": False})  # off twice: fine

    def test_only_the_monitoring_connection_gets_copies(self):
        alice2 = user(self.server, "alice", register=False)
        self.alice.ok("monitor", on=True)
        self.bob.ok("send", to="@carol", text="x", cid="1")
        self.assertEqual(len(self.alice.events("monitor")), 1)
        self.assertEqual(alice2.events("monitor"), [])

    def test_a_closed_connection_is_forgotten(self):
        logged = self.capture_log()
        self.alice.ok("monitor", on=True)
        self.alice.disconnect()
        self.assertEqual(self.server.monitor.watchers, set())
        self.assertLogged(logged, "monitoring off for admin alice")
        self.bob.ok("send", to="@carol", text="x", cid="1")  # nothing to send it to

    def test_logout_forgets_too(self):
        self.alice.ok("monitor", on=True)
        self.alice.ok("logout")
        self.assertEqual(self.server.monitor.watchers, set())
        self.alice.login("alice")
        self.bob.ok("send", to="@carol", text="x", cid="1")
        self.assertEqual(self.alice.events("monitor"), [])


class ShutdownTests(AdminTestCase):
    def test_notice_then_stop_after_the_delay(self):
        logged = self.capture_log()
        start = self.clock.seconds()
        data = self.alice.ok("shutdown", seconds=30, message="maintenance")
        self.assertEqual(data, {"at": format_ts((start + 30) * 1000)})
        for client in (self.alice, self.bob, self.carol):
            [notice] = client.events()
            self.assertEqual(notice, {
                "type": "notice", "from": "alice", "kind": "shutdown", "seconds": 30,
                "text": "maintenance",
                "ts": format_ts(start * 1000)})
        self.assertLogged(logged, "admin alice asked for a shutdown in 30 s: maintenance")
        self.clock.advance(29.9)
        self.assertEqual(self.server.request_stop.calls, 0)
        self.clock.advance(0.1)
        self.assertEqual(self.server.request_stop.calls, 1)
        self.assertLogged(logged, "stopping the server, as admin alice asked")

        # what twistd then does: stop the service, which stops the server
        self.server.stop()
        for client in (self.alice, self.bob, self.carol):
            self.assertEqual(client.events("bye")[0]["code"], "shutdown")
        bob = self.server.storage.account_by_key("bob").result
        self.assertIsNotNone(bob.last_seen)

    def test_a_second_shutdown_replaces_the_first(self):
        self.alice.ok("shutdown", seconds=30)
        self.clock.advance(10)
        self.alice.ok("shutdown", seconds=60)
        self.clock.advance(50)
        self.assertEqual(self.server.request_stop.calls, 0)
        self.clock.advance(10)
        self.assertEqual(self.server.request_stop.calls, 1)
        self.clock.advance(100)
        self.assertEqual(self.server.request_stop.calls, 1)

    def test_default_is_now_after_the_reply(self):
        data = self.alice.ok("shutdown")
        self.assertEqual(data["at"], format_ts(self.clock.seconds() * 1000))
        [notice] = self.bob.events("notice")
        self.assertEqual((notice["seconds"], notice["text"]), (0, ""))
        self.clock.advance(0)
        self.assertEqual(self.server.request_stop.calls, 1)

    def test_stopping_otherwise_cancels_the_timer(self):
        self.alice.ok("shutdown", seconds=30)
        self.server.stop()
        self.clock.advance(60)
        self.assertEqual(self.server.request_stop.calls, 0)

    def test_request_stop_is_injected(self):
        calls = []
        self.server.admin.request_stop = lambda: calls.append(self.clock.seconds())
        self.alice.ok("shutdown", seconds=2)
        self.clock.advance(2)
        self.assertEqual(len(calls), 1)

    def test_limits(self):
        self.assertEqual(self.alice.error("shutdown", seconds=3601), BAD_REQUEST)
        self.assertEqual(self.alice.error("shutdown", message="m" * 501), BAD_REQUEST)
        self.clock.advance(10)
        self.assertEqual(self.server.request_stop.calls, 0)
