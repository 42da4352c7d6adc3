"""The client's link state machine (chat.client.link), apart from any connection."""

from automat import NoTransition
from twisted.trial import unittest

from chat.client.link import Link, LinkState


class LinkTests(unittest.TestCase):
    def setUp(self):
        self.heard = []
        self.link = Link(lambda *change: self.heard.append(change))

    def test_first_login_then_a_lost_link_and_a_reconnect(self):
        link = self.link
        self.assertIs(link.state, LinkState.OFFLINE)
        link.connect()
        link.connected()
        link.logged_in()
        link.wait("connection lost", 2.0)
        link.connect()
        link.connected()
        link.logged_in()
        self.assertEqual(self.heard, [
            (LinkState.CONNECTING, None, None), (LinkState.LOGGING_IN, None, None),
            (LinkState.ONLINE, None, None), (LinkState.RECONNECTING, "connection lost", 2.0),
            (LinkState.CONNECTING, None, None), (LinkState.LOGGING_IN, None, None),
            (LinkState.ONLINE, None, None)])
        self.assertIs(link.state, LinkState.ONLINE)

    def test_a_reconnect_that_cannot_connect_waits_again(self):
        link = self.link
        for step in (link.connect, link.connected, link.logged_in):
            step()
        link.wait("connection lost", 1.0)
        link.connect()
        link.wait("connection refused", 2.0)
        self.assertEqual(self.heard[-1], (LinkState.RECONNECTING, "connection refused", 2.0))

    def test_giving_up_from_every_state_ends_offline_with_the_reason(self):
        paths = {
            LinkState.OFFLINE: [],
            LinkState.CONNECTING: ["connect"],
            LinkState.LOGGING_IN: ["connect", "connected"],
            LinkState.ONLINE: ["connect", "connected", "logged_in"],
            LinkState.RECONNECTING: ["connect", "connected", "logged_in", ("wait", "x", 1)],
        }
        for state, path in paths.items():
            heard = []
            link = Link(lambda *change: heard.append(change))
            for step in path:
                if isinstance(step, tuple):
                    getattr(link, step[0])(*step[1:])
                else:
                    getattr(link, step)()
            self.assertIs(link.state, state)
            link.give_up("kicked: spam")
            self.assertIs(link.state, LinkState.OFFLINE)
            self.assertEqual(heard[-1], (LinkState.OFFLINE, "kicked: spam", None))

    def test_what_cannot_happen_is_refused_not_entered(self):
        link = self.link
        for step in (link.connect, link.connected, link.logged_in):
            step()
        with self.assertRaises(NoTransition):
            link.connect()            # a second connect while online is a caller's bug
        with self.assertRaises(NoTransition):
            Link(lambda *_: None).logged_in()     # logged in without being connected
        self.assertIs(link.state, LinkState.ONLINE)
