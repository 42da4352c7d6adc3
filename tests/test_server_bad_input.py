"""Every kind of bad input gets its error code (or, for framing violations, a closed
connection), is logged, and never disturbs the other users."""

import struct

from twisted.logger import globalLogPublisher
from twisted.trial import unittest

from chat.protocol.errors import BAD_REQUEST, TOO_LARGE, UNKNOWN_TYPE
from chat.protocol.framing import encode_body_frame, encode_frame
from chat.server.connection import MALFORMED_IN_A_ROW
from tests.harness import Client, make_server, user


class BadInputTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.mallory = user(self.server, "mallory")
        for client in (self.alice, self.bob):
            client.events()
        self.logged = []
        globalLogPublisher.addObserver(self.logged.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.logged.append)

    def tearDown(self):
        # whatever mallory did, alice and bob still chat
        sent = self.alice.ok("send", to="#lobby", text="still here", cid="after")
        [event] = self.bob.events("message")
        self.assertEqual(event["msg"]["id"], sent["msg_id"])

    def assertError(self, code, request_id=None):
        self.mallory.pump()
        errors = [f for f in self.mallory.inbox if f["type"] == "error"]
        self.assertEqual(len(errors), 1, self.mallory.inbox)
        self.assertEqual((errors[0]["code"], errors[0]["id"]), (code, request_id))
        self.assertTrue(errors[0]["message"])
        self.assertFalse(self.mallory.closed)
        self.assertTrue(any(e.get("code") == code for e in self.logged), "error not logged")

    def test_garbage_bytes(self):
        # an HTTP request read as a length prefix is a 1.2 GB frame: refused, connection closed
        self.mallory.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.mallory.pump()
        self.assertEqual(self.mallory.inbox[-1]["code"], TOO_LARGE)
        self.assertTrue(self.mallory.transport.disconnecting)
        self.mallory.raw(b"more garbage")  # nothing more is read from it
        self.assertEqual(self.mallory.transport.value(), b"")

    def test_oversized_frame_closes(self):
        self.mallory.raw(struct.pack(">I", 10 ** 6) + b"{")
        self.mallory.pump()
        self.assertEqual(self.mallory.inbox[-1]["code"], TOO_LARGE)
        self.assertTrue(self.mallory.transport.disconnecting)
        self.mallory.disconnect()
        self.assertEqual(self.alice.presence_changes()[-1]["online"], False)

    def test_oversized_control_frame_in_body_sized_frame(self):
        self.mallory.raw(encode_frame(b"{" + b" " * 65_540 + b"}"))
        self.assertError(TOO_LARGE)

    def test_truncated_frame_is_just_waited_for(self):
        self.mallory.raw(encode_frame(b'{"type":"users","id":1}')[:-3])
        self.mallory.pump()
        self.assertEqual(self.mallory.inbox, [])
        self.mallory.raw(b'":1}'[-3:])
        self.assertEqual(self.mallory.reply(1)["type"], "ok")

    def test_invalid_json(self):
        self.mallory.raw(encode_frame(b'{"type": "users", "id": 1'))
        self.assertError(BAD_REQUEST)

    def test_invalid_utf8(self):
        self.mallory.raw(encode_frame(b'{"type": "\xc3\x28"}'))
        self.assertError(BAD_REQUEST)

    def test_object_without_type(self):
        self.mallory.raw(encode_frame(b"{}"))  # an object, but without a type
        self.assertError(BAD_REQUEST)

    def test_json_array(self):
        self.mallory.raw(encode_frame(b"[1,2,3]"))
        self.assertError(BAD_REQUEST)

    def test_unknown_frame_kind(self):
        self.mallory.raw(encode_frame(b"\x07binary"))
        self.assertError(BAD_REQUEST)

    def test_empty_frame(self):
        self.mallory.raw(encode_frame(b""))
        self.assertError(BAD_REQUEST)

    def test_unknown_type(self):
        self.mallory.send({"type": "launch_missiles", "id": 7})
        self.assertError(UNKNOWN_TYPE, 7)

    def test_server_type_from_client(self):
        self.mallory.send({"type": "message", "id": 7, "msg": {}})
        self.assertError(UNKNOWN_TYPE, 7)

    def test_missing_field(self):
        self.mallory.send({"type": "send", "id": 8, "to": "#lobby", "cid": "x"})
        self.assertError(BAD_REQUEST, 8)

    def test_wrongly_typed_field(self):
        self.mallory.send({"type": "history", "id": 9, "conv": "#lobby", "limit": "ten"})
        self.assertError(BAD_REQUEST, 9)

    def test_bad_request_id(self):
        self.mallory.send({"type": "users", "id": {"nested": True}})
        self.assertError(BAD_REQUEST)

    def test_body_frame_for_unknown_request(self):
        self.mallory.raw(encode_body_frame(99, b"data"))
        self.assertError(BAD_REQUEST)

    def test_body_longer_than_announced(self):
        self.mallory.send({"type": "set_avatar", "id": 5, "avatar_type": "image/png", "body": 4})
        self.mallory.raw(encode_body_frame(5, b"\x89PNG\r\n"))
        self.assertError(BAD_REQUEST, 5)

    def test_reading_a_room_one_is_not_in(self):
        self.alice.ok("create_room", room="private-room")
        self.assertEqual(self.mallory.error("history", conv="#private-room"), "forbidden")

    def test_abuse_closes_the_connection(self):
        for _ in range(MALFORMED_IN_A_ROW):
            self.mallory.raw(encode_frame(b"{not json"))
        self.assertEqual(self.mallory.events("bye")[0]["code"], "abuse")
        self.assertTrue(self.mallory.transport.disconnecting)

    def test_good_requests_reset_the_abuse_count(self):
        for _ in range(3):
            for _ in range(MALFORMED_IN_A_ROW - 1):
                self.mallory.raw(encode_frame(b"{not json"))
            self.mallory.ok("users")
        self.assertFalse(self.mallory.transport.disconnecting)
        self.mallory.inbox.clear()

    def test_replies_after_close_are_dropped(self):
        client = Client(self.server)
        client.hello()
        client.disconnect()
        client.send({"type": "users", "id": 1})  # data after connectionLost is ignored
        client.pump()
        self.assertEqual(client.inbox, [])


class RefusedAtTheHeaderTests(unittest.TestCase):
    """A request with a body that the connection's state refuses is answered at its header;
    its body is never held (issue 16: bodies before hello were buffered first)."""

    AVATAR = b"\x89PNG\r\n\x1a\n" + b"\0" * (200 * 1024)

    def assert_refused_at_header(self, client, kind, code, **fields):
        client.send({"type": kind, "id": 7, "body": len(self.AVATAR), **fields})
        # the answer comes before a single body byte
        self.assertEqual(client.reply(7)["code"], code)
        pending = client.connection._bodies[7]
        self.assertIsNone(pending.buffer)                 # nothing will be collected
        for start in range(0, len(self.AVATAR), 60 * 1024):
            client.raw(encode_body_frame(7, self.AVATAR[start:start + 60 * 1024]))
        self.assertNotIn(7, client.connection._bodies)
        client.pump()
        self.assertEqual(client.inbox, [])                # dropped quietly, not malformed
        self.assertFalse(client.closed)

    def test_register_with_an_avatar_before_hello(self):
        client = Client(make_server())
        self.assert_refused_at_header(client, "register", BAD_REQUEST, username="mallory",
                                      password="correct horse", avatar_type="image/png")

    def test_set_avatar_before_login(self):
        client = Client(make_server())
        client.hello()
        self.assert_refused_at_header(client, "set_avatar", "not_logged_in",
                                      avatar_type="image/png")


class TricklingTests(unittest.TestCase):
    """Only whole frames count as signs of life: a peer that trickles one frame a byte at a
    time is closed when the heartbeat's timeout passes, like a silent one."""

    def test_a_frame_trickled_a_byte_a_second_is_closed_at_the_timeout(self):
        server = make_server()
        alice = user(server, "alice")
        frame = encode_frame(b"{" + b" " * 1000 + b'"type":"ping","id":1}')
        timeout = server.config.timeout
        for second in range(int(timeout) + 5):
            if alice.closed:
                break
            alice.raw(frame[second:second + 1])
            server.clock.advance(1)
        self.assertTrue(alice.closed)
        self.assertLessEqual(second, timeout + 1)
        self.assertIn("timeout", [e.get("code") for e in alice.events("bye")])

    def test_whole_frames_keep_a_connection_open(self):
        server = make_server()
        bob = user(server, "bob")
        for _ in range(int(server.config.timeout) * 2):
            bob.send({"type": "ping", "id": 1})
            server.clock.advance(1)
        self.assertFalse(bob.closed)
