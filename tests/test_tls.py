"""TLS: ``--make-cert``, ``--port ssl:...`` next to a plain port, the client core over real
loopback TLS with trust on first use and with CA files, and the TLS 1.2 minimum.

The certificates are made by the server's own ``--make-cert`` code into a temporary folder.
"""

import datetime
import os
import shutil
import socket
import ssl
import tempfile
import warnings

from cryptography import x509
from OpenSSL import SSL
from twisted.internet import endpoints, reactor, threads
from twisted.internet.task import deferLater
from twisted.trial import unittest

from chat.client.core import CannotConnect, ChatClient, LinkState
from chat.client.tls import (
    CertificateChanged, CertificateNotTrusted, KnownServers, PinningConnectionCreator,
    TLSOptions, default_known_servers, fingerprint, server_key, tls_connector)
from chat.server import certs, tap
from tests.support.server_process import TWISTD, ServerProcess, free_port, run_command
from tests.support.wire import login_client
from tests.test_e2e import FAST_HASH, PASSWORDS, with_server_output


def make_cert(folder, names=("127.0.0.1", "localhost")):
    key, cert, fp = certs.make_certificate(folder, list(names))
    return key, cert, fp


class MakeCertTests(unittest.TestCase):
    def temp_dir(self):
        path = tempfile.mkdtemp(prefix="chat-tls-test-")
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def test_certificate(self):
        folder = os.path.join(self.temp_dir(), "tls")
        key_path, cert_path, fp = make_cert(folder, ["myhost", "localhost", "127.0.0.1",
                                                     "10.0.0.5", "::1"])
        self.assertEqual(os.stat(key_path).st_mode & 0o777, 0o600)
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        from cryptography.hazmat.primitives.serialization import Encoding
        self.assertEqual(fingerprint(cert.public_bytes(Encoding.DER)), fp)
        self.assertRegex(fp, r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        self.assertEqual(san.get_values_for_type(x509.DNSName), ["myhost", "localhost"])
        self.assertEqual([str(ip) for ip in san.get_values_for_type(x509.IPAddress)],
                         ["127.0.0.1", "10.0.0.5", "::1"])
        # a leaf: whoever trusts this file as a CA trusts nothing else its key signs
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
        self.assertFalse(constraints.value.ca)
        self.assertTrue(constraints.critical)
        self.assertFalse(cert.extensions.get_extension_for_class(x509.KeyUsage).value
                         .key_cert_sign)
        self.assertEqual(list(cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage).value), [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH])
        valid = cert.not_valid_after_utc - cert.not_valid_before_utc
        self.assertGreater(valid, datetime.timedelta(days=3649))
        self.assertRaises(FileExistsError, make_cert, folder)

    def test_parse_names(self):
        self.assertEqual(certs.parse_names(" host1, 10.0.0.5,,fe80::1 "),
                         ["host1", "10.0.0.5", "fe80::1"])
        self.assertEqual(certs.parse_names(None), [])
        for bad in ("a b", "x..y", "host/1"):
            self.assertRaises(ValueError, certs.parse_names, bad)

    def test_ssl_port_string_quotes_colons(self):
        text = certs.ssl_port_string("/a:b/key.pem", "/c/cert.pem", 5443)
        self.assertEqual(text, r"ssl:5443:privateKey=/a\:b/key.pem:certKey=/c/cert.pem")

    async def test_make_cert_command(self):
        data = os.path.join(self.temp_dir(), "data")
        command = TWISTD + ["chatserver", "--make-cert", "--data-dir", data,
                            "--cert-names", "chat.example.org,10.0.0.5"]
        code, out, err = await run_command(command)
        self.assertEqual(code, 0, out + err)
        key_path = os.path.join(data, "tls", "key.pem")
        cert_path = os.path.join(data, "tls", "cert.pem")
        self.assertTrue(os.path.isfile(key_path) and os.path.isfile(cert_path))
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        from cryptography.hazmat.primitives.serialization import Encoding
        fp = fingerprint(cert.public_bytes(Encoding.DER))
        self.assertIn(f"SHA-256 fingerprint: {fp}", out)
        port_line = [line for line in out.splitlines() if line.startswith("listen with: ")]
        self.assertEqual(len(port_line), 1, out)
        port_string = port_line[0].split("--port ", 1)[1]
        self.assertTrue(port_string.startswith("ssl:5443:privateKey="), port_string)
        # what it prints is a --port that the server takes
        options = tap.Options()
        options.parseOptions(["--data-dir", data, "--port", port_string])
        self.assertEqual(options["port"], [port_string])
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        self.assertIn("chat.example.org", san.get_values_for_type(x509.DNSName))
        self.assertIn(socket.gethostname(), san.get_values_for_type(x509.DNSName))
        self.assertIn("10.0.0.5", [str(a) for a in san.get_values_for_type(x509.IPAddress)])
        # a second run refuses to replace the certificate (clients have pinned it)
        code, out, err = await run_command(command)
        self.assertEqual(code, 1)
        self.assertIn("exists already", err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        code, out, err = await run_command(
            TWISTD + ["chatserver", "--make-cert", "--data-dir", data, "--cert-names", "a b"])
        self.assertEqual(code, 1)
        self.assertIn("bad --cert-names", err)


class PortOptionTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chat-tls-test-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.key, self.cert, self.fp = make_cert(os.path.join(self.dir, "tls"))

    def ssl_port(self, port=5443, **extra):
        text = certs.ssl_port_string(self.key, self.cert, port)
        return text + "".join(f":{k}={v}" for k, v in extra.items())

    def test_plain_and_tls_ports_together(self):
        options = tap.Options()
        options.parseOptions(["--data-dir", os.path.join(self.dir, "data"),
                              "--port", "tcp:5000", "--port", self.ssl_port()])
        self.assertEqual(options["port"], ["tcp:5000", self.ssl_port()])

    def test_bad_tls_ports_are_one_line(self):
        for port in (f"ssl:5443:privateKey={self.dir}/missing.pem",
                     f"ssl:5443:privateKey={self.cert}:certKey={self.cert}",
                     self.ssl_port(sslmethod="TLSv1_METHOD")):
            with self.assertRaises(SystemExit) as caught:
                tap.Options().parseOptions(["--data-dir", os.path.join(self.dir, "data"),
                                            "--port", port])
            message = str(caught.exception.code)
            self.assertTrue(message.startswith("chatserver: error: bad --port"), message)
            self.assertNotIn("\n", message)

    def server_context(self, **extra):
        with warnings.catch_warnings():
            # neither Twisted's nor pyOpenSSL's deprecated paths (method=, pyOpenSSL X509)
            warnings.simplefilter("error", DeprecationWarning)
            endpoint = certs.server_endpoint(reactor, self.ssl_port(**extra))
            self.assertIsInstance(endpoint, endpoints.SSL4ServerEndpoint)
            return endpoint._sslContextFactory.getContext()

    def test_server_context_refuses_below_tls_1_2(self):
        options = self.server_context().set_options(0)
        for flag in (SSL.OP_NO_SSLv3, SSL.OP_NO_TLSv1, SSL.OP_NO_TLSv1_1):
            self.assertTrue(options & flag, hex(flag))
        self.assertFalse(options & SSL.OP_NO_TLSv1_2)
        self.assertIsInstance(certs.server_endpoint(reactor, "tcp:0"),
                              endpoints.TCP4ServerEndpoint)

    def test_server_offers_only_forward_secret_aead_suites(self):
        names = SSL.Connection(self.server_context()).get_cipher_list()
        tls12 = [n for n in names if not n.startswith("TLS_")]   # 1.3 suites are all AEAD
        self.assertTrue(tls12, names)
        for name in tls12:
            self.assertTrue(name.startswith("ECDHE-"), name)
            self.assertRegex(name, r"GCM|CHACHA20", name)
            self.assertNotIn("CBC", name)
            self.assertFalse(name.endswith("-SHA"), name)
        self.assertIn("ECDHE-ECDSA-CHACHA20-POLY1305", names)

    def test_ssl_port_options_as_twisted_parses_them(self):
        endpoint = certs.server_endpoint(
            reactor, self.ssl_port(6443, interface="127.0.0.1", backlog=7))
        self.assertEqual((endpoint._port, endpoint._interface, endpoint._backlog),
                         (6443, "127.0.0.1", 7))
        # certKey defaults to privateKey when both are in one file
        both = os.path.join(self.dir, "both.pem")
        with open(both, "wb") as out:
            for path in (self.key, self.cert):
                with open(path, "rb") as f:
                    out.write(f.read())
        endpoint = certs.server_endpoint(reactor, "ssl:6443:privateKey="
                                         + endpoints.quoteStringArgument(both))
        self.assertEqual(endpoint._port, 6443)
        for bad in ("ssl:privateKey=" + self.key, "ssl:6443", self.ssl_port(colour="red")):
            self.assertRaises(ValueError, certs.server_endpoint, reactor, bad)

    def test_client_context_refuses_below_tls_1_2(self):
        creator = PinningConnectionCreator("127.0.0.1", "127.0.0.1:1",
                                           KnownServers(os.path.join(self.dir, "k")))
        options = creator._options.getContext().set_options(0)
        for flag in (SSL.OP_NO_SSLv3, SSL.OP_NO_TLSv1, SSL.OP_NO_TLSv1_1):
            self.assertTrue(options & flag, hex(flag))


class KnownServersTests(unittest.TestCase):
    def test_file(self):
        folder = tempfile.mkdtemp(prefix="chat-tls-test-")
        self.addCleanup(shutil.rmtree, folder, True)
        known = KnownServers(os.path.join(folder, "sub", "known_servers"))
        self.assertIsNone(known.get("h:1"))
        known.add("h:1", "AA:BB")
        known.add("[::1]:2", "CC:DD")
        self.assertEqual((known.get("h:1"), known.get("[::1]:2")), ("AA:BB", "CC:DD"))
        self.assertTrue(known.remove("h:1"))
        self.assertIsNone(known.get("h:1"))
        self.assertEqual(known.get("[::1]:2"), "CC:DD")

    def test_names(self):
        self.assertEqual(server_key("Chat.Example.org", 5443), "chat.example.org:5443")
        self.assertEqual(server_key("::1", 5443), "[::1]:5443")
        self.patch(os, "environ", {"XDG_CONFIG_HOME": "/x"})
        self.assertEqual(default_known_servers(), "/x/chat/known_servers")


class TLSEndToEnd(unittest.TestCase):
    """The real server with a plain and a TLS port; the client core over loopback TLS."""

    timeout = 60

    async def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chat-tls-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.key, self.cert, self.fp = make_cert(os.path.join(self.tmp, "tls"), ["127.0.0.1"])
        # another certificate: what an impostor (or a re-made certificate) would present
        _, self.other_cert, self.other_fp = make_cert(os.path.join(self.tmp, "other"))
        self.known = os.path.join(self.tmp, "home", "known_servers")
        self.tls_port = free_port()
        self.server = ServerProcess(os.path.join(self.tmp, "server"), args=FAST_HASH + [
            "--port", certs.ssl_port_string(self.key, self.cert, self.tls_port)
            + ":interface=127.0.0.1"])
        self.servers = [self.server]
        self.addCleanup(self.server.stop)
        await self.server.start()
        self.clients = []
        self.addCleanup(self._close)

    def _close(self):
        for client in self.clients:
            client.close()

    def client(self, **tls):
        tls.setdefault("known_servers", self.known)
        connect = tls_connector(reactor, "127.0.0.1", self.tls_port, TLSOptions(**tls),
                                timeout=5)
        client = ChatClient(connect, reactor, client_name="tls-test")
        self.clients.append(client)
        return client

    async def failed_login(self, client, name="alice"):
        try:
            await client.login(name, PASSWORDS[name], register=True)
        except CannotConnect as exc:
            return exc
        self.fail("the login over TLS should have failed")

    async def account_is_free(self, name):
        """No account ``name`` was made: registering it over the plain port works."""
        plain = await login_client(self.server.port, name, PASSWORDS[name], register=True)
        await plain.abort()

    @with_server_output
    async def test_plain_and_tls_at_once_and_the_pin_is_kept(self):
        client = self.client()
        data = await client.login("alice", PASSWORDS["alice"], register=True)
        self.assertEqual(data["user"]["name"], "alice")
        self.assertIs(client.state, LinkState.ONLINE)
        pinned = KnownServers(self.known).get(f"127.0.0.1:{self.tls_port}")
        self.assertEqual(pinned, self.fp)
        # the plain port serves at the same time, the same server
        bob = await login_client(self.server.port, "bob", PASSWORDS["bob"], register=True)
        self.addCleanup(bob.abort)
        users = (await bob.request("users", online=True))["users"]
        self.assertIn("alice", [u["name"] for u in users])
        client.close()
        # the same certificate again: accepted, nothing added to the file
        again = self.client()
        await again.login("alice", PASSWORDS["alice"])
        with open(self.known, encoding="utf-8") as f:
            self.assertEqual(f.read(), f"127.0.0.1:{self.tls_port} {self.fp}\n")

    @with_server_output
    async def test_a_changed_certificate_is_refused(self):
        KnownServers(self.known).add(f"127.0.0.1:{self.tls_port}", self.other_fp)
        client = self.client()
        exc = await self.failed_login(client)
        self.assertIsInstance(exc.error, CertificateChanged)
        self.assertIn(self.other_fp, exc.reason)           # the pinned one
        self.assertIn(self.fp, exc.reason)                 # the one presented
        self.assertIn(self.known, exc.reason)              # where to remove the pin
        self.assertEqual((exc.error.pinned, exc.error.presented), (self.other_fp, self.fp))
        self.assertIs(client.state, LinkState.OFFLINE)
        self.assertTrue(client.gave_up)
        await self.account_is_free("alice")
        # the pin stays as it was
        self.assertEqual(KnownServers(self.known).get(f"127.0.0.1:{self.tls_port}"),
                         self.other_fp)

    @with_server_output
    async def test_a_reconnect_to_a_changed_certificate_gives_up(self):
        client = self.client()
        await client.login("alice", PASSWORDS["alice"], register=True)
        server = f"127.0.0.1:{self.tls_port}"
        KnownServers(self.known).remove(server)
        KnownServers(self.known).add(server, self.other_fp)   # as if the server changed
        states = []
        client.listener.on_state = lambda state, reason=None, retry_in=None: \
            states.append((state, reason))
        await self.server.restart()
        for _ in range(400):
            if client.gave_up:
                break
            await deferLater(reactor, 0.05, lambda: None)
        self.assertTrue(client.gave_up, states)
        self.assertIs(client.state, LinkState.OFFLINE)
        self.assertIn(self.other_fp, states[-1][1])
        self.assertIn(self.fp, states[-1][1])

    @with_server_output
    async def test_ca_file(self):
        client = self.client(ca_file=self.cert)
        await client.login("alice", PASSWORDS["alice"], register=True)
        self.assertFalse(os.path.exists(self.known))      # no pinning with a CA
        wrong = self.client(ca_file=self.other_cert)
        exc = await self.failed_login(wrong, "bob")
        self.assertIsInstance(exc.error, CertificateNotTrusted)
        self.assertIn("not trusted", exc.reason)
        await self.account_is_free("bob")

    @with_server_output
    async def test_ca_file_and_the_wrong_host_name(self):
        # the certificate names 127.0.0.1 only; localhost reaches the same server
        connect = tls_connector(reactor, "localhost", self.tls_port,
                                TLSOptions(ca_file=self.cert), timeout=5)
        wrong = ChatClient(connect, reactor)
        self.clients.append(wrong)
        exc = await self.failed_login(wrong, "bob")
        self.assertIsInstance(exc.error, CertificateNotTrusted)
        self.assertIn("localhost", exc.reason)
        await self.account_is_free("bob")

    @with_server_output
    async def test_tls_client_on_the_plain_port(self):
        connect = tls_connector(reactor, "127.0.0.1", self.server.port,
                                TLSOptions(known_servers=self.known), timeout=5,
                                handshake_timeout=5)
        client = ChatClient(connect, reactor)
        self.clients.append(client)
        exc = await self.failed_login(client)
        self.assertIn("TLS", exc.reason)
        self.assertFalse(os.path.exists(self.known))

    @with_server_output
    async def test_tls_1_1_is_refused_and_1_2_accepted(self):
        def context_for(version):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)   # TLS 1.1: the point
                context.minimum_version = version
                context.maximum_version = version
            context.set_ciphers("DEFAULT:@SECLEVEL=0")   # OpenSSL 3 hides TLS 1.1 above 0
            return context

        def handshake(context):
            with socket.create_connection(("127.0.0.1", self.tls_port), timeout=5) as sock:
                try:
                    with context.wrap_socket(sock) as tls:
                        return tls.version()
                except OSError as exc:       # ssl.SSLError, or the server hung up
                    return f"refused: {exc}"

        modern = context_for(ssl.TLSVersion.TLSv1_2)
        self.assertEqual(await threads.deferToThread(handshake, modern), "TLSv1.2")
        try:
            old = context_for(ssl.TLSVersion.TLSv1_1)
        except (ValueError, ssl.SSLError) as exc:
            raise unittest.SkipTest(f"this Python/OpenSSL cannot offer TLS 1.1: {exc}")
        result = await threads.deferToThread(handshake, old)
        if "NO_PROTOCOLS_AVAILABLE" in result:
            raise unittest.SkipTest(f"this OpenSSL cannot offer TLS 1.1: {result}")
        self.assertTrue(result.startswith("refused"), result)


class CliOptionTests(unittest.TestCase):
    def settings(self, *argv):
        from chat.cli.options import settings_from
        return settings_from(["--user", "alice", *argv], "chat-cli", False,
                             environ={"CHAT_PASSWORD": "pw"})

    def test_tls_options(self):
        self.assertIsNone(self.settings().tls_options())
        self.assertEqual(self.settings("--tls").tls_options(), TLSOptions())
        self.assertEqual(self.settings("--tls", "--ca-file", "ca.pem",
                                       "--known-servers", "k").tls_options(),
                         TLSOptions(ca_file="ca.pem", known_servers="k"))
        self.assertTrue(self.settings("--tls", "--system-ca").tls_options().system_ca)
        self.assertEqual(self.settings("--tls").port, 5000)      # the default stays plain's

    def test_tls_options_without_tls_or_both_cas(self):
        from chat.cli.options import UsageError
        for argv in (["--ca-file", "ca.pem"], ["--known-servers", "k"], ["--system-ca"],
                     ["--tls", "--ca-file", "ca.pem", "--system-ca"]):
            self.assertRaises(UsageError, self.settings, *argv)
