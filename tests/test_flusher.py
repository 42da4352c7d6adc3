"""The end-of-turn flusher over real loopback TCP: frames of one turn leave in one send(),
nothing waits for Twisted's write registration, and order is kept when the kernel's buffer
fills and Twisted's own queue takes over."""

import os

from twisted.internet import defer, protocol, reactor, task
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.server import flusher as flusher_module
from chat.server.flusher import TurnFlusher, supports_flushing


class Collector(protocol.Protocol):
    def __init__(self, expected: int):
        self.expected = expected
        self.received = bytearray()
        self.done = defer.Deferred()
        self.lost = defer.Deferred()

    def dataReceived(self, data):
        self.received += data
        if len(self.received) >= self.expected and not self.done.called:
            self.done.callback(bytes(self.received))

    def connectionLost(self, reason):
        self.lost.callback(bytes(self.received))


class FlusherTests(unittest.TestCase):
    @defer.inlineCallbacks
    def connect(self, expected: int):
        accepted = defer.Deferred()

        class Server(protocol.Protocol):
            def connectionMade(self):
                accepted.callback(self)

        port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        collector = Collector(expected)
        client = yield protocol.ClientCreator(reactor, lambda: collector).connectTCP(
            "127.0.0.1", port.getHost().port)
        server = yield accepted
        self.addCleanup(server.transport.loseConnection)
        self.addCleanup(client.transport.loseConnection)
        return server.transport, collector

    def count_sends(self):
        sends = []
        real = flusher_module._send
        self.patch(flusher_module, "_send", lambda t, data: (sends.append(data), real(t, data)))
        return sends

    @defer.inlineCallbacks
    def test_one_send_per_turn(self):
        transport, collector = yield self.connect(9)
        self.assertTrue(supports_flushing(transport))
        sends = self.count_sends()
        write = TurnFlusher(reactor).writer_for(transport)
        for piece in (b"abc", b"def", b"ghi"):
            write(piece)
        self.assertEqual(sends, [])              # held until the turn ends
        self.assertEqual((yield collector.done), b"abcdefghi")
        self.assertEqual(sends, [b"abcdefghi"])  # one send for the three frames
        self.assertEqual(transport._tempDataLen, 0)  # Twisted's queue was never needed

    @defer.inlineCallbacks
    def test_order_is_kept_past_a_full_buffer(self):
        big = os.urandom(8 * 1024 * 1024)  # more than loopback's socket buffers hold
        pieces = [big, b"after-1", b"after-2" * 1000, b"end"]
        transport, collector = yield self.connect(sum(map(len, pieces)))
        flusher = TurnFlusher(reactor)
        write = flusher.writer_for(transport)
        write(pieces[0])
        flusher.flush()
        self.assertGreater(transport._tempDataLen, 0)  # the kernel took only part of it
        write(pieces[1])
        flusher.flush()                               # Twisted holds bytes: this one queues
        yield task.deferLater(reactor, 0, lambda: None)
        write(pieces[2])
        write(pieces[3])
        self.assertEqual((yield collector.done), b"".join(pieces))

    @defer.inlineCallbacks
    def test_flush_before_close(self):
        transport, collector = yield self.connect(3)
        flusher = TurnFlusher(reactor)
        flusher.writer_for(transport)(b"bye")
        flusher.flush_transport(transport)
        transport.loseConnection()
        self.assertEqual((yield collector.lost), b"bye")

    @defer.inlineCallbacks
    def test_write_after_close_is_harmless(self):
        transport, collector = yield self.connect(1)
        flusher = TurnFlusher(reactor)
        write = flusher.writer_for(transport)
        transport.loseConnection()
        yield collector.lost
        write(b"too late")
        flusher.flush()  # nothing raised, nothing sent

    def test_other_transports_write_at_once(self):
        transport = StringTransport()
        self.assertFalse(supports_flushing(transport))
        TurnFlusher(task.Clock()).writer_for(transport)(b"x")
        self.assertEqual(transport.value(), b"x")
