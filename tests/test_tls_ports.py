"""chat-cli on the wrong kind of port: plain TCP to a TLS port, and --tls to a plain port,
are each one clear line (English and Chinese) instead of "Connection to the server lost"."""

from tests import test_tls_cli
from tests.support.cli_process import CliProcess


class WrongPortTests(test_tls_cli.TLSCliTests):
    """The TLS test server (a plain and a TLS port); its own tests run in test_tls_cli."""

    test_talk_over_tls_and_plain_tcp = None
    test_a_changed_certificate_is_refused = None
    test_tls_options_need_tls = None

    def spawn(self, port, *args, lang="en"):
        cli = CliProcess.spawn(port, "alice", "--register", *args, lang=lang)
        self.clis.append(cli)
        return cli

    async def test_plain_tcp_to_a_tls_port_says_add_tls(self):
        for lang, words in (("en", "this port speaks TLS: add --tls"),
                            ("zh", "该端口使用 TLS，请加上 --tls")):
            cli = self.spawn(self.tls_port, lang=lang)
            self.assertEqual(await cli.wait_exit(), 1, cli.describe())
            self.assertEqual(len(cli.errors), 1, cli.describe())
            self.assertIn(words, cli.errors[0], cli.describe())
            self.assertIn(f"127.0.0.1:{self.tls_port}", cli.errors[0])

    async def test_tls_to_a_plain_port_says_leave_out_tls(self):
        for lang, words in (("en", "this port does not speak TLS: leave out --tls"),
                            ("zh", "该端口不使用 TLS，请去掉 --tls")):
            cli = self.spawn(self.server.port, "--tls", "--known-servers",
                             self.known, lang=lang)
            self.assertEqual(await cli.wait_exit(), 1, cli.describe())
            self.assertEqual(len(cli.errors), 1, cli.describe())
            self.assertIn(words, cli.errors[0], cli.describe())
