"""A loopback TCP proxy between a client and the server, for faults a test can time.

* ``frozen``: every byte is swallowed in both directions but nothing is closed (a pulled
  cable: only a heartbeat notices);
* ``cut_after(up=N)`` / ``cut_after(down=N)``: abort both sides once N bytes went from the
  client to the server (up) or back (down), counted per connection; the rule is used once.
"""

from twisted.internet import endpoints, protocol, reactor as _global_reactor


class _Side(protocol.Protocol):
    def __init__(self, link, direction):
        self.link = link
        self.direction = direction     # "up": client -> server; "down": server -> client

    def dataReceived(self, data):
        self.link.forward(self.direction, data)

    def connectionLost(self, reason=None):
        self.link.close()


class _Link:
    """One client connection and its connection to the server."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.client = _Side(self, "up")
        self.server = None
        self.held = []
        self.counts = {"up": 0, "down": 0}
        self.closed = False

    def forward(self, direction, data):
        proxy = self.proxy
        if proxy.frozen or self.closed:
            return
        limit = proxy.limits.get(direction)
        if limit is not None and self.counts[direction] + len(data) >= limit:
            data = data[:limit - self.counts[direction]]
            proxy.limits.pop(direction)
            self.counts[direction] += len(data)
            self._send(direction, data)
            proxy.cuts += 1
            self.abort()
            return
        self.counts[direction] += len(data)
        self._send(direction, data)

    def _send(self, direction, data):
        if direction == "up":
            if self.server is None:
                self.held.append(data)
            else:
                self.server.transport.write(data)
        else:
            self.client.transport.write(data)

    def server_connected(self, side):
        self.server = side
        for data in self.held:
            side.transport.write(data)
        self.held = []

    def abort(self):
        self.closed = True
        for side in (self.client, self.server):
            if side is not None and side.transport is not None:
                side.transport.abortConnection()

    def close(self):
        if not self.closed:
            self.closed = True
            for side in (self.client, self.server):
                if side is not None and side.transport is not None:
                    side.transport.loseConnection()


class Proxy(protocol.Factory):
    """127.0.0.1:<port> -> 127.0.0.1:``target_port``."""

    def __init__(self, target_port, reactor=None):
        self.target_port = target_port
        self.reactor = reactor or _global_reactor
        self.frozen = False
        self.limits = {}
        self.cuts = 0
        self.port = None

    def cut_after(self, up=None, down=None):
        if up is not None:
            self.limits["up"] = up
        if down is not None:
            self.limits["down"] = down

    def buildProtocol(self, addr):
        link = _Link(self)
        ep = endpoints.TCP4ClientEndpoint(self.reactor, "127.0.0.1", self.target_port)
        server_side = _Side(link, "down")
        ep.connect(protocol.Factory.forProtocol(lambda: server_side)).addCallbacks(
            lambda side: link.server_connected(side), lambda f: link.abort())
        return link.client

    def listen(self) -> int:
        self.port = self.reactor.listenTCP(0, self, interface="127.0.0.1")
        return self.port.getHost().port
