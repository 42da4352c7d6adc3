"""Rooms as channels and private chats as PRIVMSG, between IRC and native users (no
sockets): what one does, the other sees; everything sent is stored and in the history."""

from twisted.trial import unittest

from chat.server.irc import numerics as N
from chat.server.presence import PRESENCE_INTERVAL
from tests.harness import user
from tests.irc_harness import make_gateway, registered


def by_command(lines, command):
    return [m for m in lines if m.command == command]


class ChannelTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway()
        self.server = self.gateway.server
        self.admin = user(self.server, "root")         # the first account: an admin
        self.irc = registered(self.gateway, "alice")
        self.native = user(self.server, "bob")
        self.settle()

    def settle(self):
        self.server.clock.advance(PRESENCE_INTERVAL)
        self.irc.lines()
        self.native.events()
        self.admin.events()

    def test_join_creates_room_and_creator_is_op(self):
        self.irc.send("JOIN #dev")
        lines = self.irc.lines()
        self.assertEqual([m.command for m in lines], ["JOIN", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])
        self.assertEqual(lines[1].params[-1], "@alice")
        rooms = self.native.ok("rooms")["rooms"]
        self.assertIn("dev", [r["name"] for r in rooms])
        self.native.ok("join", room="dev")
        join = self.irc.lines()[0]
        self.assertEqual((join.command, join.source, join.params),
                         ("JOIN", "bob!bob@irc.test", ["#dev"]))
        self.irc.send("NAMES #dev")
        self.assertEqual(self.irc.lines()[0].params[-1], "@alice bob")

    def test_join_of_a_room_made_at_the_same_moment_is_a_join(self):
        # two clients join a new channel at once: the other's create lands between our look
        # (no such room) and our create; ours is then a plain join, not 479 "exists already"
        from chat.protocol import commands as C
        gateway, request = self.gateway, self.gateway.request

        def racing(connection, req):
            if isinstance(req, C.CreateRoom):
                gateway.request = request
                self.native.ok("create_room", room=req.room)
            return request(connection, req)
        gateway.request = racing
        self.irc.send("JOIN #race")
        lines = self.irc.lines()
        self.assertEqual([m.command for m in lines], ["JOIN", N.RPL_NAMREPLY, N.RPL_ENDOFNAMES])
        self.assertEqual(sorted(lines[1].params[-1].split()), ["@bob", "alice"])   # bob made it

    def test_messages_both_ways_stored_and_in_history(self):
        self.irc.send("JOIN #dev")
        self.native.ok("join", room="dev")
        self.settle()
        self.irc.send("PRIVMSG #dev :hello from IRC 你好")
        self.assertEqual(self.irc.lines(), [])          # no echo-message: nothing back
        event = self.native.events("message")[0]["msg"]
        self.assertEqual((event["from"], event["conv"], event["text"]),
                         ("alice", "#dev", "hello from IRC 你好"))
        history = self.native.ok("history", conv="#dev")["messages"]
        self.assertEqual([m["text"] for m in history], ["hello from IRC 你好"])
        self.native.ok("send", to="#dev", text="line one\nline two", cid="n1")
        lines = self.irc.lines()
        self.assertEqual([(m.command, m.source, m.params) for m in lines], [
            ("PRIVMSG", "bob!bob@irc.test", ["#dev", "line one"]),
            ("PRIVMSG", "bob!bob@irc.test", ["#dev", "line two"])])

    def test_private_messages_both_ways(self):
        self.irc.send("PRIVMSG bob :psst")
        msg = self.native.events("message")[0]["msg"]
        self.assertEqual((msg["from"], msg["conv"], msg["text"]), ("alice", "@alice", "psst"))
        self.native.ok("send", to="@alice", text="hi back", cid="n2")
        line = self.irc.lines()[0]
        self.assertEqual((line.source, line.params), ("bob!bob@irc.test", ["alice", "hi back"]))
        history = self.native.ok("history", conv="@alice")["messages"]
        self.assertEqual([m["text"] for m in history], ["psst", "hi back"])

    def test_echo_message_with_tags_and_label(self):
        irc = registered(self.gateway, "carol", caps=[
            "echo-message", "server-time", "message-tags", "labeled-response", "batch",
            "account-tag"])
        irc.lines()
        irc.send("@label=abc PRIVMSG #lobby :echoed")
        lines = irc.lines()
        self.assertEqual(len(lines), 1)
        echo = lines[0]
        self.assertEqual((echo.command, echo.params), ("PRIVMSG", ["#lobby", "echoed"]))
        self.assertEqual(echo.tags["label"], "abc")
        self.assertEqual(echo.tags["account"], "carol")
        self.assertTrue(echo.tags["time"].endswith("Z"))
        self.assertTrue(echo.tags["msgid"])
        irc.send("@label=x1 PING t")
        self.assertEqual(irc.lines()[0].tags.get("label"), "x1")
        irc.send("@label=x2 PONG t")
        ack = irc.lines()[0]
        self.assertEqual((ack.command, ack.tags), ("ACK", {"label": "x2"}))
        irc.send("@label=x3 JOIN #labelled")
        lines = irc.lines()
        self.assertEqual(lines[0].command, "BATCH")
        self.assertEqual(lines[0].tags["label"], "x3")
        self.assertEqual(lines[-1].command, "BATCH")
        self.assertTrue(all(m.tags.get("batch") == lines[0].params[0][1:] for m in lines[1:-1]))

    def test_action_and_file_and_burn(self):
        self.irc.send("PRIVMSG bob :\x01ACTION waves\x01")
        msg = self.native.events("message")[0]["msg"]
        self.assertEqual(msg["text"], "/me waves")
        self.native.ok("send", to="@alice", text="/me waves back", cid="a1")
        self.assertEqual(self.irc.lines()[0].params[-1], "\x01ACTION waves back\x01")
        self.native.ok("send", to="@alice", text="secret", cid="b1", burn=30)
        notice = self.irc.lines()[0]
        self.assertEqual(notice.command, "NOTICE")
        self.assertIn("burn-after-reading", notice.params[-1])
        self.assertNotIn("secret", notice.params[-1])

    def test_ctcp_between_irc_users_is_relayed_not_stored(self):
        other = registered(self.gateway, "otto")
        other.lines()
        self.irc.send("PRIVMSG otto :\x01VERSION\x01")
        relay = other.lines()[0]
        self.assertEqual((relay.source, relay.params),
                         ("alice!alice@irc.test", ["otto", "\x01VERSION\x01"]))
        other.send("NOTICE alice :\x01VERSION irssi\x01")
        self.assertEqual(self.irc.lines()[0].params, ["alice", "\x01VERSION irssi\x01"])
        self.assertEqual(self.native.events("message"), [])
        self.assertEqual(self.native.ok("history", conv="#lobby")["messages"], [])
        self.irc.send("PRIVMSG nobody :\x01VERSION\x01")
        self.assertEqual(self.irc.commands(), [N.ERR_NOSUCHNICK])

    def test_part_topic_and_quit_seen_by_native(self):
        self.irc.send("JOIN #dev")
        self.native.ok("join", room="dev")
        self.settle()
        self.irc.send("TOPIC #dev :the plan")
        topic = self.irc.lines()[0]
        self.assertEqual((topic.command, topic.params), ("TOPIC", ["#dev", "the plan"]))
        self.assertEqual(self.native.events("topic")[0]["topic"], "the plan")
        self.irc.send("TOPIC #dev")
        lines = self.irc.lines()
        self.assertEqual([m.command for m in lines], [N.RPL_TOPIC, N.RPL_TOPICWHOTIME])
        self.irc.send("PART #dev :later")
        part = self.irc.lines()[0]
        self.assertEqual((part.command, part.params), ("PART", ["#dev", "later"]))
        self.assertEqual(self.native.events("left")[0]["user"], "alice")
        self.irc.send("QUIT :gone")
        self.assertTrue(self.irc.closed)
        self.irc.disconnect()            # the transport is gone: the reactor says so
        changes = self.native.presence_changes()
        self.assertEqual(changes, [{"user": "alice", "online": False,
                                    "last_seen": changes[0]["last_seen"]}])

    def test_native_part_topic_quit_seen_on_irc(self):
        self.irc.send("JOIN #dev")
        self.native.ok("join", room="dev")
        self.settle()
        self.native.ok("set_topic", room="dev", topic="native topic")
        topic = self.irc.lines()[0]
        self.assertEqual((topic.source, topic.params),
                         ("bob!bob@irc.test", ["#dev", "native topic"]))
        self.native.ok("leave", room="dev")
        part = self.irc.lines()[0]
        self.assertEqual((part.command, part.source), ("PART", "bob!bob@irc.test"))
        self.native.disconnect()
        self.server.clock.advance(PRESENCE_INTERVAL)
        quit_ = self.irc.lines()
        self.assertEqual([(m.command, m.source) for m in quit_],
                         [("QUIT", "bob!bob@irc.test")])
        again = user(self.server, "bob", register=False)
        self.server.clock.advance(PRESENCE_INTERVAL)
        join = self.irc.lines()
        self.assertEqual([(m.command, m.params) for m in join], [("JOIN", ["#lobby"])])
        again.disconnect()

    def test_lobby_cannot_be_left_only_closed(self):
        self.irc.send("PART #lobby")
        self.assertEqual(self.irc.commands(), ["PART"])
        self.native.ok("send", to="#lobby", text="not shown", cid="x")
        self.assertEqual(self.irc.lines(), [])
        self.irc.send("JOIN #lobby")
        self.assertEqual(self.irc.commands()[0], "JOIN")

    def test_modes_kick_invite(self):
        self.irc.send("JOIN #ops")
        self.native.ok("join", room="ops")
        self.settle()
        self.irc.send("MODE #ops")
        self.assertEqual(self.irc.lines()[0].params[-1], "+n")   # members may set topics
        self.irc.send("MODE #ops +o bob")
        mode = self.irc.lines()[0]
        self.assertEqual(mode.params, ["#ops", "+o", "bob"])
        self.irc.send("NAMES #ops")
        self.assertEqual(self.irc.lines()[0].params[-1], "@alice @bob")
        self.irc.send("MODE #ops -o+i bob", "MODE #ops +z")
        self.assertEqual([m.params for m in self.irc.lines()],
                         [["#ops", "-o+i", "bob"], ["alice", "z", "is an unknown mode char to me"]])
        self.irc.send("KICK #ops bob :behave")
        kick = self.irc.lines()[0]
        self.assertEqual((kick.command, kick.params), ("KICK", ["#ops", "bob", "behave"]))
        self.assertEqual(self.native.events("left")[0]["user"], "bob")
        members = self.native.ok("members", room="ops")
        self.assertEqual([m["name"] for m in members["members"]], ["alice"])
        self.irc.send("INVITE bob #ops")
        self.assertEqual(self.irc.commands(), [N.RPL_INVITING])

    def test_invite_only_keeps_irc_users_out(self):
        self.irc.send("JOIN #club", "MODE #club +i")
        self.irc.lines()
        other = registered(self.gateway, "dan")
        other.send("JOIN #club")
        self.assertEqual(other.commands(), [N.ERR_INVITEONLYCHAN])
        self.irc.send("INVITE dan #club")
        self.assertEqual(self.irc.commands(), [N.RPL_INVITING])
        invite = other.lines()[0]
        self.assertEqual((invite.command, invite.params), ("INVITE", ["dan", "#club"]))
        other.send("JOIN #club")
        self.assertEqual(other.commands()[0], "JOIN")

    def test_not_op_cannot(self):
        self.native.ok("create_room", room="natives")
        self.irc.send("JOIN #natives")
        self.irc.lines()
        self.irc.send("MODE #natives +t", "MODE #natives +i", "KICK #natives bob")
        self.assertEqual(self.irc.commands(), [N.ERR_CHANOPRIVSNEEDED] * 3)
        self.irc.send("TOPIC #natives :a member may")
        self.assertEqual(self.irc.commands(), ["TOPIC"])
        self.native.ok("join", room="natives")
        self.irc.send("JOIN #mine", "MODE #mine +t")
        self.irc.lines()
        other = registered(self.gateway, "zed")
        other.send("JOIN #mine", "TOPIC #mine :no")
        self.assertEqual(other.commands()[-1], N.ERR_CHANOPRIVSNEEDED)
        self.irc.lines()
        self.irc.send("PRIVMSG #dev :x")
        self.assertEqual(self.irc.commands(), [N.ERR_NOSUCHCHANNEL])
        self.native.ok("create_room", room="closed")
        self.irc.send("PRIVMSG #closed :x")
        self.assertEqual(self.irc.commands(), [N.ERR_CANNOTSENDTOCHAN])

    def test_who_whois_userhost_list_away(self):
        other = registered(self.gateway, "eve", caps=["away-notify"])
        other.lines()
        self.irc.send("AWAY :lunch")
        self.assertEqual(self.irc.commands(), [N.RPL_NOWAWAY])
        away = other.lines()[0]
        self.assertEqual((away.command, away.source, away.params),
                         ("AWAY", "alice!alice@irc.test", ["lunch"]))
        other.send("WHOIS alice", "USERHOST alice bob nobody", "WHO #lobby", "LIST",
                   "PRIVMSG alice :hi")
        lines = other.lines()
        commands = [m.command for m in lines]
        for code in (N.RPL_WHOISUSER, N.RPL_WHOISCHANNELS, N.RPL_WHOISACCOUNT, N.RPL_AWAY,
                     N.RPL_ENDOFWHOIS, N.RPL_USERHOST, N.RPL_WHOREPLY, N.RPL_ENDOFWHO,
                     N.RPL_LIST, N.RPL_LISTEND):
            self.assertIn(code, commands)
        userhost = by_command(lines, N.RPL_USERHOST)[0].params[-1]
        self.assertEqual(userhost, "alice=-alice@irc.test bob=+bob@irc.test")
        who = {m.params[5]: m.params[6] for m in by_command(lines, N.RPL_WHOREPLY)}
        self.assertEqual(who["alice"], "G")
        self.assertEqual(who["root"], "H*@")
        self.assertEqual(by_command(lines, N.RPL_AWAY)[-1].params[1:], ["alice", "lunch"])
        self.irc.send("AWAY")
        self.assertEqual(self.irc.commands(), ["PRIVMSG", N.RPL_UNAWAY])
        self.assertEqual(other.lines()[0].params, [])

    def test_admin_notice_reaches_irc(self):
        self.admin.ok("notice", text="maintenance at noon")
        notice = self.irc.lines()[0]
        self.assertEqual((notice.command, notice.source), ("NOTICE", "irc.test"))
        self.assertIn("maintenance at noon", notice.params[-1])

    def test_admin_kick_closes_irc(self):
        self.admin.ok("kick", user="alice", reason="test")
        lines = self.irc.lines()
        self.assertEqual(lines[-1].command, "ERROR")
        self.assertTrue(self.irc.closed)

    def test_send_limit_applies(self):
        self.server.config.send_burst = 3
        from chat.server.limits import Limits
        self.server.limits = Limits(self.server.config, self.server.clock)
        self.server.messages.limits = self.server.limits
        for i in range(5):
            self.irc.send(f"PRIVMSG #lobby :m{i}")
        fails = by_command(self.irc.lines(), "FAIL")
        self.assertEqual(len(fails), 2)
        self.assertEqual(fails[0].params[:2], ["PRIVMSG", "RATE_LIMITED"])


class OperatorArrivalTests(unittest.TestCase):
    def test_an_admin_coming_online_is_shown_as_operator(self):
        gateway = make_gateway()
        server = gateway.server
        admin = user(server, "root")          # the first account: an admin
        admin.disconnect()
        irc = registered(gateway, "alice")
        server.clock.advance(PRESENCE_INTERVAL)
        irc.lines()
        back = user(server, "root", register=False)
        server.clock.advance(PRESENCE_INTERVAL)
        lines = irc.lines()
        self.assertEqual([(m.command, m.params) for m in lines],
                         [("JOIN", ["#lobby"]), ("MODE", ["#lobby", "+o", "root"])])
        back.disconnect()


class MessageTagTests(unittest.TestCase):
    """What irctest's message-tags case checks: client-only tags relayed live to clients
    with message-tags, never to others, server tags from clients dropped; TAGMSG."""

    def test_client_tags_and_tagmsg(self):
        gateway = make_gateway()
        alice = registered(gateway, "alice", caps=["message-tags"])
        bob = registered(gateway, "bob", caps=["message-tags", "echo-message"])
        carol = registered(gateway, "carol")
        dave = registered(gateway, "dave", caps=["server-time"])
        clients = (alice, bob, carol, dave)
        for client in clients:
            client.send("JOIN #test")
        for client in clients:
            client.lines()
        alice.send("@+baz=bat;fizz=buzz PRIVMSG #test hi")
        self.assertEqual(alice.lines(), [])
        got = bob.lines()[0]
        self.assertEqual(got.params, ["#test", "hi"])
        self.assertEqual(got.tags["+baz"], "bat")
        self.assertNotIn("fizz", got.tags)
        self.assertTrue(got.tags["msgid"])
        raw = carol.raw_output()
        self.assertTrue(raw.startswith(b":"), raw)       # no tags at all
        dave_got = dave.lines()[0]
        self.assertIn("time", dave_got.tags)
        self.assertNotIn("+baz", dave_got.tags)
        bob.send(r"@+buzz=fizz\:buzz;cat=dog;+steel=wootz TAGMSG #test")
        echo, relay = bob.lines()[0], alice.lines()[0]
        for msg in (echo, relay):
            self.assertEqual((msg.command, msg.params), ("TAGMSG", ["#test"]))
            self.assertEqual((msg.tags["+buzz"], msg.tags["+steel"]), ("fizz;buzz", "wootz"))
            self.assertNotIn("cat", msg.tags)
        self.assertEqual(echo.tags["msgid"], relay.tags["msgid"])
        self.assertEqual(carol.lines(), [])
        self.assertEqual(dave.lines(), [])


class SelfMessageTests(unittest.TestCase):
    """irctest's labeled-response cases: a message to oneself is the echo (labelled) and the
    received copy (not labelled)."""

    def test_privmsg_and_tagmsg_to_self(self):
        gateway = make_gateway()
        foo = registered(gateway, "foo", caps=["echo-message", "batch", "labeled-response",
                                               "message-tags"])
        foo.lines()
        foo.send("@label=12345 PRIVMSG foo :hi")
        lines = foo.lines()
        self.assertEqual([m.command for m in lines], ["PRIVMSG", "PRIVMSG"])
        self.assertEqual(sorted(m.tags.get("label", "") for m in lines), ["", "12345"])
        foo.send("@label=777;+draft/react=x TAGMSG foo")
        lines = foo.lines()
        self.assertEqual([m.command for m in lines], ["TAGMSG", "TAGMSG"])
        self.assertEqual(sorted(m.tags.get("label", "") for m in lines), ["", "777"])

    def test_without_echo_a_message_to_oneself_arrives_once(self):
        gateway = make_gateway()
        foo = registered(gateway, "foo")
        foo.lines()
        foo.send("PRIVMSG foo :note to self")
        lines = foo.lines()
        self.assertEqual([(m.command, m.params) for m in lines],
                         [("PRIVMSG", ["foo", "note to self"])])

    def test_labelled_privmsg_to_several_is_a_batch(self):
        gateway = make_gateway()
        caps = ["echo-message", "batch", "labeled-response"]
        foo = registered(gateway, "foo", caps=caps)
        others = [registered(gateway, name, caps=caps) for name in ("bar", "carl")]
        foo.lines()
        for other in others:
            other.lines()
        foo.send("@label=12345 PRIVMSG bar,carl :hi")
        lines = foo.lines()
        self.assertEqual(lines[0].command, "BATCH")
        self.assertEqual(lines[0].tags["label"], "12345")
        for other in others:
            got = other.lines()[0]
            self.assertNotIn("label", got.tags)


class QuitTests(unittest.TestCase):
    def test_irc_quit_reaches_irc_channel_members_at_once_with_its_reason(self):
        gateway = make_gateway()
        bar = registered(gateway, "bar")
        qux = registered(gateway, "qux")
        bar.send("JOIN #chan")
        qux.send("JOIN #chan")
        bar.lines()
        qux.lines()
        qux.send("QUIT :qux out")
        qux.disconnect()
        quit_ = [m for m in bar.lines() if m.command == "QUIT"]     # no clock advance
        self.assertEqual([(m.source, m.params) for m in quit_],
                         [("qux!qux@irc.test", ["Quit: qux out"])])
        gateway.server.clock.advance(PRESENCE_INTERVAL)
        self.assertEqual(bar.lines(), [])          # the presence notice is not said again

    def test_a_second_connection_keeps_the_user_there(self):
        gateway = make_gateway()
        bar = registered(gateway, "bar")
        qux = registered(gateway, "qux")
        qux2 = registered(gateway, "qux", register_account=False)
        bar.lines()
        qux.send("QUIT :one of two")
        qux.disconnect()
        gateway.server.clock.advance(PRESENCE_INTERVAL)
        self.assertNotIn("QUIT", [m.command for m in bar.lines()])
        qux2.disconnect()
        self.assertEqual([m.params for m in bar.lines() if m.command == "QUIT"],
                         [["Connection closed"]])


class ClientIdTests(unittest.TestCase):
    def test_client_ids_never_repeat_across_connections(self):
        # cids were "irc-<id(connection)>-<n>": a connection made after another was freed
        # gets the same id(), sent the same cids, and the server dropped its messages as
        # repeats of stored ones (the same after a restart)
        import gc
        from chat.server.irc.connection import IRCConnection
        gateway = make_gateway()
        seen = set()
        for _ in range(20):
            connection = IRCConnection(gateway)
            seen.add(connection.next_cid())
            del connection
            gc.collect()
        self.assertEqual(len(seen), 20)

    def test_messages_of_a_new_connection_are_not_taken_for_duplicates(self):
        gateway = make_gateway()
        native = user(gateway.server, "bob")
        for attempt in range(3):
            irc = registered(gateway, "alice", register_account=attempt == 0)
            irc.send(f"PRIVMSG bob :message {attempt}")
            irc.disconnect()
        texts = [e["msg"]["text"] for e in native.events("message")]
        self.assertEqual(texts, ["message 0", "message 1", "message 2"])
