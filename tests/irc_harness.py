"""Socket-free IRC clients for the gateway tests: an IRCConnection on a StringTransport,
next to native harness clients on the same ChatServer (MemoryStorage, task.Clock)."""

from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from chat.server.irc.gateway import IRCGateway
from chat.server.irc.connection import IRCConnection
from chat.server.irc.lines import parse_line
from chat.server.irc.sasl import encode_plain
from chat.server.irc.welcome import ServerInfo
from tests.harness import PASSWORD, make_server, user

SERVER_NAME = "irc.test"


def make_gateway(server=None, **config):
    server = server or make_server(**config)
    return IRCGateway(server, ServerInfo(name=SERVER_NAME, network="TestNet"))


class IRCClient:
    """One IRC connection; ``send`` lines, ``lines()`` takes what came back (parsed)."""

    _port = 50000

    def __init__(self, gateway, host="192.0.2.20"):
        IRCClient._port += 1
        self.gateway = gateway
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", host, IRCClient._port))
        self.connection = IRCConnection(gateway)
        self.connection.makeConnection(self.transport)
        self._buffer = b""

    def raw(self, data: bytes) -> None:
        self.connection.dataReceived(data)

    def send(self, *lines: str) -> None:
        for line in lines:
            self.raw(line.encode("utf-8") + b"\r\n")

    def flush(self) -> None:
        self.gateway.server.flusher.flush_transport(self.transport)

    def raw_output(self) -> bytes:
        self.flush()
        data = self.transport.value()
        self.transport.clear()
        return data

    def lines(self) -> list:
        """The messages received since the last call."""
        self._buffer += self.raw_output()
        *complete, self._buffer = self._buffer.split(b"\r\n")
        out = []
        for raw in complete:
            assert len(raw) + 2 <= 512 + 8191, raw
            tags_end = raw.find(b" ") + 1 if raw.startswith(b"@") else 0
            assert len(raw) - tags_end + 2 <= 512, f"line over 512 bytes: {raw!r}"
            out.append(parse_line(raw.decode("utf-8")))
        return out

    def commands(self) -> list:
        return [m.command for m in self.lines()]

    @property
    def closed(self) -> bool:
        return self.transport.disconnecting or self.connection.closed

    def disconnect(self) -> None:
        self.connection.connectionLost(None)

    def register(self, nick, password=PASSWORD, caps=(), sasl=True):
        """CAP LS 302, REQ of ``caps`` (+ sasl), SASL PLAIN as ``nick``, NICK, USER, CAP END;
        returns the lines up to the end of the welcome."""
        self.send("CAP LS 302")
        wanted = list(caps) + (["sasl"] if sasl else [])
        if wanted:
            self.send("CAP REQ :" + " ".join(wanted))
        if sasl:
            self.send("AUTHENTICATE PLAIN")
            for piece in encode_plain(nick, password):
                self.send("AUTHENTICATE " + piece)
        self.send(f"NICK {nick}", "USER u 0 * :Real Name", "CAP END")
        return self.lines()


def registered(gateway, nick, caps=(), register_account=True, password=PASSWORD):
    """An IRC client logged in as ``nick`` (an account registered natively first)."""
    if register_account:
        native = user(gateway.server, nick)
        native.disconnect()
    client = IRCClient(gateway)
    lines = client.register(nick, password, caps)
    assert "001" in [m.command for m in lines], lines
    return client
