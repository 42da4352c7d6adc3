"""What a stranger can make the server hold: closed connections are freed at once (no
reference cycles), and bodies before a login are bounded per connection and in all."""

import gc
import struct
import weakref

from twisted.trial import unittest

from chat.protocol.errors import RATE_LIMITED
from chat.protocol.framing import encode_body_frame
from tests.harness import PASSWORD, Client, make_server

AVATAR = 256 * 1024
FRAME = 262_208


def abusive(server, number):
    """hello, a register announcing a 256 KiB avatar it never finishes, and most of one
    body frame (the attack of issue 16)."""
    client = Client(server)
    client.hello()
    client.send({"type": "register", "id": 5, "username": f"m{number}", "password": PASSWORD,
                 "avatar_type": "image/png", "body": AVATAR})
    client.raw(struct.pack(">I", FRAME) + b"\x01" + struct.pack(">I", 5) + b"x" * 200_000)
    return client


class ClosedConnectionsAreFreedTests(unittest.TestCase):
    def setUp(self):
        gc.collect()
        gc.disable()            # what the frozen start-up heap makes rare: no full collection
        self.addCleanup(gc.enable)

    def test_abusive_connections_are_gone_once_closed(self):
        server = make_server(login_timeout=5)
        refs = []
        for number in range(20):
            client = abusive(server, number)
            refs.append(weakref.ref(client.connection))
        server.clock.advance(5)         # the login timeout says bye ...
        for ref in refs:
            ref().connectionLost(None)  # ... and the transport goes
        del client
        self.assertEqual([ref for ref in refs if ref() is not None], [])
        self.assertEqual(server.prelogin_held, 0)

    def test_a_logged_in_connection_is_freed_too(self):
        server = make_server()
        client = Client(server)
        client.hello()
        client.register("alice")
        client.login("alice")
        client.ok("join", room="lobby")
        ref = weakref.ref(client.connection)
        client.disconnect()
        server.clock.advance(60)
        del client
        self.assertIsNone(ref())


class PreloginBudgetTests(unittest.TestCase):
    def test_bodies_before_a_login_share_one_budget(self):
        server = make_server(prelogin_body_budget=3 * AVATAR)
        clients = [abusive(server, n) for n in range(3)]
        self.assertEqual(server.prelogin_held, 3 * AVATAR)
        late = Client(server)
        late.hello()
        reply = late.request("register", username="late", password=PASSWORD,
                             avatar_type="image/png", body=AVATAR)
        self.assertEqual((reply["code"], reply["retry_after"]), (RATE_LIMITED, 1))
        # a registration without an avatar is not held back
        late.register("plain")
        clients[0].disconnect()
        self.assertEqual(server.prelogin_held, 2 * AVATAR)
        again = Client(server)
        again.hello()
        again.send({"type": "register", "id": 9, "username": "later", "password": PASSWORD,
                    "avatar_type": "image/png", "body": 8})
        again.raw(encode_body_frame(9, b"\x89PNG\r\n\x1a\n"))
        self.assertEqual(again.reply(9)["type"], "ok")
        self.assertEqual(server.prelogin_held, 2 * AVATAR)

    def test_before_a_login_a_big_frame_closes_at_its_length(self):
        server = make_server()
        client = Client(server)
        client.hello()
        # no body announced: a frame longer than a control frame is not buffered at all
        client.raw(struct.pack(">I", FRAME) + b"\x01" + b"x" * 1000)
        self.assertTrue(client.closed)
        self.assertEqual(client.connection._decoder.pending, 0)   # nothing of it was kept
