"""IRC registration without sockets: CAP negotiation, SASL PLAIN decoding, the state machine,
the welcome burst and its ISUPPORT tokens."""

from twisted.trial import unittest

from chat.server.irc import numerics as N
from chat.server.irc.caps import CapNegotiation
from chat.server.irc.registration import Registration
from chat.server.irc.sasl import (
    CHUNK, SaslExchange, SaslFailure, decode_plain, encode_plain, failure_lines)
from chat.server.irc.welcome import ServerInfo, isupport_tokens, welcome


class CapTests(unittest.TestCase):
    def test_ls_302_has_values_and_enables_cap_notify(self):
        caps = CapNegotiation()
        lines, effect = caps.handle(["LS", "302"], None, registered=False)
        self.assertEqual(effect, "suspend")
        self.assertEqual(len(lines), 1)
        self.assertEqual(lines[0].params[:2], ["*", "LS"])
        offered = lines[0].params[2].split()
        self.assertIn("sasl=PLAIN", offered)
        self.assertIn("server-time", offered)
        self.assertIn("cap-notify", caps.enabled)

    def test_ls_301_plain_names_one_line(self):
        caps = CapNegotiation()
        lines, _ = caps.handle(["LS"], None, registered=False)
        self.assertEqual(len(lines), 1)
        self.assertNotIn("=", lines[0].params[2])
        self.assertNotIn("cap-notify", caps.enabled)

    def test_ls_302_splits_long_lists_with_star(self):
        available = {f"vendor.example/cap-number-{i}": None for i in range(40)}
        caps = CapNegotiation(available)
        lines, _ = caps.handle(["LS", "302"], "nick", registered=True)
        self.assertGreater(len(lines), 1)
        for line in lines[:-1]:
            self.assertEqual(line.params[2], "*")
            self.assertLess(len(line.to_bytes()), 512)
        names = " ".join(line.params[-1] for line in lines).split()
        self.assertEqual(sorted(names), sorted(available))

    def test_req_all_or_nothing(self):
        caps = CapNegotiation()
        lines, _ = caps.handle(["REQ", "server-time  echo-message"], None, registered=False)
        self.assertEqual(lines[0].params, ["*", "ACK", "server-time echo-message"])
        lines, _ = caps.handle(["REQ", "batch nonsense"], None, registered=False)
        self.assertEqual(lines[0].params, ["*", "NAK", "batch nonsense"])
        self.assertEqual(caps.enabled, {"server-time", "echo-message"})
        lines, _ = caps.handle(["REQ", "-echo-message"], "me", registered=True)
        self.assertEqual(lines[0].params, ["me", "ACK", "-echo-message"])
        self.assertEqual(caps.enabled, {"server-time"})

    def test_list_end_and_bad_subcommand(self):
        caps = CapNegotiation()
        self.assertEqual(caps.handle(["LIST"], None, False)[0][0].params, ["*", "LIST", ""])
        self.assertEqual(caps.handle(["END"], None, False), ([], "end"))
        self.assertEqual(caps.handle(["END"], "me", True), ([], None))
        lines, _ = caps.handle(["FROB"], None, False)
        self.assertEqual(lines[0].command, "410")
        lines, _ = caps.handle([], None, False)
        self.assertEqual(lines[0].command, N.ERR_NEEDMOREPARAMS)

    def test_cap_notify_cannot_be_turned_off_by_302(self):
        caps = CapNegotiation()
        caps.handle(["LS", "302"], None, False)
        lines, _ = caps.handle(["REQ", "-cap-notify"], None, False)
        self.assertEqual(lines[0].params[1], "NAK")


class SaslTests(unittest.TestCase):
    def exchange(self, pieces):
        sasl = SaslExchange()
        lines, creds = sasl.step("PLAIN", None)
        self.assertEqual(lines[0].to_line(), "AUTHENTICATE +")
        for piece in pieces:
            self.assertIsNone(creds)
            lines, creds = sasl.step(piece, None)
        return creds

    def test_plain(self):
        creds = self.exchange(encode_plain("张伟", "secret password"))
        self.assertEqual((creds.authcid, creds.password), ("张伟", "secret password"))

    def test_long_password_in_several_pieces(self):
        pieces = encode_plain("alice", "p" * 900)
        self.assertGreater(len(pieces), 2)
        self.assertEqual(self.exchange(pieces).password, "p" * 900)

    def test_exactly_400_then_plus(self):
        # 300 raw bytes are exactly 400 base64 bytes: the client must end with "+"
        pieces = encode_plain("bob", "x" * (300 - 5))
        self.assertEqual(len(pieces[0]), CHUNK)
        self.assertEqual(pieces[-1], "+")
        self.assertEqual(self.exchange(pieces).password, "x" * 295)

    def test_unknown_mechanism(self):
        sasl = SaslExchange()
        with self.assertRaises(SaslFailure) as caught:
            sasl.step("SCRAM-SHA-256", "nick")
        lines = failure_lines(caught.exception, "nick")
        self.assertEqual([line.command for line in lines], [N.RPL_SASLMECHS, N.ERR_SASLFAIL])
        self.assertEqual(lines[0].params[1], "PLAIN")
        self.assertFalse(sasl.active)

    def test_abort_and_too_long(self):
        sasl = SaslExchange()
        sasl.step("PLAIN", None)
        with self.assertRaises(SaslFailure) as caught:
            sasl.step("*", None)
        self.assertEqual(caught.exception.numeric, N.ERR_SASLABORTED)
        sasl.step("PLAIN", None)
        with self.assertRaises(SaslFailure) as caught:
            sasl.step("A" * 401, None)
        self.assertEqual(caught.exception.numeric, N.ERR_SASLTOOLONG)
        sasl.step("PLAIN", None)
        with self.assertRaises(SaslFailure) as caught:
            for _ in range(30):
                sasl.step("A" * 400, None)
        self.assertEqual(caught.exception.numeric, N.ERR_SASLTOOLONG)

    def test_bad_payloads(self):
        import base64
        for payload in ("!!!notbase64", base64.b64encode(b"only\0two").decode(),
                        base64.b64encode(b"\0\0pw").decode(),
                        base64.b64encode(b"\xff\xfe\0a\0b").decode()):
            with self.assertRaises(SaslFailure, msg=payload) as caught:
                decode_plain(payload)
            self.assertEqual(caught.exception.numeric, N.ERR_SASLFAIL)


class RecordingDriver:
    def __init__(self):
        self.calls = []

    def check_login(self, registration):
        self.calls.append(("check", registration.nick))

    def welcome(self, registration):
        self.calls.append(("welcome", registration.nick))


class RegistrationTests(unittest.TestCase):
    def test_nick_user_then_check_then_welcome(self):
        driver = RecordingDriver()
        reg = Registration(driver)
        reg.set_user("u", "Real Name")
        self.assertEqual(driver.calls, [])
        reg.set_nick("alice")
        self.assertEqual(driver.calls, [("check", "alice")])
        self.assertEqual(reg.state_name, "checking")
        reg.accepted()
        self.assertEqual(driver.calls[-1], ("welcome", "alice"))
        self.assertTrue(reg.is_registered)

    def test_cap_holds_registration_until_end(self):
        driver = RecordingDriver()
        reg = Registration(driver)
        reg.cap_begin()
        reg.set_nick("alice")
        reg.set_user("u", "r")
        self.assertEqual(driver.calls, [])
        self.assertEqual(reg.state_name, "negotiating")
        reg.cap_end()
        self.assertEqual(driver.calls, [("check", "alice")])

    def test_refused_then_another_nick(self):
        driver = RecordingDriver()
        reg = Registration(driver)
        reg.set_nick("taken")
        reg.set_user("u", "r")
        reg.refused()
        self.assertEqual(reg.state_name, "waiting")
        reg.set_nick("free")
        reg.accepted()
        self.assertEqual(driver.calls, [("check", "taken"), ("check", "free"),
                                        ("welcome", "free")])

    def test_lost_in_any_state_and_late_results_ignored(self):
        for steps in ([], ["cap"], ["nick", "user"]):
            driver = RecordingDriver()
            reg = Registration(driver)
            for step in steps:
                {"cap": reg.cap_begin, "nick": lambda: reg.set_nick("a"),
                 "user": lambda: reg.set_user("u", "r")}[step]()
            reg.lost()
            self.assertTrue(reg.is_closed)
            reg.accepted()          # a password check that ends after the connection
            reg.cap_end()
            self.assertTrue(reg.is_closed)
            self.assertNotIn("welcome", [c[0] for c in driver.calls])


class WelcomeTests(unittest.TestCase):
    def test_burst(self):
        info = ServerInfo(name="irc.example", network="Example Net")
        lines = welcome(info, "张伟", "~u@127.0.0.1")
        commands = [line.command for line in lines]
        self.assertEqual(commands[:4], ["001", "002", "003", "004"])
        self.assertIn("005", commands)
        self.assertEqual(commands[-1], N.RPL_ENDOFMOTD)
        self.assertIn(N.RPL_MOTDSTART, commands)
        for line in lines:
            self.assertEqual(line.params[0], "张伟")
            self.assertLessEqual(len(line.to_bytes()), 512)
        tokens = [t for line in lines if line.command == "005" for t in line.params[1:-1]]
        self.assertEqual(tokens, isupport_tokens(info))
        names = {t.split("=")[0] for t in tokens}
        for name in ("CHANTYPES", "PREFIX", "CHANMODES", "NETWORK", "CASEMAPPING", "NICKLEN",
                     "CHANNELLEN", "TOPICLEN", "UTF8ONLY"):
            self.assertIn(name, names)
        self.assertIn("NETWORK=Example\\x20Net", tokens)
        self.assertIn("CASEMAPPING=rfc8265", tokens)

    def test_no_motd(self):
        lines = welcome(ServerInfo(name="s", network="n", motd=()), "a", "~u@h")
        self.assertEqual(lines[-1].command, N.ERR_NOMOTD)


class IsupportEscapeTests(unittest.TestCase):
    def test_tokens_are_ascii_even_for_a_chinese_network_name(self):
        info = ServerInfo(name="irc.test", network="学校 Chat=1")
        tokens = isupport_tokens(info)
        self.assertTrue(all(token.isascii() for token in tokens), tokens)
        network = [t for t in tokens if t.startswith("NETWORK=")][0]
        self.assertEqual(network, "NETWORK=\\xE5\\xAD\\xA6\\xE6\\xA0\\xA1\\x20Chat\\x3D1")
        self.assertEqual(network.count("="), 1)      # clients split KEY=value once
