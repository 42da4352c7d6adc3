"""Typing notices in the client core: who is shown typing and for how long
(chat.client.typing.TypingTracker on a task.Clock), and ChatClient against a real ChatServer
in memory: notices sent at most every 3 s, received, cleared by a message, never a failure."""

from twisted.internet import task
from twisted.trial import unittest

from chat.client import typing as client_typing
from chat.client.typing import TypingTracker
from chat.protocol import commands as C
from tests.test_client_core import ClientTestCase


class TrackerTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.tracker = TypingTracker(self.clock)

    def test_a_typist_shows_until_their_notices_stop(self):
        self.tracker.saw("#Lobby", "bob")
        self.assertEqual(self.tracker.typing_in("#lobby"), ["bob"])     # any case
        self.assertEqual(self.tracker.next_change_in(), client_typing.SHOW_FOR)
        self.clock.advance(client_typing.SHOW_FOR - 1)
        self.tracker.saw("#lobby", "Bob")                                # a later notice
        self.clock.advance(2)
        self.assertEqual(self.tracker.typing_in("#lobby"), ["Bob"])
        self.clock.advance(client_typing.SHOW_FOR)
        self.assertEqual(self.tracker.typing_in("#lobby"), [])
        self.assertIsNone(self.tracker.next_change_in())

    def test_order_of_start_and_per_conversation(self):
        self.tracker.saw("#lobby", "bob")
        self.tracker.saw("#lobby", "carol")
        self.tracker.saw("@dave", "dave")
        self.assertEqual(self.tracker.typing_in("#lobby"), ["bob", "carol"])
        self.assertEqual(self.tracker.typing_in("@dave"), ["dave"])
        self.assertEqual(self.tracker.typing_in("#dev"), [])

    def test_a_message_ends_it(self):
        self.tracker.saw("#lobby", "bob")
        self.assertTrue(self.tracker.stopped("#lobby", "BOB"))
        self.assertFalse(self.tracker.stopped("#lobby", "bob"))
        self.assertEqual(self.tracker.typing_in("#lobby"), [])

    def test_own_notices_at_most_every_few_seconds_and_again_after_sending(self):
        self.assertTrue(self.tracker.may_send("@bob"))
        self.clock.advance(1)
        self.assertFalse(self.tracker.may_send("@bob"))
        self.assertTrue(self.tracker.may_send("#lobby"))             # another conversation
        self.clock.advance(client_typing.SEND_EVERY)
        self.assertTrue(self.tracker.may_send("@bob"))
        self.tracker.message_sent("@Bob")
        self.assertTrue(self.tracker.may_send("@bob"))               # the next message


class CoreTypingTests(ClientTestCase):
    def setUp(self):
        super().setUp()
        self.alice = self.client("alice")
        self.bob = self.client("bob")
        self.carol = self.client("carol")
        for client in (self.alice, self.bob, self.carol):
            client.recorder.calls = []

    def typing(self, client, conv):
        result = []
        client.typing(conv).addBoth(result.append)
        self.net.pump()
        self.assertEqual(len(result), 1)
        return result[0]

    def test_notice_reaches_the_others_and_shows_there(self):
        self.assertIs(self.typing(self.alice, "#lobby"), True)
        for other in (self.bob, self.carol):
            self.assertEqual(other.recorder.take("typing"),
                             [{"type": "typing", "conv": "#lobby", "user": "alice"}])
            self.assertEqual(other.typists.typing_in("#lobby"), ["alice"])
        self.assertEqual(self.alice.recorder.take("typing"), [])
        self.typing(self.alice, "@bob")
        self.assertEqual(self.bob.typists.typing_in("@alice"), ["alice"])
        self.assertEqual(self.carol.typists.typing_in("@alice"), [])

    def test_sent_at_most_every_few_seconds(self):
        sent = []
        real_request = self.alice.request

        def request(req, **options):
            sent.append(type(req))
            return real_request(req, **options)
        self.alice.request = request
        results = []
        for _ in range(7):                      # a keystroke every 0.5 s for 3 s
            results.append(self.typing(self.alice, "#lobby"))
            self.advance(0.5, step=0.5)
        self.assertEqual(sent, [C.Typing, C.Typing])     # at 0 s and at 3 s
        self.assertEqual(results, [True, False, False, False, False, False, True])
        self.assertEqual(len(self.bob.recorder.take("typing")), 2)

    def test_a_message_clears_the_notice_at_once(self):
        self.typing(self.alice, "#lobby")
        self.assertEqual(self.bob.typists.typing_in("#lobby"), ["alice"])
        self.alice.send("#lobby", "done typing")
        self.net.pump()
        self.assertEqual(self.bob.typists.typing_in("#lobby"), [])

    def test_expires_without_a_stop_event(self):
        self.typing(self.alice, "#lobby")
        self.advance(client_typing.SHOW_FOR + 1)
        self.assertEqual(self.bob.typists.typing_in("#lobby"), [])

    def test_offline_and_refused_never_fail(self):
        self.assertIs(self.typing(self.alice, "@nobody"), False)       # not_found, swallowed
        self.alice.close()
        self.net.pump()
        self.assertIs(self.typing(self.alice, "#lobby"), False)        # offline: not sent

    def test_a_client_that_does_not_know_the_event_ignores_it(self):
        # an older client's table of server messages has no "typing": the event is dropped
        # without an error and the link stays up
        from unittest import mock
        from chat.client.core import LinkState
        old_table = {k: v for k, v in C.SERVER_MESSAGES.items() if k != "typing"}
        with mock.patch.dict(C.SERVER_MESSAGES, old_table, clear=True):
            self.assertIs(self.typing(self.alice, "@bob"), True)
            self.alice.send("@bob", "still there?")
            self.net.pump()
        self.assertEqual(self.bob.recorder.take("typing"), [])
        self.assertEqual(self.bob.state, LinkState.ONLINE)
        self.assertEqual([m["text"] for m, _ in self.bob.recorder.take("message")],
                         ["still there?"])
