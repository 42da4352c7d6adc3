"""``typing`` through real ChatConnections (no sockets): relayed to the conversation's other
online members only, as they see the conversation, at most once per 2 s per account and
conversation, never stored (docs/PROTOCOL.md, *typing*)."""

from twisted.trial import unittest

from chat.protocol.errors import FORBIDDEN, NOT_FOUND, NOT_LOGGED_IN
from chat.server.handlers import typing as typing_handlers
from tests.harness import Client, make_server, user


class TypingTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.alice = user(self.server, "alice")
        self.bob = user(self.server, "bob")
        self.carol = user(self.server, "carol")
        self.alice_phone = user(self.server, "alice", register=False)
        for client in (self.alice, self.bob, self.carol, self.alice_phone):
            client.events()

    def test_room_typing_reaches_the_other_members_not_the_typist(self):
        self.assertEqual(self.alice.ok("typing", conv="#lobby"), {"relayed": True})
        expected = [{"type": "typing", "conv": "#lobby", "user": "alice"}]
        self.assertEqual(self.bob.events("typing"), expected)
        self.assertEqual(self.carol.events("typing"), expected)
        self.assertEqual(self.alice.events("typing"), [])
        self.assertEqual(self.alice_phone.events("typing"), [])    # her other device neither

    def test_private_typing_reaches_the_peer_only_as_they_see_the_chat(self):
        self.alice.ok("typing", conv="@bob")
        self.assertEqual(self.bob.events("typing"),
                         [{"type": "typing", "conv": "@alice", "user": "alice"}])
        self.assertEqual(self.carol.events("typing"), [])
        self.assertEqual(self.alice.events("typing"), [])

    def test_a_burst_then_one_per_refill_per_conversation(self):
        relayed = [self.alice.ok("typing", conv="#lobby")["relayed"]
                   for _ in range(typing_handlers.BURST + 2)]
        self.assertEqual(relayed, [True] * typing_handlers.BURST + [False, False])
        self.assertEqual(len(self.bob.events("typing")), typing_handlers.BURST)
        self.assertTrue(self.alice.ok("typing", conv="@bob")["relayed"])  # another conv
        self.clock.advance(typing_handlers.REFILL_EVERY * 0.6)
        self.assertFalse(self.alice.ok("typing", conv="#lobby")["relayed"])
        self.clock.advance(typing_handlers.REFILL_EVERY * 0.6)
        self.assertTrue(self.alice.ok("typing", conv="#lobby")["relayed"])   # one more
        self.assertFalse(self.alice.ok("typing", conv="#lobby")["relayed"])
        # bob's own notices are not limited by alice's
        self.assertTrue(self.bob.ok("typing", conv="#lobby")["relayed"])

    def test_nothing_is_stored_and_offline_members_get_nothing(self):
        self.carol.disconnect()
        self.alice.ok("typing", conv="#lobby")
        self.assertEqual(self.bob.ok("history", conv="#lobby")["messages"], [])
        carol = user(self.server, "carol", register=False)
        self.assertEqual(carol.events("typing"), [])
        self.assertEqual(carol.ok("sync", since=0)["messages"], [])

    def test_bad_conversations_get_the_usual_errors(self):
        self.assertEqual(self.alice.error("typing", conv="@nobody"), NOT_FOUND)
        self.assertEqual(self.alice.error("typing", conv="#nowhere"), NOT_FOUND)
        self.bob.ok("create_room", room="dev")
        self.assertEqual(self.alice.error("typing", conv="#dev"), FORBIDDEN)
        self.assertEqual(self.bob.events("typing"), [])
        stranger = Client(self.server)
        stranger.hello()
        self.assertEqual(stranger.error("typing", conv="#lobby"), NOT_LOGGED_IN)

    def test_memory_of_recent_notices_stays_bounded(self):
        self.patch(typing_handlers, "REMEMBERED_MAX", 3)
        handlers = self.server.typing
        full = typing_handlers.BURST * typing_handlers.REFILL_EVERY
        for client, conv in ((self.alice, "#lobby"), (self.bob, "#lobby"),
                             (self.carol, "#lobby"), (self.alice, "@bob")):
            client.ok("typing", conv=conv)
            self.clock.advance(full + 0.1)
        self.assertLessEqual(len(handlers._buckets), 3)


class TypingWithIRCTests(unittest.TestCase):
    def test_irc_members_of_the_room_are_not_disturbed(self):
        # an IRC connection is a peer of the server like a native one: the typing event is
        # delivered to it and it has nothing to show for it (no line goes out, no error)
        from chat.server.presence import PRESENCE_INTERVAL
        from tests.irc_harness import make_gateway, registered
        gateway = make_gateway()
        server = gateway.server
        user(server, "root")
        irc = registered(gateway, "alice")
        bob = user(server, "bob")
        irc.send("JOIN #dev")
        bob.ok("join", room="dev")
        server.clock.advance(PRESENCE_INTERVAL)
        irc.lines()
        self.assertTrue(bob.ok("typing", conv="#dev")["relayed"])
        self.assertTrue(bob.ok("typing", conv="@alice")["relayed"])
        self.assertEqual(irc.lines(), [])
        irc.send("PRIVMSG #dev :still here")
        self.assertEqual(bob.events("message")[0]["msg"]["text"], "still here")
