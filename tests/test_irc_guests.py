"""Guests on IRC (``--allow-guests``): registration without SASL or PASS, nick collisions,
and the scenarios of the IRC conformance suite, which connects as guests."""

from twisted.trial import unittest

from chat.server.irc import numerics as N
from chat.server.presence import PRESENCE_INTERVAL
from tests.harness import user
from tests.irc_harness import IRCClient, make_gateway, registered


def guest(gateway, nick, caps=()):
    client = IRCClient(gateway)
    if caps:
        client.send("CAP LS 302", "CAP REQ :" + " ".join(caps))
    client.send(f"NICK {nick}", "USER username * * :Realname")
    if caps:
        client.send("CAP END")
    lines = client.lines()
    assert "001" in [m.command for m in lines], lines
    return client


class GuestTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)
        self.server = self.gateway.server

    def test_a_free_nick_is_a_guest(self):
        foo = guest(self.gateway, "foo")
        self.assertTrue(foo.connection.session.account_id < 0)
        foo.send("WHOIS foo")
        lines = foo.lines()
        self.assertEqual(lines[0].params[1:4], ["foo", "~username", "guest.irc.test"])
        self.assertNotIn(N.RPL_WHOISACCOUNT, [m.command for m in lines])

    def test_nick_collisions(self):
        guest(self.gateway, "foo")
        second = IRCClient(self.gateway)
        second.send("NICK foo", "USER username * * :Realname")
        self.assertEqual(second.commands(), [N.ERR_NICKNAMEINUSE])
        a, b = IRCClient(self.gateway), IRCClient(self.gateway)
        a.send("NICK same")
        b.send("NICK same")
        a.send("USER u * * :r")
        b.send("USER u * * :r")
        welcomed = ["001" in a.commands(), "001" in b.commands()]
        self.assertEqual(sorted(welcomed), [False, True])

    def test_an_account_name_is_reserved(self):
        native = user(self.server, "alice")
        native.disconnect()
        client = IRCClient(self.gateway)
        client.send("NICK Alice", "USER u * * :r")
        self.assertEqual(client.commands(), [N.ERR_NICKNAMEINUSE])

    def test_a_guest_makes_a_room_and_is_its_operator(self):
        foo = guest(self.gateway, "foo")
        foo.send("JOIN #mine")
        lines = foo.lines()
        self.assertEqual([m.command for m in lines], ["JOIN", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])
        self.assertEqual(lines[1].params[-1], "@foo")
        self.assertIsNotNone(self.gateway.room("mine"))
        foo.send("TOPIC #mine :ours", "MODE #mine +t")
        self.assertEqual([m.command for m in foo.lines()], ["TOPIC", "MODE"])
        foo.disconnect()                 # the guest goes, the room and its topic stay
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #mine")
        lines = bar.lines()
        self.assertIn((N.RPL_TOPIC, "ours"), [(m.command, m.params[-1]) for m in lines])
        names = [m for m in lines if m.command == N.RPL_NAMREPLY][0]
        self.assertEqual(names.params[-1], "bar")   # not an operator: the maker was foo

    def test_guests_talk_in_a_channel_and_privately(self):
        owner = registered(self.gateway, "owner")       # an account makes the room
        owner.send("JOIN #chan")
        owner.lines()
        foo = guest(self.gateway, "foo")
        foo.send("JOIN #chan")
        self.assertEqual([m.command for m in foo.lines()], ["JOIN", N.RPL_NAMREPLY,
                                                           N.RPL_ENDOFNAMES])
        owner.lines()
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #chan")
        bar.lines()
        self.assertEqual([(m.command, m.source) for m in foo.lines()],
                         [("JOIN", "bar!~username@guest.irc.test")])
        foo.send("NAMES #chan")
        self.assertEqual(foo.lines()[0].params[-1], "bar foo @owner")
        foo.send("PRIVMSG #chan :hello there")
        self.assertEqual([m.params for m in bar.lines()], [["#chan", "hello there"]])
        bar.send("PRIVMSG foo :hey there!")
        self.assertEqual([m.params for m in foo.lines()], [["foo", "hey there!"]])
        bar.send("QUIT :bar out")
        bar.disconnect()
        quit_ = foo.lines()
        self.assertEqual([(m.command, m.params) for m in quit_], [("QUIT", ["Quit: bar out"])])
        self.server.clock.advance(PRESENCE_INTERVAL)
        self.assertEqual(foo.lines(), [])

    def test_a_guest_gets_no_lobby_noise(self):
        foo = guest(self.gateway, "foo")
        guest(self.gateway, "bar")
        self.server.clock.advance(PRESENCE_INTERVAL)
        self.assertEqual(foo.lines(), [])

    def test_cap_removal_and_server_time_between_guests(self):
        sender = guest(self.gateway, "sender")
        bar = IRCClient(self.gateway)
        bar.send("CAP LS 302", "CAP REQ :echo-message server-time", "nick bar",
                 "user user 0 * realname", "CAP END")
        bar.lines()
        sender.send("PRIVMSG bar :hi")
        self.assertIn("time", bar.lines()[0].tags)
        bar.send("CAP REQ :-server-time", "CAP LIST")
        self.assertEqual([m.params[1:] for m in bar.lines()],
                         [["ACK", "-server-time"], ["LIST", "cap-notify echo-message"]])
