"""``--irc-port`` and ``--irc-server-name`` of ``twistd chatserver``."""

from twisted.trial import unittest

from chat.server.tap import Options, irc_word


class IrcOptionTests(unittest.TestCase):
    def parse(self, *argv):
        options = Options()
        options.parseOptions(["--lite", *argv])
        return options

    def test_default_no_irc_and_name_from_name(self):
        options = self.parse("--name", "Our School")
        self.assertEqual(options["irc-port"], [])
        self.assertEqual(options["irc-server-name"], "Our-School")

    def test_repeatable_ports_and_own_name(self):
        options = self.parse("--irc-port", "tcp:6667", "--irc-port",
                             "tcp:6668:interface=127.0.0.1", "--irc-server-name", "irc.test")
        self.assertEqual(options["irc-port"], ["tcp:6667", "tcp:6668:interface=127.0.0.1"])
        self.assertEqual(options["irc-server-name"], "irc.test")

    def test_bad_values_are_one_line(self):
        for argv, words in ((["--irc-port", "bogus:1"], "bad --irc-port 'bogus:1'"),
                            (["--irc-port", "tcp:notaport"], "bad --irc-port"),
                            (["--irc-port", "ssl:6697:privateKey=/nonexistent.pem"],
                             "bad --irc-port"),
                            (["--irc-server-name", "a b"], "--irc-server-name must be one ASCII word")):
            with self.assertRaises(SystemExit, msg=argv) as caught:
                self.parse(*argv)
            self.assertIn(words, str(caught.exception))
            self.assertNotIn("\n", str(caught.exception))

    def test_a_name_that_is_not_ascii_gives_chat_and_is_refused_as_server_name(self):
        self.assertEqual(self.parse("--name", "我们的学校")["irc-server-name"], "chat")
        with self.assertRaises(SystemExit) as caught:
            self.parse("--irc-server-name", "学校.example")
        self.assertIn("one ASCII word", str(caught.exception))

    def test_irc_word(self):
        self.assertEqual(irc_word("  a, b!c "), "a-b-c")
        self.assertEqual(irc_word("张伟的服务器"), "张伟的服务器")
