"""End-to-end: ``chat-cli --tls`` against the real server listening on a plain and a TLS
port at once (certificate from the server's ``--make-cert`` code)."""

import os
import shutil
import tempfile

from chat.client.tls import KnownServers
from chat.server import certs
from tests.support.cli_process import CliProcess
from tests.support.server_process import free_port
from tests.test_cli_e2e import CLOCK, CliCase


class TLSCliTests(CliCase):
    async def setUp(self):
        self.cert_dir = tempfile.mkdtemp(prefix="chat-tls-cli-")
        self.addCleanup(shutil.rmtree, self.cert_dir, True)
        key, self.cert, self.fp = certs.make_certificate(
            os.path.join(self.cert_dir, "tls"), ["127.0.0.1"])
        _, _, self.other_fp = certs.make_certificate(
            os.path.join(self.cert_dir, "other"), ["127.0.0.1"])
        self.known = os.path.join(self.cert_dir, "known_servers")
        self.tls_port = free_port()
        self.server_args = ["--port", certs.ssl_port_string(key, self.cert, self.tls_port)
                            + ":interface=127.0.0.1"]
        await super().setUp()

    def tls_cli(self, user, *args, **kw):
        cli = CliProcess.spawn(self.tls_port, user, "--tls", *args, **kw)
        self.clis.append(cli)
        return cli

    async def test_talk_over_tls_and_plain_tcp(self):
        alice = self.tls_cli("alice", "--register", "--known-servers", self.known)
        await alice.wait_for(r"Welcome")
        self.assertEqual(KnownServers(self.known).get(f"127.0.0.1:{self.tls_port}"), self.fp)
        bob = await self.online("bob")                       # plain TCP, the default port
        alice.type("hello over TLS")
        await bob.wait_for(CLOCK + r"alice: hello over TLS$")
        bob.type("hi back")
        await alice.wait_for(CLOCK + r"bob: hi back$")
        # with a CA file instead of a pin
        carol = self.tls_cli("carol", "--register", "--ca-file", self.cert)
        carol.type("via the CA file")
        carol.close_stdin()
        self.assertEqual(await carol.wait_exit(), 0, carol.describe())
        await alice.wait_for(CLOCK + r"carol: via the CA file$")

    async def test_a_changed_certificate_is_refused(self):
        KnownServers(self.known).add(f"127.0.0.1:{self.tls_port}", self.other_fp)
        for lang, marker in (("en", "REFUSED"), ("zh", "已拒绝连接")):
            cli = self.tls_cli("alice", "--register", "--known-servers", self.known, lang=lang)
            self.assertEqual(await cli.wait_exit(), 1, cli.describe())
            text = "\n".join(cli.errors)
            self.assertIn(marker, text)
            self.assertIn(self.other_fp, text)
            self.assertIn(self.fp, text)
            self.assertIn(self.known, text)
            self.assertFalse([line for line in cli.lines if "Welcome" in line or "欢迎" in line])

    async def test_tls_options_need_tls(self):
        cli = self.cli("alice", "--ca-file", self.cert)
        self.assertEqual(await cli.wait_exit(), 2, cli.describe())
        self.assertIn("need --tls", "\n".join(cli.errors))
