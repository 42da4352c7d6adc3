"""End to end: the real ``twistd chatserver --irc-port`` in a child process, an independent
IRC client (twisted.words' IRCClient, logging in with PASS) and a native client talking in
a room and privately, each seeing the other's join, part, topic and quit."""

import base64
import os

from twisted.internet import defer, protocol
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.protocols.basic import LineOnlyReceiver

from tests.support.irc_client import irc_login
from tests.support.server_process import free_port, port_spec
from tests.support.wire import login_client
from tests.test_ctl_e2e import chatctl
from tests.test_e2e import E2ECase, PASSWORDS, with_server_output


class IRCGatewayE2E(E2ECase):
    timeout = 60

    async def setUp(self):
        self.irc_port = free_port()
        self.server_args = ("--irc-port", port_spec(self.irc_port), "--irc-server-name",
                            "irc.e2e.test", "--name", "E2E Chat")
        await super().setUp()
        self.irc_clients = []
        self.addCleanup(self._close_irc)

    def _close_irc(self):
        for client in self.irc_clients:
            if client.transport is not None and client.transport.connected:
                client.transport.abortConnection()

    async def irc(self, name):
        client = await irc_login(self.irc_port, name, PASSWORDS[name])
        self.irc_clients.append(client)
        return client

    @with_server_output
    async def test_native_and_irc_users_talk_and_see_each_other(self):
        bob_native = await login_client(self.server.port, "bob", PASSWORDS["bob"])
        await bob_native.close()
        alice = await self.login("alice")
        bob = await self.irc("bob")
        await bob.next_event("joined", lambda e: e[1] == "#lobby")   # his rooms, at once

        # a room: created by the native user, joined from IRC
        await alice.request("create_room", room="dev")
        bob.join("#dev")
        await bob.next_event("joined", lambda e: e[1] == "#dev")
        joined = await alice.next_event("joined", match=lambda e: e["room"] == "dev")
        self.assertEqual(joined["user"], "bob")

        await alice.send_message("#dev", "hello IRC 你好", cid="a1")
        self.assertEqual(await bob.next_event("privmsg", lambda e: e[2] == "#dev"),
                         ("privmsg", "alice", "#dev", "hello IRC 你好"))
        bob.msg("#dev", "hello native")
        msg = (await alice.next_event("message", match=lambda e: e["msg"]["from"] == "bob"))
        self.assertEqual((msg["msg"]["conv"], msg["msg"]["text"]), ("#dev", "hello native"))

        # privately
        bob.msg("alice", "psst")
        msg = await alice.next_event("message", match=lambda e: e["msg"]["conv"] == "@bob")
        self.assertEqual(msg["msg"]["text"], "psst")
        await alice.send_message("@bob", "psst back", cid="a2")
        self.assertEqual(await bob.next_event("privmsg", lambda e: e[2] == "bob"),
                         ("privmsg", "alice", "bob", "psst back"))
        history = await alice.request("history", conv="@bob")
        self.assertEqual([m["text"] for m in history["messages"]], ["psst", "psst back"])

        # topics both ways
        await alice.request("set_topic", room="dev", topic="native topic")
        self.assertEqual(await bob.next_event("topic"),
                         ("topic", "alice", "#dev", "native topic"))
        bob.topic("#dev", "irc topic")
        topic = await alice.next_event("topic", match=lambda e: e["by"] == "bob")
        self.assertEqual((topic["by"], topic["topic"]), ("bob", "irc topic"))

        # parts both ways
        bob.leave("#dev")
        await bob.next_event("left", lambda e: e[1] == "#dev")
        left = await alice.next_event("left")
        self.assertEqual((left["room"], left["user"]), ("dev", "bob"))
        bob.join("#dev")
        await alice.next_event("joined", match=lambda e: e["user"] == "bob")
        await alice.request("leave", room="dev")
        self.assertEqual(await bob.next_event("userLeft"), ("userLeft", "alice", "#dev"))

        # quits both ways
        await alice.close()
        self.assertEqual((await bob.next_event("userQuit"))[1], "alice")
        alice = await self.login("alice", register=False)
        self.assertEqual(await bob.next_event("userJoined"), ("userJoined", "alice", "#lobby"))
        bob.quit("good night")
        await bob.lost
        presence = await alice.next_event("presence", match=lambda e: any(
            c["user"] == "bob" and not c["online"] for c in e["changes"]))
        self.assertTrue(presence)

    @with_server_output
    async def test_sasl_and_numerics_over_tcp(self):
        # the account is made the way scripts make them, while the server runs
        code, out, err = await chatctl(self.server.data_dir, "adduser", "carol",
                                       stdin=PASSWORDS["carol"].encode() + b"\n")
        self.assertEqual(code, 0, err)
        endpoint = TCP4ClientEndpoint(self.reactor(), "127.0.0.1", self.irc_port)
        raw = await endpoint.connect(protocol.Factory.forProtocol(RawLines))
        self.addCleanup(lambda: raw.transport.abortConnection())
        blob = base64.b64encode(f"\0carol\0{PASSWORDS['carol']}".encode()).decode()
        for line in ("CAP LS 302", "CAP REQ :sasl server-time", "AUTHENTICATE PLAIN",
                     f"AUTHENTICATE {blob}", "NICK carol", "USER c 0 * :Carol", "CAP END"):
            raw.sendLine(line.encode())
        await raw.until(lambda line: " 376 " in line)      # the password check takes a thread
        for line in ("JOIN nochannel", "FOO"):
            raw.sendLine(line.encode())
        lines = await raw.until(lambda line: " 421 " in line)
        text = "\n".join(lines)
        for expected in (" 903 ", " 001 carol ", "NETWORK=E2E\\x20Chat", "CASEMAPPING=rfc8265",
                         " JOIN #lobby", " 403 carol nochannel ", ":irc.e2e.test 001"):
            self.assertIn(expected, text)

    def reactor(self):
        from twisted.internet import reactor
        return reactor


class RawLines(LineOnlyReceiver):
    """Lines in and out, for what IRCClient does not speak (CAP, SASL)."""

    delimiter = b"\r\n"

    def connectionMade(self):
        self.lines = []
        self.waiting = None

    def lineReceived(self, line):
        self.lines.append(line.decode("utf-8"))
        if self.waiting is not None and self.waiting[0](self.lines[-1]):
            d, self.waiting = self.waiting[1], None
            d.callback(list(self.lines))

    def until(self, condition, timeout=10):
        from twisted.internet import reactor
        if any(condition(line) for line in self.lines):
            return defer.succeed(list(self.lines))
        d = defer.Deferred()
        self.waiting = (condition, d)
        timer = reactor.callLater(timeout, lambda: not d.called and d.errback(
            AssertionError(f"not seen in {timeout} s; got {self.lines!r}")))
        d.addBoth(lambda r: (timer.active() and timer.cancel(), r)[1])
        return d


class ConformanceSetupE2E(E2ECase):
    """The way the IRC conformance suite (irctest) drives a server: ``--allow-guests``,
    ``--irc-server-name``, accounts made by ``chatctl adduser`` with short test passwords
    while the server runs, guests that make channels by JOIN, a PING after each command to
    know its replies are all in."""

    timeout = 60

    async def setUp(self):
        self.irc_port = free_port()
        self.server_args = ("--irc-port", port_spec(self.irc_port), "--allow-guests",
                            "--irc-server-name", "My.Little.Server")
        await super().setUp()

    async def raw(self):
        from twisted.internet import reactor
        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", self.irc_port)
        client = await endpoint.connect(protocol.Factory.forProtocol(RawLines))
        self.addCleanup(lambda: client.transport.abortConnection())
        return client

    @with_server_output
    async def test_sasl_with_a_short_chatctl_password_and_guests_making_a_channel(self):
        code, out, err = await chatctl(self.server.data_dir, "adduser", "jilles",
                                       stdin=b"sesame\n")
        self.assertEqual(code, 0, err)
        self.assertIn("chatctl: warning: the password of jilles has 6 characters", err)
        sasl = await self.raw()
        for line in ("CAP LS 302", "CAP REQ :sasl", "AUTHENTICATE PLAIN",
                     "AUTHENTICATE amlsbGVzAGppbGxlcwBzZXNhbWU="):     # jilles / sesame
            sasl.sendLine(line.encode())
        lines = await sasl.until(lambda line: " 903 " in line or " 904 " in line)
        self.assertTrue(any(" 900 * " in line and " jilles :" in line for line in lines), lines)

        foo, bar = await self.raw(), await self.raw()
        for client, nick in ((foo, "foo"), (bar, "bar")):
            client.sendLine(f"NICK {nick}".encode())
            client.sendLine(b"USER username * * :Realname")
            await client.until(lambda line: " 376 " in line)
        foo.sendLine(b"JOIN #chan")
        foo.sendLine(b"PING sync1")
        lines = await foo.until(lambda line: "PONG" in line and "sync1" in line)
        joined = [line.split()[1] for line in lines[-4:]]
        self.assertEqual(joined, ["JOIN", "353", "366", "PONG"], lines[-4:])
        self.assertTrue(lines[-4].startswith(":foo!~username@guest.My.Little.Server JOIN"), lines)
        self.assertIn("@foo", lines[-3])
        bar.sendLine(b"JOIN #chan")
        await bar.until(lambda line: " 366 " in line)
        foo.sendLine(b"NOTICE #chan :hello there")
        said = await bar.until(lambda line: " NOTICE #chan " in line)
        self.assertTrue(said[-1].startswith(":foo!~username@guest.My.Little.Server NOTICE"), said)


class IRCOverTLSE2E(E2ECase):
    """``--irc-port ssl:...`` takes the same certificate options as ``--port``."""

    timeout = 60

    async def setUp(self):
        import shutil
        import tempfile
        from chat.server import certs
        self.cert_dir = tempfile.mkdtemp(prefix="chat-irc-tls-")
        self.addCleanup(shutil.rmtree, self.cert_dir, True)
        key, self.cert, _ = certs.make_certificate(os.path.join(self.cert_dir, "tls"),
                                                   ["127.0.0.1"])
        self.irc_port = free_port()
        self.server_args = ("--irc-port", certs.ssl_port_string(key, self.cert, self.irc_port)
                            + ":interface=127.0.0.1")
        await super().setUp()

    @with_server_output
    async def test_cap_ls_over_tls(self):
        from twisted.internet import threads
        lines = await threads.deferToThread(self._talk_tls)
        self.assertTrue(any(" CAP * LS " in line and "sasl=PLAIN" in line for line in lines),
                        lines)

    def _talk_tls(self):
        import socket
        import ssl
        import time
        context = ssl.create_default_context(cafile=self.cert)
        deadline = time.monotonic() + 10
        while True:
            try:
                raw = socket.create_connection(("127.0.0.1", self.irc_port), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            self.assertIn(tls.version(), ("TLSv1.2", "TLSv1.3"))
            tls.sendall(b"CAP LS 302\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.decode("utf-8").split("\r\n")
