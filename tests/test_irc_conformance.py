"""What the IRC conformance suite (progval's irctest, run against ``--irc-port`` with
``--allow-guests``) expects of a server, checked without sockets: its clients register as
guests, make channels by JOIN, read replies in order (a ``PING`` after a command is its
end marker), and expect NOTICE to stay NOTICE, labelled batches to hold all of a command's
replies, and guests to change nicks."""

from twisted.internet import defer
from twisted.trial import unittest

from chat.server.irc import numerics as N
from chat.server.presence import PRESENCE_INTERVAL
from chat.server.storage.memory import MemoryStorage
from tests.harness import user
from tests.irc_harness import IRCClient, make_gateway, registered
from tests.harness import make_server
from tests.test_irc_guests import guest


class LateStorage(MemoryStorage):
    """MemoryStorage whose room and membership writes finish only when the test says, as
    SQLite's (in a thread) do some time after the request."""

    def __init__(self):
        super().__init__()
        self.late = False
        self.waiting = []

    def _later(self, result):
        if not self.late:
            return result
        d = defer.Deferred()
        self.waiting.append((d, result))
        return d

    def create_room(self, *args):
        return super().create_room(*args).addCallback(self._later)

    def add_member(self, *args):
        return super().add_member(*args).addCallback(self._later)

    def release_all(self):
        while self.waiting:
            d, result = self.waiting.pop(0)
            d.callback(result)


class OrderTests(unittest.TestCase):
    def setUp(self):
        self.storage = LateStorage()
        self.gateway = make_gateway(make_server(self.storage, allow_guests=True))

    def test_replies_come_in_the_order_of_the_commands(self):
        foo = guest(self.gateway, "foo")
        self.storage.late = True
        foo.send("JOIN #chan", "PING sync1", "PRIVMSG #chan :first", "PING sync2")
        self.assertEqual(foo.lines(), [])        # nothing overtakes the JOIN being stored
        self.storage.release_all()
        self.storage.late = False
        commands = [(m.command, m.params[-1]) for m in foo.lines()]
        self.assertEqual([c for c, _ in commands],
                         ["JOIN", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES, "PONG", "PONG"])
        self.assertEqual([p for c, p in commands if c == "PONG"], ["sync1", "sync2"])
        stored = self.gateway.server.conversations.rooms
        self.assertIn("chan", stored)

    def test_a_guest_login_holds_the_lines_after_it(self):
        client = IRCClient(self.gateway)
        client.send("NICK foo", "USER u * * :r", "JOIN #lobby", "PING after")
        commands = client.commands()
        self.assertIn("001", commands)
        self.assertLess(commands.index("001"), commands.index("JOIN"))
        self.assertEqual(commands[-1], "PONG")
        self.assertNotIn(N.ERR_NOTREGISTERED, commands)


class NoticeTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)
        self.caps = ("echo-message", "batch", "labeled-response")

    def test_a_notice_stays_a_notice_live_and_is_a_message_in_the_history(self):
        alice = user(self.gateway.server, "alice")
        foo = guest(self.gateway, "foo", self.caps)
        bar = guest(self.gateway, "bar", self.caps)
        foo.send("JOIN #lobby")
        bar.send("JOIN #lobby")
        foo.lines(), bar.lines()
        foo.send("@label=1 NOTICE #lobby :hello there")
        echo = foo.lines()
        self.assertEqual([(m.command, m.params, m.tags.get("label")) for m in echo],
                         [("NOTICE", ["#lobby", "hello there"], "1")])
        got = [m for m in bar.lines() if m.command in ("NOTICE", "PRIVMSG")]
        self.assertEqual([(m.command, m.params) for m in got],
                         [("NOTICE", ["#lobby", "hello there"])])
        event = alice.events("message")[-1]
        self.assertEqual((event["msg"]["from"], event["msg"]["text"]), ("foo", "hello there"))
        foo.send("PRIVMSG #lobby :and a message")
        self.assertEqual([m.command for m in bar.lines()], ["PRIVMSG"])
        self.assertEqual(self.gateway.notice_cids, set())

    def test_notice_to_oneself_comes_twice_labelled_once(self):
        foo = guest(self.gateway, "foo", self.caps)
        foo.send("@label=12345 NOTICE foo :hi")
        lines = foo.lines()
        self.assertEqual([m.command for m in lines if m.command != "BATCH"], ["NOTICE", "NOTICE"])
        labelled = [m for m in lines if "label" in m.tags]
        self.assertEqual(len(labelled), 1)

    def test_notice_errors_are_never_answered(self):
        foo = guest(self.gateway, "foo")
        foo.send("NOTICE #nonexistent :x", "NOTICE nobody :x", "NOTICE #lobby :x", "NOTICE")
        self.assertEqual(foo.lines(), [])


class LabelledJoinTests(unittest.TestCase):
    def test_every_reply_of_a_labelled_join_is_in_its_batch(self):
        gateway = make_gateway(allow_guests=True)
        bar = guest(gateway, "bar", ("batch", "labeled-response", "message-tags",
                                     "server-time"))
        bar.send("@label=12345 JOIN #xyz", "PING end")
        lines = bar.lines()
        self.assertEqual(lines[-1].command, "PONG")
        batch = lines[:-1]
        self.assertEqual((batch[0].command, batch[0].params[1], batch[0].tags["label"]),
                         ("BATCH", "labeled-response", "12345"))
        ref = batch[0].params[0][1:]
        self.assertRegex(ref, r"^[A-Za-z0-9\-]+$")
        self.assertEqual((batch[-1].command, batch[-1].params), ("BATCH", ["-" + ref]))
        self.assertEqual({m.tags.get("batch") for m in batch[1:-1]}, {ref})
        self.assertEqual([m.command for m in batch[1:-1]],
                         ["JOIN", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])


class SaslAfterRegistrationTests(unittest.TestCase):
    def test_authenticate_after_registration_is_462(self):
        gateway = make_gateway(allow_guests=True)
        foo = guest(gateway, "foo", ("sasl",))
        foo.send("AUTHENTICATE PLAIN")
        self.assertEqual([(m.command, m.params[0]) for m in foo.lines()],
                         [(N.ERR_ALREADYREGISTERED, "foo")])
        alice = registered(gateway, "alice")
        alice.send("AUTHENTICATE PLAIN")
        self.assertEqual(alice.commands(), [N.ERR_ALREADYREGISTERED])


class GuestNickTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)
        self.server = self.gateway.server

    def test_a_guest_changes_its_nick(self):
        alice = user(self.server, "alice")
        foo = guest(self.gateway, "foo")
        bar = guest(self.gateway, "bar")
        for client in (foo, bar):
            client.send("JOIN #chan")
        alice.ok("join", room="chan")
        foo.lines(), bar.lines()
        self.server.clock.advance(PRESENCE_INTERVAL)
        alice.presence_changes()
        foo.send("NICK foo2")
        self.assertEqual([(m.command, m.source, m.params) for m in foo.lines()],
                         [("NICK", "foo!~username@guest.irc.test", ["foo2"])])
        self.assertEqual([(m.command, m.source, m.params) for m in bar.lines()],
                         [("NICK", "foo!~username@guest.irc.test", ["foo2"])])
        self.server.clock.advance(PRESENCE_INTERVAL)
        changes = {(c["user"], c["online"]) for c in alice.presence_changes()}
        self.assertEqual(changes, {("foo", False), ("foo2", True)})
        foo.send("PRIVMSG #chan :renamed")
        said = [m for m in bar.lines() if m.command == "PRIVMSG"][0]
        self.assertEqual(said.source, "foo2!~username@guest.irc.test")
        self.assertEqual(alice.events("message")[-1]["msg"]["from"], "foo2")
        bar.send("WHOIS foo2", "NAMES #chan")
        replies = bar.lines()
        self.assertEqual(replies[0].params[1], "foo2")
        names = [m for m in replies if m.command == N.RPL_NAMREPLY][0]
        self.assertEqual(sorted(names.params[-1].split()), ["@alice", "@foo2", "bar"])
        # the old name is free again, the new one taken
        again = guest(self.gateway, "foo")
        self.assertTrue(again.connection.registered)
        taken = IRCClient(self.gateway)
        taken.send("NICK foo2", "USER u * * :r")
        self.assertEqual(taken.commands(), [N.ERR_NICKNAMEINUSE])

    def test_a_guest_cannot_take_a_taken_name(self):
        native = user(self.server, "alice")
        native.disconnect()
        foo = guest(self.gateway, "foo")
        guest(self.gateway, "bar")
        foo.send("NICK bar", "NICK alice", "NICK ALICE", "NICK #x", "NICK Foo")
        lines = foo.lines()
        self.assertEqual([(m.command, m.params[1]) for m in lines[:4]],
                         [(N.ERR_NICKNAMEINUSE, "bar"), (N.ERR_NICKNAMEINUSE, "alice"),
                          (N.ERR_NICKNAMEINUSE, "ALICE"), (N.ERR_ERRONEUSNICKNAME, "#x")])
        self.assertEqual((lines[4].command, lines[4].params), ("NICK", ["Foo"]))   # case
        self.assertEqual(foo.connection.session.name, "Foo")

    def test_an_account_keeps_its_nick(self):
        alice = registered(self.gateway, "alice")
        alice.send("NICK alice2", "NICK alice")
        self.assertEqual(alice.commands(), [N.ERR_NICKLOCKED])


class ChannelReplyTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)

    def _three(self):
        clients = [guest(self.gateway, nick) for nick in ("foo", "bar", "baz")]
        for client in clients:
            client.send("JOIN #chan")
        for client in clients:
            client.lines()
        return clients

    def test_topic_set_unset_and_no_331_on_join(self):
        foo = guest(self.gateway, "foo")
        foo.send("JOIN #test")
        self.assertNotIn(N.RPL_NOTOPIC, foo.commands())
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #test")
        self.assertNotIn(N.RPL_NOTOPIC, bar.commands())
        bar.send("TOPIC #test")
        self.assertIn(N.RPL_NOTOPIC, bar.commands())
        foo.lines()
        foo.send("TOPIC #test :new topic")
        for client in (foo, bar):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("TOPIC", ["#test", "new topic"])])
        foo.send("TOPIC #test :")
        for client in (foo, bar):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("TOPIC", ["#test", ""])])
        qux = guest(self.gateway, "qux")
        qux.send("JOIN #test")
        self.assertNotIn(N.RPL_NOTOPIC, qux.commands())

    def test_topic_lock_and_topic_time_on_join(self):
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #chan", "MODE #chan +t", "TOPIC #chan :new topic")
        self.assertNotIn(N.ERR_CHANOPRIVSNEEDED, bar.commands())
        qux = guest(self.gateway, "qux")
        qux.send("JOIN #chan")
        qux.lines()
        bar.lines()
        qux.send("TOPIC #chan :mine")
        self.assertEqual(qux.commands(), [N.ERR_CHANOPRIVSNEEDED])
        bar.send("MODE #chan +v qux")
        self.assertEqual(bar.commands(), ["MODE"])
        qux.lines()
        qux.send("TOPIC #chan :mine")
        self.assertEqual(qux.commands(), [N.ERR_CHANOPRIVSNEEDED])   # voice is not enough
        buzz = guest(self.gateway, "buzz")
        buzz.send("JOIN #chan")
        lines = buzz.lines()
        topics = [m for m in lines if m.command == N.RPL_TOPIC]
        self.assertEqual([m.params for m in topics], [["buzz", "#chan", "new topic"]])
        self.assertEqual(len([m for m in lines if m.command == N.RPL_TOPICWHOTIME]), 1)

    def test_kick_with_and_without_a_comment(self):
        foo, bar, baz = self._three()
        foo.send("KICK #chan bar :bye")
        for client in (foo, bar, baz):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("KICK", ["#chan", "bar", "bye"])])
        bar.send("JOIN #chan")
        for client in (foo, bar, baz):
            client.lines()
        foo.send("KICK #chan bar")
        for client in (bar, baz):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("KICK", ["#chan", "bar", "foo"])])

    def test_kick_privileges(self):
        foo = guest(self.gateway, "foo")
        foo.send("JOIN #chan")
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #chan")
        names = [m for m in bar.lines() if m.command == N.RPL_NAMREPLY][0]
        self.assertIn("@foo", names.params[-1].split())
        baz = guest(self.gateway, "baz")
        baz.send("KICK #chan bar")
        self.assertEqual(baz.commands(), [N.ERR_NOTONCHANNEL])
        baz.send("JOIN #chan")
        baz.lines()
        baz.send("KICK #chan bar")
        self.assertEqual(baz.commands(), [N.ERR_CHANOPRIVSNEEDED])
        foo.send("MODE #chan +o baz")
        foo.lines()
        baz.send("KICK #chan bar", "KICK #chan foo")
        self.assertNotIn(N.ERR_CHANOPRIVSNEEDED, baz.commands())
        kicked = [m.params[1] for m in foo.lines() if m.command == "KICK"]
        self.assertEqual(kicked, ["bar", "foo"])
        baz.send("KICK #nothere nick")
        self.assertEqual(baz.commands(), [N.ERR_NOSUCHCHANNEL])

    def test_part_with_a_reason_and_not_on_channel(self):
        foo, bar, baz = self._three()
        foo.send("PART #chan :bye everyone")
        for client in (foo, bar):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("PART", ["#chan", "bye everyone"])])
        foo.send("PART #chan", "PART #nowhere")
        self.assertEqual(foo.commands(), [N.ERR_NOTONCHANNEL, N.ERR_NOSUCHCHANNEL])

    def test_privmsg_errors(self):
        foo = guest(self.gateway, "foo")
        foo.send("JOIN #chan", "PRIVMSG #chan :")
        self.assertEqual([(m.command, m.params[0]) for m in foo.lines()][-1],
                         (N.ERR_NOTEXTTOSEND, "foo"))
        foo.send("PRIVMSG bar :hey", "PRIVMSG #nonexistent :hi")
        self.assertEqual([(m.command, m.params[:2]) for m in foo.lines()],
                         [(N.ERR_NOSUCHNICK, ["foo", "bar"]),
                          (N.ERR_NOSUCHCHANNEL, ["foo", "#nonexistent"])])


class OperatorAndInviteTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)

    def test_the_maker_may_give_up_op_and_then_invites_as_irc_says(self):
        foo, bar, baz = (guest(self.gateway, n) for n in ("foo", "bar", "baz"))
        foo.send("JOIN #chan")
        foo.lines()
        baz.send("JOIN #chan")
        baz.lines(), foo.lines()
        foo.send("MODE #chan -o foo")
        self.assertEqual([(m.command, m.params) for m in foo.lines()],
                         [("MODE", ["#chan", "-o", "foo"])])
        baz.lines()
        foo.send("INVITE bar #chan")          # not +i: any member may invite
        self.assertEqual([(m.command, m.params) for m in foo.lines()],
                         [(N.RPL_INVITING, ["foo", "bar", "#chan"])])
        invite = bar.lines()[0]
        self.assertEqual((invite.command, invite.params), ("INVITE", ["bar", "#chan"]))
        self.assertTrue(invite.source.startswith("foo!"))
        self.assertEqual(baz.lines(), [])     # other members are not told
        baz.send("MODE #chan +i")              # baz is no operator either
        self.assertEqual(baz.commands(), [N.ERR_CHANOPRIVSNEEDED])
        foo.send("JOIN #chan")                 # the maker is operator again at a JOIN? no:
        self.assertEqual(foo.lines(), [])      # already on it, nothing happens
        foo.send("PART #chan", "JOIN #chan")
        names = [m for m in foo.lines() if m.command == N.RPL_NAMREPLY][0]
        self.assertIn("@foo", names.params[-1].split())
        foo.send("MODE #chan +i", "MODE #chan -o foo")
        foo.lines()
        foo.send("INVITE bar #chan")
        self.assertEqual([(m.command, m.params[:2]) for m in foo.lines()],
                         [(N.ERR_CHANOPRIVSNEEDED, ["foo", "#chan"])])

    def test_invite_errors(self):
        foo, bar = guest(self.gateway, "foo"), guest(self.gateway, "bar")
        foo.send("JOIN #chan", "MODE #chan +i")
        foo.lines()
        foo.send("INVITE nobody #chan")
        self.assertEqual(foo.commands(), [N.ERR_NOSUCHNICK])
        bar.send("JOIN #chan")
        self.assertEqual(bar.commands(), [N.ERR_INVITEONLYCHAN])
        bar.send("INVITE foo #chan")
        self.assertEqual(bar.commands(), [N.ERR_NOTONCHANNEL])
        foo.send("INVITE bar #chan")
        foo.lines()
        bar.send("JOIN #chan")
        self.assertIn("JOIN", bar.commands())
        foo.lines()
        foo.send("INVITE bar #chan")
        self.assertEqual([(m.command, m.params[:3]) for m in foo.lines()],
                         [(N.ERR_USERONCHANNEL, ["foo", "bar", "#chan"])])

    def test_channel_operator_mode_errors_are_one_line_each(self):
        chanop, other, unrelated = (guest(self.gateway, n)
                                    for n in ("chanop", "unprivileged", "unrelated"))
        chanop.send("JOIN #chan")
        other.send("JOIN #chan")
        unrelated.send("JOIN #unrelated")
        other.send("JOIN #unrelated")
        for client in (chanop, other, unrelated):
            client.lines()
        cases = [(other, "MODE #chan +o unprivileged", N.ERR_CHANOPRIVSNEEDED),
                 (chanop, "MODE #chan +o unrelated", N.ERR_USERNOTINCHANNEL),
                 (chanop, "MODE #chan +o nobody", N.ERR_NOSUCHNICK),
                 (chanop, "MODE #nonexistentchan +o chanop", N.ERR_NOSUCHCHANNEL),
                 (chanop, "MODE #unrelated +o unprivileged", N.ERR_CHANOPRIVSNEEDED)]
        for client, line, numeric in cases:
            client.send(line)
            self.assertEqual(client.commands(), [numeric], line)
        chanop.send("MODE #chan +o unprivileged")
        for client in (chanop, other):
            self.assertEqual([(m.command, m.params) for m in client.lines()],
                             [("MODE", ["#chan", "+o", "unprivileged"])])


class TagAndNotifyTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True)

    def test_account_tag_on_every_line_of_an_account(self):
        foo = guest(self.gateway, "foo", ("account-tag",))
        jilles = registered(self.gateway, "jilles")
        jilles.lines()
        jilles.send("PRIVMSG foo :hi", "JOIN #chan", "INVITE foo #chan")
        jilles.lines()
        lines = foo.lines()
        self.assertEqual([(m.command, m.tags.get("account")) for m in lines],
                         [("PRIVMSG", "jilles"), ("INVITE", "jilles")])
        foo.send("JOIN #chan")
        foo.lines()
        bar = guest(self.gateway, "bar")
        bar.send("JOIN #chan")
        jilles.send("TOPIC #chan :t")
        lines = foo.lines()
        self.assertEqual([(m.command, m.tags.get("account")) for m in lines],
                         [("JOIN", None), ("TOPIC", "jilles")])   # a guest has no account

    def test_away_notify_when_an_away_user_joins(self):
        foo = guest(self.gateway, "foo", ("away-notify",))
        foo.send("JOIN #chan")
        bar = guest(self.gateway, "bar")
        bar.send("AWAY :i'm already away", "JOIN #chan")
        foo.lines()
        bar.send("AWAY :gone", "AWAY")
        bar.lines()
        foo.send("PING x")
        self.assertEqual([(m.command, m.params) for m in foo.lines()],
                         [("AWAY", ["gone"]), ("AWAY", []), ("PONG", ["irc.test", "x"])])
        bar.send("PART #chan", "AWAY :back later", "JOIN #chan")
        lines = [m for m in foo.lines() if m.command in ("JOIN", "AWAY")]
        self.assertEqual([(m.command, m.params, m.source.split("!")[0]) for m in lines],
                         [("JOIN", ["#chan"], "bar"), ("AWAY", ["back later"], "bar")])
        plain = guest(self.gateway, "plain")
        plain.send("JOIN #chan")
        self.assertNotIn("AWAY", plain.commands())


class WhoTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway(allow_guests=True, name="Test")
        cool = IRCClient(self.gateway)
        cool.send("NICK coolNick", "USER myusernam 0 * :My UniqueReal Name", "JOIN #chan")
        self.cool = cool
        self.other = guest(self.gateway, "otherNick")
        self.other.send("JOIN #chan")
        cool.lines(), self.other.lines()

    def _who(self, mask):
        self.other.send(f"WHO {mask}")
        return self.other.lines()

    def test_who_nick_mask_and_channel(self):
        for mask in ("coolNick", "coolnick", "coolni*", "COOL?ICK"):
            reply, end = self._who(mask)
            self.assertEqual(reply.params, ["otherNick", "*", "~myusernam", "guest.irc.test",
                                            "irc.test", "coolNick", "H",
                                            "0 My UniqueReal Name"], mask)
            self.assertEqual((end.command, end.params[:2]), (N.RPL_ENDOFWHO, ["otherNick", mask]))
        *replies, end = self._who("*")
        self.assertEqual([m.params[5] for m in replies], ["coolNick", "otherNick"])
        self.cool.send("AWAY :be right back")
        *replies, end = self._who("#CHAN")
        self.assertEqual([(m.params[1], m.params[5], m.params[6]) for m in replies],
                         [("#chan", "coolNick", "G@"), ("#chan", "otherNick", "H")])
        self.assertEqual(end.params[1], "#CHAN")
        self.assertEqual(self._who("idontexist"), [self._who("idontexist")[0]])

    def test_invisible_users_are_left_out_of_masks_unless_they_share_a_channel(self):
        evan = guest(self.gateway, "evan")
        evan.send("MODE evan +i")
        self.assertEqual([(m.command, m.params) for m in evan.lines()],
                         [("MODE", ["evan", "+i"])])
        self.assertEqual([m.command for m in self._who("eva*")], [N.RPL_ENDOFWHO])
        self.assertEqual([m.command for m in self._who("evan")],
                         [N.RPL_WHOREPLY, N.RPL_ENDOFWHO])
        evan.send("JOIN #chan")
        self.other.lines(), evan.lines()
        self.assertEqual([m.command for m in self._who("eva*")],
                         [N.RPL_WHOREPLY, N.RPL_ENDOFWHO])
        evan.send("WHO eva*")                  # oneself, always
        self.assertEqual([m.command for m in evan.lines()], [N.RPL_WHOREPLY, N.RPL_ENDOFWHO])


class WhatIRCCannotShowTests(unittest.TestCase):
    """Files and burn-after-reading messages, as docs/IRC.md promises."""

    def setUp(self):
        self.gateway = make_gateway()
        self.server = self.gateway.server
        user(self.server, "root")                      # the admin, out of the way
        self.irc = registered(self.gateway, "alice")
        self.native = user(self.server, "bob")
        self.server.clock.advance(PRESENCE_INTERVAL)
        self.irc.lines()

    def test_a_file_is_a_line_with_its_name_and_size(self):
        from tests.test_server_files import send_file
        send_file(self.native, "@alice", b"x" * 1536, name="report.pdf")
        send_file(self.native, "#lobby", b"y" * 10, name="note.txt")
        lines = [m for m in self.irc.lines() if m.command == "PRIVMSG"]
        self.assertEqual([(m.source.split("!")[0], m.params) for m in lines], [
            ("bob", ["alice", "[file] report.pdf (1.5 KB) - open it in the chat app"]),
            ("bob", ["#lobby", "[file] note.txt (10 bytes) - open it in the chat app"])])
        self.irc.send("CHATHISTORY LATEST bob * 10")
        replayed = [m.params[-1] for m in self.irc.lines() if m.command == "PRIVMSG"]
        self.assertIn("[file] report.pdf (1.5 KB) - open it in the chat app", replayed)

    def test_burn_after_reading_is_not_shown_and_the_irc_user_is_told(self):
        self.native.ok("send", to="#lobby", text="room secret", cid="b1", burn=30)
        self.native.ok("send", to="@alice", text="private secret", cid="b2", burn=30)
        lines = self.irc.lines()
        self.assertEqual([m.command for m in lines], ["NOTICE", "NOTICE"])
        self.assertIn("burn-after-reading message in #lobby", lines[0].params[-1])
        self.assertIn("bob sent you a burn-after-reading message;", lines[1].params[-1])
        for line in lines:
            self.assertNotIn("secret", line.params[-1])
        self.irc.send("CHATHISTORY LATEST #lobby * 10", "CHATHISTORY LATEST bob * 10")
        self.assertFalse([m for m in self.irc.lines() if "secret" in " ".join(m.params)])
        # the message still waits to be read (and burned) in a chat app that can burn it
        later = user(self.server, "alice", register=False)
        history = later.ok("history", conv="@bob")["messages"]
        self.assertIn("private secret", [m.get("text") for m in history])

    def test_irc_users_send_plain_messages_only(self):
        # nothing an IRC client sends asks for burn-after-reading: a tag does not either
        self.irc.send("@+burn=30 PRIVMSG bob :plain")
        msg = self.native.events("message")[-1]["msg"]
        self.assertEqual((msg["text"], msg.get("burn")), ("plain", None))
