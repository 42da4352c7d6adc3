"""registered_producer sees the producer registered on a TLS transport (issue 14, defect 3:
``transport.producer`` is the TLS layer's membrane, so the download's producer was never
unregistered and the second download on a TLS connection never started)."""

import os
import tempfile

from twisted.internet import interfaces, protocol
from twisted.internet.testing import StringTransport
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.trial import unittest
from zope.interface import implementer

from chat.producers import registered_producer
from chat.server import certs


@implementer(interfaces.IPushProducer)
class Producer:
    def pauseProducing(self):
        pass

    def resumeProducing(self):
        pass

    def stopProducing(self):
        pass


class RegisteredProducerTests(unittest.TestCase):

    def test_plain_transport(self):
        transport = StringTransport()
        self.assertIsNone(registered_producer(transport))
        mine = Producer()
        transport.registerProducer(mine, True)
        self.assertIs(registered_producer(transport), mine)
        transport.unregisterProducer()
        self.assertIsNone(registered_producer(transport))
        self.assertIsNone(registered_producer(None))

    def test_through_tls_twice(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(folder, ignore_errors=True))
        key, cert, _ = certs.make_certificate(os.path.join(folder, "tls"), ["127.0.0.1"])
        options = certs.tls_server_options(key, cert)     # the server's own TLS settings
        factory = TLSMemoryBIOFactory(options, False, protocol.Factory.forProtocol(
            protocol.Protocol))
        tls = factory.buildProtocol(None)
        tls.makeConnection(StringTransport())
        for _ in range(2):      # a second download registers again: it must be allowed
            mine = Producer()
            self.assertIsNone(registered_producer(tls))
            tls.registerProducer(mine, True)
            self.assertIsNot(tls.producer, mine)          # what the old code compared
            self.assertIs(registered_producer(tls), mine)
            tls.unregisterProducer()
        self.assertIsNone(registered_producer(tls))
