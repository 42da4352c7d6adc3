"""Clients connected to a harness server in memory (twisted.test.iosim), no sockets.

``Network.connect`` is what a ChatClient takes as its ``connect``: each call builds a server
ChatConnection and joins the two through FakeTransports. ``pump()`` moves bytes both ways
until nothing moves; ``cut()`` drops every link as a lost cable would; ``refuse`` makes new
connections fail as if the server were down.
"""

from twisted.internet import defer, error
from twisted.test import iosim

from chat.server.connection import ChatConnection


class Network:
    """The in-memory links between ChatClients and one ChatServer."""

    def __init__(self, server):
        self.server = server
        self.refuse = False
        self.pumps = []
        self.attempts = 0

    def connect(self, factory):
        self.attempts += 1
        if self.refuse:
            return defer.fail(error.ConnectionRefusedError("refused by the test"))
        client = factory.buildProtocol(None)
        server_side = ChatConnection(self.server)
        pump = iosim.connect(server_side, iosim.makeFakeServer(server_side), client,
                             iosim.makeFakeClient(client), greet=False, clock=self.server.clock)
        self.pumps.append(pump)
        return defer.succeed(client)

    def pump(self) -> None:
        """Deliver everything in flight, in both directions, until the network is quiet."""
        for _ in range(100):
            moved = False
            for pump in list(self.pumps):
                moved = pump.flush(advanceClock=False) or moved
            self.server.clock.advance(0)
            if not moved:
                break
        self.pumps = [p for p in self.pumps if not p.clientIO.disconnected]

    def cut(self) -> None:
        """Lose every link at once without a goodbye (both sides see connectionLost)."""
        for pump in self.pumps:
            for io in (pump.clientIO, pump.serverIO):
                if not io.disconnected:
                    io.disconnected = True
                    io.reportDisconnect()
        self.pumps = []
