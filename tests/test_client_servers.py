"""Several servers for one client (chat.client.servers), without sockets.

The list's parsing; the rotation over real Twisted endpoints on a MemoryReactorClock (which
address each attempt goes to, in turn); and the client core with two doors into one harness
server, standing for two nodes on one storage: a dead node makes the client move to the
other, where it catches up on what it missed and resends what was not acknowledged (the
same ``cid``, recognised there).
"""

from twisted.internet import error
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure
from twisted.trial import unittest

from chat.client.core import CannotConnect, ChatClient, LinkState
from chat.client.outbox import OutState
from chat.client.servers import (
    BadServerList, NoServerAnswered, Server, ServerRotation, format_servers, parse_servers)
from tests.harness import PASSWORD, make_server, user
from tests.support.loopback import Network
from tests.test_client_core import Recorder


class ParseTests(unittest.TestCase):

    def test_entries_with_and_without_ports(self):
        self.assertEqual(
            parse_servers(" a.example , b:5001,[::1]:5002, [fe80::1], ::1,10.0.0.1,", 5000),
            [Server("a.example", 5000), Server("b", 5001), Server("::1", 5002),
             Server("fe80::1", 5000), Server("::1", 5000), Server("10.0.0.1", 5000)])

    def test_one_server_is_a_list_of_one_and_repeats_go(self):
        self.assertEqual(parse_servers("127.0.0.1", 5443), [Server("127.0.0.1", 5443)])
        self.assertEqual(parse_servers("a,a:5000,b,a", 5000),
                         [Server("a", 5000), Server("b", 5000)])

    def test_written_back_as_read(self):
        servers = [Server("a", 5000), Server("::1", 5001)]
        self.assertEqual(format_servers(servers), "a:5000,[::1]:5001")
        self.assertEqual(parse_servers(format_servers(servers), 1), servers)
        self.assertEqual(str(Server("::1", 5001)), "[::1]:5001")

    def test_bad_lists_say_what_is_wrong(self):
        for text, words in [
                ("", "no server"), (" , ,", "no server"), ("a:x", "must be a number"),
                ("a:0", "1 to 65535"), ("a:70000", "1 to 65535"), (":5000", "no host"),
                ("[::1", "[address]"), ("[::1]x", "only ':port'"), ("[]:5000", "[address]"),
                ("a b", "no spaces"), ("a:", "must be a number"),
                (",".join(f"h{n}" for n in range(33)), "at most 32")]:
            with self.assertRaises(BadServerList, msg=text) as caught:
                parse_servers(text, 5000)
            self.assertIn(words, str(caught.exception), text)


class _Answer(Protocol):
    pass


class RotationTests(unittest.TestCase):
    """ServerRotation over TCP endpoints of a MemoryReactorClock: every attempt is seen."""

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.servers = parse_servers("127.0.0.1:5000,127.0.0.1:5001,127.0.0.1:5002", 5000)
        self.rotation = ServerRotation(
            self.servers, lambda host, port: TCP4ClientEndpoint(self.reactor, host, port).connect)
        self.factory = Factory.forProtocol(_Answer)

    def tried(self):
        return [port for _, port, *_ in self.reactor.tcpClients]

    def refuse_last(self):
        factory = self.reactor.tcpClients[-1][2]
        factory.clientConnectionFailed(self.reactor.connectors[-1],
                                       Failure(error.ConnectionRefusedError()))

    def accept_last(self):
        factory = self.reactor.tcpClients[-1][2]
        protocol = factory.buildProtocol(None)
        protocol.makeConnection(StringTransport())

    def test_a_connect_tries_each_in_turn_until_one_answers(self):
        d = self.rotation(self.factory)
        self.assertEqual(self.tried(), [5000])
        self.refuse_last()
        self.assertEqual(self.tried(), [5000, 5001])
        self.assertNoResult(d)
        self.accept_last()
        self.assertIsInstance(self.successResultOf(d), _Answer)
        self.assertEqual(self.rotation.server, Server("127.0.0.1", 5001))
        # the next connect (a TLS probe, a reconnect after a blip) goes to the same one first
        self.rotation(self.factory)
        self.assertEqual(self.tried(), [5000, 5001, 5001])

    def test_after_a_lost_link_the_next_one_goes_first_and_the_dead_one_last(self):
        self.rotation(self.factory)
        self.accept_last()
        self.rotation.move_on()
        d = self.rotation(self.factory)
        self.refuse_last()
        self.refuse_last()
        self.assertEqual(self.tried(), [5000, 5001, 5002, 5000])
        self.accept_last()
        self.successResultOf(d)
        self.assertEqual(self.rotation.server.port, 5000)

    def test_none_answers_names_every_server_and_its_reason(self):
        d = self.rotation(self.factory)
        for _ in range(3):
            self.refuse_last()
        failure = self.failureResultOf(d, NoServerAnswered)
        self.assertEqual(str(failure.value),
                         "127.0.0.1:5000: connection refused; 127.0.0.1:5001: connection "
                         "refused; 127.0.0.1:5002: connection refused")
        self.assertEqual(self.tried(), [5000, 5001, 5002])

    def test_one_server_fails_with_its_own_error(self):
        rotation = ServerRotation(
            [Server("127.0.0.1", 5000)],
            lambda host, port: TCP4ClientEndpoint(self.reactor, host, port).connect)
        d = rotation(self.factory)
        self.refuse_last()
        self.failureResultOf(d, error.ConnectionRefusedError)

    def test_a_permanent_failure_is_not_tried_elsewhere(self):
        class CertificateChanged(Exception):
            permanent = True
        attempts = []

        def connector_for(host, port):
            def connect(factory):
                attempts.append(port)
                from twisted.internet import defer
                return defer.fail(CertificateChanged("the certificate changed"))
            return connect
        rotation = ServerRotation(self.servers, connector_for)
        self.failureResultOf(rotation(self.factory), CertificateChanged)
        self.assertEqual(attempts, [5000])


class TwoNodesTests(unittest.TestCase):
    """The core over two doors into one server (two nodes on one storage)."""

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.nodes = {5000: Network(self.server), 5001: Network(self.server)}

    def pump(self):
        for net in self.nodes.values():
            net.pump()

    def advance(self, seconds, step=0.5):
        while seconds > 0:
            self.clock.advance(min(step, seconds))
            seconds -= step
            self.pump()

    def client(self, name):
        rotation = ServerRotation(parse_servers("n1:5000,n2:5001", 5000),
                                  lambda host, port: self.nodes[port].connect)
        client = ChatClient(rotation, self.clock, Recorder(), random=lambda: 0.5)
        client.recorder = client.listener
        result = []
        client.login(name, PASSWORD, register=True).addBoth(result.append)
        self.pump()
        client.login_result = result[0]
        return client

    def kill(self, port):
        """The node dies: its links drop and it refuses new ones."""
        self.nodes[port].refuse = True
        self.nodes[port].cut()
        self.pump()

    def history(self, conv):
        probe = user(self.server, "probe")
        return [(m["from"], m["text"]) for m in probe.ok("history", conv=conv)["messages"]]

    def test_first_login_goes_to_the_second_node_when_the_first_is_down(self):
        self.nodes[5000].refuse = True
        alice = self.client("alice")
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.server, Server("n2", 5001))
        self.assertEqual((self.nodes[5000].attempts, self.nodes[5001].attempts), (1, 1))

    def test_no_node_up_fails_the_first_login_naming_both(self):
        self.nodes[5000].refuse = self.nodes[5001].refuse = True
        alice = self.client("alice")
        self.assertIsInstance(alice.login_result.value, CannotConnect)
        self.assertEqual(alice.login_result.value.reason,
                         "n1:5000: connection refused; n2:5001: connection refused")
        self.assertEqual(alice.state, LinkState.OFFLINE)

    def test_a_dead_node_moves_the_client_on_and_it_gets_what_it_missed(self):
        alice = self.client("alice")
        self.nodes[5000].refuse = True       # bob on the other node: he sees the node die
        bob = self.client("bob")
        self.nodes[5000].refuse = False
        self.assertEqual((alice.server.port, bob.server.port), (5000, 5001))
        alice.recorder.take("message")
        # alice's message reaches the server, is stored, and the node dies before the ack
        out = alice.send("#lobby", "stored, ack lost")
        [pump] = [p for p in self.nodes[5000].pumps if p.client is alice._conn]
        pump.serverIO.bufferReceived(pump.clientIO.getOutBuffer())
        self.clock.advance(0)
        pump.serverIO.getOutBuffer()
        self.kill(5000)
        self.assertEqual(alice.state, LinkState.RECONNECTING)
        queued = alice.send("#lobby", "typed while moving")
        bob.send("#lobby", "while alice moves")
        self.pump()
        attempts_before = self.nodes[5000].attempts
        self.advance(1.5)
        self.assertEqual(alice.state, LinkState.ONLINE)
        self.assertEqual(alice.server, Server("n2", 5001))
        self.assertEqual(self.nodes[5000].attempts, attempts_before, "the dead node first")
        self.assertEqual((out.state, out.duplicate), (OutState.ACKED, True))
        self.assertEqual(queued.state, OutState.ACKED)
        self.assertEqual([t for t in alice.recorder.texts() if t[0] == "bob"],
                         [("bob", "while alice moves", False)])
        self.assertEqual(self.history("#lobby"), [
            ("alice", "stored, ack lost"), ("bob", "while alice moves"),
            ("alice", "typed while moving")])

    def test_both_nodes_down_then_the_first_back_reconnects_there(self):
        alice = self.client("alice")
        self.nodes[5001].refuse = True
        self.kill(5000)
        self.advance(10)
        self.assertEqual(alice.state, LinkState.RECONNECTING)
        self.assertGreaterEqual(self.nodes[5001].attempts, 2)
        self.nodes[5000].refuse = False
        self.advance(20)
        self.assertEqual((alice.state, alice.server.port), (LinkState.ONLINE, 5000))
