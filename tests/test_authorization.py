"""Authorization: every request that names a room, user, message, file or request the caller
may not touch gets its exact error code, and nothing changes in storage or in the server's
memory.

The cast: alice (the first account: admin), bob (an ordinary user: the caller of almost every
case) and carol. alice has a room ``#secret`` that bob is not in, a private chat with carol,
a file in ``#secret``, a file to carol and an incomplete file of her own. Where PROTOCOL.md
says that "not yours" must look like "does not exist" (files, uploads, avatars), both answers
are compared: same code and the same message apart from the name asked for.
"""

import copy
import hashlib

from twisted.trial import unittest

from chat.protocol.errors import FORBIDDEN, NOT_FOUND, NOT_LOGGED_IN
from chat.protocol.framing import encode_body_frame
from tests.harness import Client, make_server, user


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class AuthorizationTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")          # the first account: admin
        self.bob = user(self.server, "bob")
        self.carol = user(self.server, "carol")
        alice = self.alice
        alice.ok("create_room", room="secret", topic="alice only")
        self.secret_msg = alice.ok("send", to="#secret", text="secret plan", cid="s1")["msg_id"]
        self.private_msg = alice.ok("send", to="@carol", text="hi carol", cid="p1")["msg_id"]
        self.lobby_msg = alice.ok("send", to="#lobby", text="hello all", cid="l1")["msg_id"]
        self.secret_file = self.send_file(alice, "#secret", b"secret bytes")
        self.private_file = self.send_file(alice, "@carol", b"for carol only")
        offered = alice.ok("file_offer", to="#lobby", name="half.bin", size=10,
                           sha256=sha(b"0123456789"))
        self.partial_file = offered["file"]["id"]
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
        alice.send({"type": "set_avatar", "id": 900, "avatar_type": "image/png",
                    "body": len(png)})
        alice.raw(encode_body_frame(900, png))
        assert alice.reply(900)["type"] == "ok"
        self.server.clock.advance(1)
        for client in (self.alice, self.bob, self.carol):
            client.events()

    def send_file(self, client, to, data) -> int:
        offered = client.ok("file_offer", to=to, name="f.bin", size=len(data), sha256=sha(data))
        file_id = offered["file"]["id"]
        client._next_id += 1
        request_id = client._next_id
        client.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                     "body": len(data)})
        client.raw(encode_body_frame(request_id, data))
        assert client.reply(request_id)["type"] == "ok"
        return file_id

    # -- what "nothing changed" means
    def state(self):
        """Everything stored, and the server's in-memory view of rooms, members, bans,
        files, sessions, monitoring and a pending shutdown."""
        server = self.server
        return copy.deepcopy({
            "storage": {k: v for k, v in vars(server.storage).items()},
            "rooms": server.conversations.rooms,
            "members": server.conversations.members,
            "banned": server.directory.banned,
            "complete_files": sorted(server.files.catalog.complete),
            "partial_files": {i: p.received for i, p in server.files.catalog.partials.items()},
            "online": sorted(c.session.name for c in server.connections if c.session),
            "watchers": len(server.monitor.watchers),
            "shutdown": server.admin._shutdown is not None,
            "stop_calls": server.request_stop.calls,
        })

    def refused(self, client, kind, code, **fields) -> str:
        """Make the request, check its error code and that nothing changed; returns the
        error's message."""
        before = self.state()
        reply = client.request(kind, **fields)
        self.assertEqual(reply["type"], "error", reply)
        self.assertEqual(reply["code"], code, reply)
        self.assertEqual(self.state(), before, f"{kind} changed the server's state")
        self.assertFalse(client.closed)
        return reply["message"]

    def allowed_without_change(self, client, kind, **fields) -> dict:
        before = self.state()
        data = client.ok(kind, **fields)
        self.assertEqual(self.state(), before, f"{kind} changed the server's state")
        return data

    def assertIndistinguishable(self, message_a, name_a, message_b, name_b):
        """Two error messages that may differ only in the name the caller asked for."""
        self.assertEqual(message_a.replace(name_a, "<name>"), message_b.replace(name_b, "<name>"))

    def assertNoEvents(self, *clients):
        for client in clients:
            self.assertEqual([e for e in client.events() if e["type"] != "presence"], [])

    # -- history, sync, read: rooms one is not in, others' private chats
    def test_history_of_a_room_one_is_not_in_is_forbidden(self):
        message = self.refused(self.bob, "history", FORBIDDEN, conv="#secret")
        self.assertNotIn("secret plan", message)

    def test_history_of_a_room_one_is_not_in_any_case(self):
        self.refused(self.bob, "history", FORBIDDEN, conv="#SECRET")

    def test_history_of_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "history", NOT_FOUND, conv="#nosuch")

    def test_history_of_an_unknown_user_is_not_found(self):
        self.refused(self.bob, "history", NOT_FOUND, conv="@nobody")

    def test_private_history_is_always_the_callers_own(self):
        # "@carol" for bob is bob's chat with carol: alice's messages to carol are not in it
        data = self.allowed_without_change(self.bob, "history", conv="@carol")
        self.assertEqual(data["messages"], [])
        data = self.allowed_without_change(self.bob, "history", conv="@alice")
        self.assertEqual(data["messages"], [])

    def test_sync_holds_only_the_callers_conversations(self):
        data = self.allowed_without_change(self.bob, "sync", since=0)
        ids = [m["id"] for m in data["messages"]]
        self.assertNotIn(self.secret_msg, ids)
        self.assertNotIn(self.private_msg, ids)
        self.assertIn(self.lobby_msg, ids)
        self.assertNotIn("secret plan", repr(data))

    def test_read_of_a_room_one_is_not_in_is_forbidden(self):
        self.refused(self.bob, "read", FORBIDDEN, conv="#secret", up_to=self.secret_msg)
        self.assertNoEvents(self.alice)

    def test_read_of_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "read", NOT_FOUND, conv="#nosuch", up_to=1)

    def test_read_of_an_unknown_user_is_not_found(self):
        self.refused(self.bob, "read", NOT_FOUND, conv="@nobody", up_to=1)

    def test_read_mark_stops_at_the_newest_message(self):
        newest = self.server.writer.newest_id()
        self.carol.ok("read", conv="@alice", up_to=10 ** 15)
        [receipt] = self.alice.events("read")
        self.assertEqual(receipt["up_to"], newest)
        self.assertEqual(self.alice.ok("history", conv="@carol")["peer_read"], newest)
        # a message sent afterwards is unread for carol, and not marked read for alice
        later = self.alice.ok("send", to="@carol", text="later", cid="p2")["msg_id"]
        self.assertEqual(self.carol.ok("unread")["unread"].get("@alice"), 1)
        self.assertLess(self.alice.ok("history", conv="@carol")["peer_read"], later)

    # -- rooms
    def test_set_topic_of_a_room_one_is_not_in_is_forbidden(self):
        self.refused(self.bob, "set_topic", FORBIDDEN, room="secret", topic="pwned")
        self.assertNoEvents(self.alice)
        self.assertEqual(self.server.conversations.room("secret").topic, "alice only")

    def test_set_topic_of_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "set_topic", NOT_FOUND, room="nosuch", topic="x")

    def test_members_of_any_room_is_allowed_as_documented(self):
        data = self.allowed_without_change(self.bob, "members", room="secret")
        self.assertEqual([m["name"] for m in data["members"]], ["alice"])

    def test_members_of_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "members", NOT_FOUND, room="nosuch")

    def test_leave_of_a_room_not_joined_changes_nothing(self):
        self.allowed_without_change(self.bob, "leave", room="secret")
        self.assertNoEvents(self.alice, self.bob)

    def test_leave_of_lobby_is_forbidden(self):
        self.refused(self.bob, "leave", FORBIDDEN, room="lobby")

    def test_leave_of_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "leave", NOT_FOUND, room="nosuch")

    # -- sending
    def test_send_to_a_room_one_is_not_in_is_forbidden(self):
        self.refused(self.bob, "send", FORBIDDEN, to="#secret", text="let me in", cid="b1")
        self.assertNoEvents(self.alice)

    def test_send_to_a_room_that_does_not_exist_is_not_found(self):
        self.refused(self.bob, "send", NOT_FOUND, to="#nosuch", text="x", cid="b2")

    def test_send_to_an_unknown_user_is_not_found(self):
        self.refused(self.bob, "send", NOT_FOUND, to="@nobody", text="x", cid="b3")

    def test_a_reused_cid_of_another_user_is_not_a_duplicate(self):
        # alice's cid "l1" is hers: bob's message with the same cid is stored as his own
        data = self.bob.ok("send", to="#lobby", text="mine", cid="l1")
        self.assertFalse(data["duplicate"])
        self.assertNotEqual(data["msg_id"], self.lobby_msg)

    # -- files
    def test_download_of_a_room_file_one_may_not_read_is_not_found(self):
        hidden = self.refused(self.bob, "download", NOT_FOUND, file=self.secret_file)
        unknown = self.refused(self.bob, "download", NOT_FOUND, file=999_999)
        self.assertEqual(hidden, unknown)           # ids reveal nothing

    def test_download_of_a_private_file_of_others_is_not_found(self):
        hidden = self.refused(self.bob, "download", NOT_FOUND, file=self.private_file)
        unknown = self.refused(self.bob, "download", NOT_FOUND, file=999_999)
        self.assertEqual(hidden, unknown)

    def test_download_of_an_incomplete_file_is_not_found(self):
        incomplete = self.refused(self.bob, "download", NOT_FOUND, file=self.partial_file)
        unknown = self.refused(self.bob, "download", NOT_FOUND, file=999_999)
        self.assertEqual(incomplete, unknown)

    def test_upload_to_a_file_offered_by_someone_else_is_not_found(self):
        theirs = self.refused(self.bob, "upload", NOT_FOUND, id=501, file=self.partial_file,
                              offset=0)
        unknown = self.refused(self.bob, "upload", NOT_FOUND, id=502, file=999_999, offset=0)
        self.assertEqual(theirs, unknown)

    def test_upload_to_a_complete_file_of_someone_else_is_not_found(self):
        theirs = self.refused(self.bob, "upload", NOT_FOUND, id=503, file=self.secret_file,
                              offset=0)
        unknown = self.refused(self.bob, "upload", NOT_FOUND, id=504, file=999_999, offset=0)
        self.assertEqual(theirs, unknown)

    def test_files_of_a_room_one_is_not_in_looks_like_no_room(self):
        hidden = self.refused(self.bob, "files", NOT_FOUND, conv="#secret")
        unknown = self.refused(self.bob, "files", NOT_FOUND, conv="#nosuch")
        self.assertIndistinguishable(hidden, "secret", unknown, "nosuch")

    def test_files_of_a_private_chat_are_the_callers_own(self):
        data = self.allowed_without_change(self.bob, "files", conv="@carol")
        self.assertEqual(data["files"], [])

    def test_file_offer_to_a_room_one_is_not_in_is_forbidden(self):
        self.refused(self.bob, "file_offer", FORBIDDEN, to="#secret", name="x.bin", size=1,
                     sha256=sha(b"x"))

    def test_file_offer_to_everybody_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "file_offer", FORBIDDEN, to="@all", name="x.bin", size=1,
                     sha256=sha(b"x"))

    def test_file_offer_to_an_unknown_user_is_not_found(self):
        self.refused(self.bob, "file_offer", NOT_FOUND, to="@nobody", name="x.bin", size=1,
                     sha256=sha(b"x"))

    # -- avatars
    def test_get_avatar_of_an_unknown_user_is_not_found(self):
        unknown = self.refused(self.bob, "get_avatar", NOT_FOUND, user="nobody")
        without = self.refused(self.bob, "get_avatar", NOT_FOUND, user="carol")
        self.assertIndistinguishable(unknown, "nobody", without, "carol")

    # -- admin requests by a non-admin: forbidden, and nothing happens
    def test_notice_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "notice", FORBIDDEN, text="all hail bob")
        self.assertNoEvents(self.alice, self.carol)

    def test_notice_to_one_user_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "notice", FORBIDDEN, text="hi", to="carol")
        self.assertNoEvents(self.carol)

    def test_sessions_by_a_non_admin_is_forbidden(self):
        message = self.refused(self.bob, "sessions", FORBIDDEN)
        self.assertNotIn("192.0.2", message)

    def test_user_info_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "user_info", FORBIDDEN, user="alice")

    def test_user_info_of_an_unknown_user_by_a_non_admin_is_forbidden_too(self):
        # the role is checked first: a non-admin learns nothing about which accounts exist
        self.refused(self.bob, "user_info", FORBIDDEN, user="nobody")

    def test_kick_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "kick", FORBIDDEN, user="alice")
        self.assertFalse(self.alice.closed)
        self.assertEqual(self.alice.events("bye"), [])

    def test_ban_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "ban", FORBIDDEN, user="carol", reason="mine")
        self.assertFalse(self.carol.closed)
        self.assertEqual(self.server.directory.banned, {})

    def test_unban_by_a_non_admin_is_forbidden(self):
        self.alice.ok("ban", user="carol", reason="spam")
        self.refused(self.bob, "unban", FORBIDDEN, user="carol")
        self.assertIn(self.server.directory.id_for("carol"), self.server.directory.banned)

    def test_monitor_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "monitor", FORBIDDEN, on=True)
        self.alice.ok("send", to="@carol", text="still private", cid="p3")
        self.assertEqual(self.bob.events("monitor"), [])

    def test_shutdown_by_a_non_admin_is_forbidden(self):
        self.refused(self.bob, "shutdown", FORBIDDEN, seconds=0, message="bye")
        self.server.clock.advance(10)
        self.assertEqual(self.server.request_stop.calls, 0)
        self.assertNoEvents(self.alice, self.carol)

    # -- cancel only touches the caller's own connection
    def test_cancel_of_another_connections_request_cancels_nothing(self):
        data = b"0123456789"
        upload_id = 777
        self.alice.send({"type": "upload", "id": upload_id, "file": self.partial_file,
                         "offset": 0, "body": len(data)})
        self.alice.raw(encode_body_frame(upload_id, data[:4]))
        before = self.state()
        reply = self.bob.ok("cancel", request=upload_id)
        self.assertEqual(reply, {"request": upload_id, "cancelled": False})
        self.assertEqual(self.state(), before)
        self.alice.pump()
        self.assertEqual([f for f in self.alice.inbox if f.get("id") == upload_id], [])
        # alice's upload goes on and completes
        self.alice.raw(encode_body_frame(upload_id, data[4:]))
        self.assertEqual(self.alice.reply(upload_id)["type"], "ok")

    def test_cancel_from_another_connection_of_the_same_user_cancels_nothing(self):
        other = user(self.server, "alice", register=False)
        data = b"0123456789"
        self.alice.send({"type": "upload", "id": 778, "file": self.partial_file, "offset": 0,
                         "body": len(data)})
        self.alice.raw(encode_body_frame(778, data[:3]))
        self.assertEqual(other.ok("cancel", request=778)["cancelled"], False)
        self.alice.raw(encode_body_frame(778, data[3:]))
        self.assertEqual(self.alice.reply(778)["type"], "ok")

    # -- before logging in
    def test_requests_before_login_are_not_logged_in(self):
        stranger = Client(self.server)
        stranger.hello()
        for kind, fields in [("history", {"conv": "#lobby"}), ("sync", {"since": 0}),
                             ("send", {"to": "#lobby", "text": "x", "cid": "z"}),
                             ("download", {"file": self.secret_file}),
                             ("files", {"conv": "#lobby"}), ("members", {"room": "lobby"}),
                             ("sessions", {}), ("shutdown", {}),
                             ("get_avatar", {"user": "alice"})]:
            self.assertTrue(self.refused(stranger, kind, NOT_LOGGED_IN, **fields), kind)
