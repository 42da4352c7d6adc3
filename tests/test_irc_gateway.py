"""The IRC gateway without sockets: IRC clients (IRCConnection on a StringTransport) and
native clients on one ChatServer, each seeing what the other does."""

from twisted.trial import unittest

from chat.server.irc import numerics as N
from chat.server.irc.connection import FLOOD_BURST, MALFORMED_IN_A_ROW, MAX_QUEUED
from chat.server.irc.lines import MAX_LINE
from tests.harness import PASSWORD, user
from tests.irc_harness import IRCClient, make_gateway, registered


def by_command(lines, command):
    return [m for m in lines if m.command == command]


class RegistrationTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway()
        self.server = self.gateway.server

    def test_sasl_login_welcome_and_lobby(self):
        first = user(self.server, "admin")   # the first account is an admin
        first.disconnect()
        alice = user(self.server, "alice")
        alice.disconnect()
        client = IRCClient(self.gateway)
        lines = client.register("alice")
        commands = [m.command for m in lines]
        self.assertLess(commands.index(N.RPL_SASLSUCCESS), commands.index("001"))
        for code in ("001", "002", "003", "004", "005", N.RPL_ENDOFMOTD):
            self.assertIn(code, commands)
        logged_in = by_command(lines, N.RPL_LOGGEDIN)[0]
        self.assertEqual(logged_in.params[:3], ["*", "alice!alice@irc.test", "alice"])
        join = by_command(lines, "JOIN")[0]
        self.assertEqual((join.source, join.params), ("alice!alice@irc.test", ["#lobby"]))
        self.assertIn("alice", by_command(lines, N.RPL_NAMREPLY)[0].params[-1].split())
        self.assertEqual(by_command(lines, "MODE"), [])      # not an admin: no +o
        self.assertTrue(self.server.presence.is_online(self.gateway.account_id("alice")))

    def test_admin_is_an_operator(self):
        client = registered(self.gateway, "boss")           # the first account
        client.send("MODE boss")
        self.assertEqual(by_command(client.lines(), N.RPL_UMODEIS)[0].params[1], "+o")
        client.send("WHOIS boss")
        self.assertIn(N.RPL_WHOISOPERATOR, client.commands())

    def test_chinese_nick_and_case_insensitive_sasl(self):
        native = user(self.server, "张伟")
        native.disconnect()
        client = IRCClient(self.gateway)
        lines = client.register("张伟")
        self.assertEqual(by_command(lines, "001")[0].params[0], "张伟")
        other = user(self.server, "Mike")
        other.disconnect()
        client = IRCClient(self.gateway)
        client.send("CAP LS 302", "CAP REQ sasl", "AUTHENTICATE PLAIN")
        from chat.server.irc.sasl import encode_plain
        for piece in encode_plain("MIKE", PASSWORD):
            client.send("AUTHENTICATE " + piece)
        client.send("NICK whatever", "USER u 0 * :r", "CAP END")
        welcome = by_command(client.lines(), "001")[0]
        self.assertEqual(welcome.params[0], "Mike")          # the nick is the account's name

    def test_pass_logs_in(self):
        native = user(self.server, "carol")
        native.disconnect()
        client = IRCClient(self.gateway)
        client.send("PASS :" + PASSWORD, "NICK carol", "USER u 0 * :Carol")
        self.assertIn("001", client.commands())

    def test_pass_after_nick_user_when_told_to(self):
        native = user(self.server, "dave")
        native.disconnect()
        client = IRCClient(self.gateway)
        client.send("NICK dave", "USER u 0 * :r")
        lines = client.lines()
        self.assertNotIn("001", [m.command for m in lines])
        self.assertEqual(by_command(lines, N.ERR_NICKNAMEINUSE)[0].params[1], "dave")
        client.send("NICK other")
        notice = by_command(client.lines(), "NOTICE")[0]
        self.assertIn("SASL", notice.params[-1])
        client.send("NICK dave", "PASS :" + PASSWORD)
        self.assertIn("001", client.commands())

    def test_wrong_password(self):
        native = user(self.server, "erin")
        native.disconnect()
        client = IRCClient(self.gateway)
        client.send("PASS wrongwrong", "NICK erin", "USER u 0 * :r")
        lines = client.lines()
        self.assertEqual([m.command for m in lines], [N.ERR_PASSWDMISMATCH, "ERROR"])
        self.assertTrue(client.closed)

    def test_sasl_failures(self):
        native = user(self.server, "fay")
        native.disconnect()
        client = IRCClient(self.gateway)
        from chat.server.irc.sasl import encode_plain
        client.send("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN")
        for piece in encode_plain("fay", "not the password"):
            client.send("AUTHENTICATE " + piece)
        self.assertIn(N.ERR_SASLFAIL, client.commands())
        client.send("AUTHENTICATE SCRAM-SHA-256")
        self.assertEqual(client.commands(), [N.RPL_SASLMECHS, N.ERR_SASLFAIL])
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE *")
        self.assertEqual(client.commands(), ["AUTHENTICATE", N.ERR_SASLABORTED])
        client.send("AUTHENTICATE PLAIN", "AUTHENTICATE " + "A" * 401)
        self.assertEqual(client.commands(), ["AUTHENTICATE", N.ERR_SASLTOOLONG])
        client.send("AUTHENTICATE PLAIN")
        for piece in encode_plain("fay", PASSWORD):
            client.send("AUTHENTICATE " + piece)
        self.assertEqual(client.commands(), ["AUTHENTICATE", N.RPL_LOGGEDIN,
                                             N.RPL_SASLSUCCESS])
        client.send("AUTHENTICATE PLAIN")
        self.assertEqual(client.commands(), [N.ERR_SASLALREADY])

    def test_banned_account(self):
        admin = user(self.server, "root")
        victim = user(self.server, "gus")
        victim.disconnect()
        admin.ok("ban", user="gus", reason="spam")
        client = IRCClient(self.gateway)
        client.register("gus")
        self.assertNotIn("001", client.commands())
        client.send("NICK gus", "PASS :" + PASSWORD)
        lines = client.lines()
        self.assertEqual(by_command(lines, N.ERR_YOUREBANNEDCREEP)[0].params[-1],
                         "this account is banned: spam")
        self.assertTrue(client.closed)

    def test_cap_ls_holds_registration_until_end(self):
        native = user(self.server, "hal")
        native.disconnect()
        client = IRCClient(self.gateway)
        client.send("CAP LS", "PASS :" + PASSWORD, "NICK hal", "USER u 0 * :r")
        self.assertNotIn("001", client.commands())
        client.send("CAP END")
        self.assertIn("001", client.commands())

    def test_registration_errors(self):
        client = IRCClient(self.gateway)
        client.send("NICK", "NICK #bad", "NICK a:b", "NICK " + "x" * 40, "USER u 0 *",
                    "USER u 0 * :", "JOIN #a", "PRIVMSG x :y", "FROBNICATE", "CAP FROB")
        self.assertEqual(client.commands(), [
            N.ERR_NONICKNAMEGIVEN, N.ERR_ERRONEUSNICKNAME, N.ERR_ERRONEUSNICKNAME,
            N.ERR_ERRONEUSNICKNAME, N.ERR_NEEDMOREPARAMS, N.ERR_NEEDMOREPARAMS,
            N.ERR_NOTREGISTERED, N.ERR_NOTREGISTERED, N.ERR_UNKNOWNCOMMAND, "410"])
        self.assertFalse(client.closed)

    def test_registration_timeout(self):
        client = IRCClient(self.gateway)
        client.send("NICK lazy")
        self.server.clock.advance(self.server.config.login_timeout + 1)
        self.assertEqual(client.commands(), ["ERROR"])
        self.assertTrue(client.closed)

    def test_ping_before_and_after_registration(self):
        client = IRCClient(self.gateway)
        client.send("PING :abc def")
        pong = client.lines()[0]
        self.assertEqual((pong.command, pong.params), ("PONG", ["irc.test", "abc def"]))
        client.send("PING")
        self.assertEqual(client.commands(), ["409"])

    def test_quit(self):
        client = registered(self.gateway, "ivy")
        client.send("QUIT :bye now")
        error = client.lines()[-1]
        self.assertEqual(error.command, "ERROR")
        self.assertIn("Quit: bye now", error.params[0])
        self.assertTrue(client.closed)

    def test_server_pings_a_silent_client_and_drops_it(self):
        client = registered(self.gateway, "jay")
        config = self.server.config
        self.server.clock.advance(config.ping_after + 0.1)
        self.assertIn("PING", client.commands())
        self.server.clock.advance(config.timeout)
        self.assertEqual(client.commands()[-1], "ERROR")
        self.assertTrue(client.closed)


class BadInputTests(unittest.TestCase):
    def setUp(self):
        self.gateway = make_gateway()

    def test_overlong_line_417_and_connection_stays(self):
        client = IRCClient(self.gateway)
        client.raw(b"PRIVMSG #a :" + b"x" * 600 + b"\r\nPING ok\r\n")
        self.assertEqual(client.commands(), [N.ERR_INPUTTOOLONG, "PONG"])

    def test_line_at_the_limit_and_its_long_pong(self):
        client = IRCClient(self.gateway)
        client.send("PING " + "x" * 505)          # 510 bytes: allowed
        pong = client.lines()[0]                   # lines() checks the 512-byte limit
        self.assertEqual(pong.command, "PONG")
        self.assertIn("x" * 450, pong.params[-1])
        client.send("PING " + "x" * 506)
        self.assertEqual(client.commands(), [N.ERR_INPUTTOOLONG])

    def test_endless_garbage_closes_with_bounded_memory(self):
        client = IRCClient(self.gateway)
        for _ in range(MALFORMED_IN_A_ROW * 3):
            client.raw(b"\xff" * 65536)
            if client.closed:
                break
            self.assertLessEqual(client.connection.reader.buffered, MAX_LINE)
        client.raw(b"\r\n".join([b"\xff\xfe"] * MALFORMED_IN_A_ROW) + b"\r\n")
        self.assertTrue(client.closed)

    def test_bad_utf8_gets_fail(self):
        client = IRCClient(self.gateway)
        client.raw(b"PRIVMSG #a :caf\xe9\r\n")
        fail = client.lines()[0]
        self.assertEqual(fail.command, "FAIL")
        self.assertEqual(fail.params[:2], ["PRIVMSG", "INVALID_UTF8"])

    def test_lines_without_command_are_counted(self):
        client = IRCClient(self.gateway)
        client.raw(b":only.a.source\r\n" * (MALFORMED_IN_A_ROW - 1))
        self.assertFalse(client.closed)
        client.raw(b"PING x\r\n" + b"@tag=only\r\n" * MALFORMED_IN_A_ROW)
        self.assertTrue(client.closed)

    def test_flood_waits_then_too_much_closes(self):
        client = IRCClient(self.gateway)
        clock = self.gateway.server.clock
        client.raw(b"PING a\r\n" * (FLOOD_BURST + 10))
        self.assertEqual(client.commands().count("PONG"), FLOOD_BURST)
        clock.advance(1.0)
        self.assertEqual(client.commands().count("PONG"), 10)     # they waited, none lost
        client.raw(b"PING b\r\n" * (MAX_QUEUED + FLOOD_BURST + 5))
        self.assertEqual(client.lines()[-1].command, "ERROR")
        self.assertTrue(client.closed)

    def test_flood_control_follows_the_options(self):
        config = self.gateway.server.config
        config.irc_flood_burst, config.irc_flood_rate = 5, 2.0
        client = IRCClient(self.gateway)
        client.raw(b"PING a\r\n" * 8)
        self.assertEqual(client.commands().count("PONG"), 5)
        self.gateway.server.clock.advance(1.0)                     # 2 lines a second
        self.assertEqual(client.commands().count("PONG"), 2)
        config.irc_flood_rate = 0                                   # --irc-flood-rate 0: off
        late = IRCClient(self.gateway)
        late.raw(b"PING b\r\n" * (FLOOD_BURST * 3))
        self.assertEqual(late.commands().count("PONG"), FLOOD_BURST * 3)
        self.assertFalse(late.closed)

    def test_slow_reader_is_dropped(self):
        self.gateway.server.config.max_output_buffer = 10_000
        client = registered(self.gateway, "slow")
        client.connection.output.pauseProducing()      # what Twisted does when it is full
        for _ in range(100):
            client.send("PING :" + "p" * 200)
            self.gateway.server.clock.advance(1)
        self.assertTrue(client.transport.disconnecting or client.connection.closed)

    def test_commands_with_missing_params_and_unknown(self):
        client = registered(self.gateway, "kim")
        client.send("JOIN", "PART", "TOPIC", "KICK #a", "INVITE x", "WHOIS", "USERHOST",
                    "MODE", "PRIVMSG", "PRIVMSG #lobby", "NOTICE", "BLAH", "USER a b c d",
                    "PASS x")
        self.assertEqual(client.commands(), [
            N.ERR_NEEDMOREPARAMS] * 8 + [N.ERR_NORECIPIENT, N.ERR_NOTEXTTOSEND,
                                         N.ERR_UNKNOWNCOMMAND, N.ERR_ALREADYREGISTERED,
                                         N.ERR_ALREADYREGISTERED])

    def test_bad_channels_and_nicks(self):
        client = registered(self.gateway, "lou")
        client.send("JOIN lobby", "JOIN #a!b", "JOIN #" + "x" * 40, "PRIVMSG #nope :x",
                    "PRIVMSG nobody :x", "PRIVMSG #bad!chan :x", "NICK bad!nick",
                    "PART #nope", "TOPIC #nope", "WHOIS nobody")
        self.assertEqual(client.commands(), [
            N.ERR_NOSUCHCHANNEL, N.ERR_BADCHANNAME, N.ERR_BADCHANNAME, N.ERR_NOSUCHCHANNEL,
            N.ERR_NOSUCHNICK, N.ERR_NOSUCHCHANNEL, N.ERR_ERRONEUSNICKNAME,
            N.ERR_NOSUCHCHANNEL, N.ERR_NOSUCHCHANNEL, N.ERR_NOSUCHNICK, N.RPL_ENDOFWHOIS])


class NotUTF8Tests(unittest.TestCase):
    def test_fail_names_the_command_or_a_star(self):
        # a defect hypothesis found: b"@\x80" (tags only, not UTF-8) raised IndexError
        for raw, command in ((b"@\x80", "*"), (b"@a=\xff :src PRIVMSG x :y", "PRIVMSG"),
                             (b":\xff", "*"), (b"\xff\xfe", "*"), (b"privmsg #a :\xe9", "PRIVMSG")):
            client = IRCClient(make_gateway())
            client.raw(raw + b"\r\n")
            fail = client.lines()[0]
            self.assertEqual((fail.command, fail.params[:2]), ("FAIL", [command, "INVALID_UTF8"]),
                             raw)
