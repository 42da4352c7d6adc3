"""Whose address a WebSocket connection has when it came through a reverse proxy.

Behind a proxy every connection comes from the proxy's address, so the per-address limits
(connections, failed logins, registrations) would count all web users as one, and the
admin's ``sessions`` would show the proxy. ``--web-trusted-proxy ADDRESS`` (an address or a
network, repeatable) names the proxies whose ``X-Forwarded-For`` header is believed: for a
connection *from* one of them, the client is the rightmost address of that header which is
not a trusted proxy itself (each proxy appends the address it got the request from, so what
is left of the last untrusted entry could have been made up by the client). A connection
from anywhere else keeps its own address whatever headers it sends: a client that talks to
the port directly cannot choose its address. A header that cannot be read (not an IP address
where one is looked at) leaves the proxy's address, which is the safe side: the limits then
count more connections together, never fewer.
"""

import ipaddress

from twisted.internet.address import IPv4Address, IPv6Address

FORWARDED_FOR = b"X-Forwarded-For"
MAX_ENTRIES = 32
"""Entries of X-Forwarded-For looked at from the right (the head is bounded at 16 KiB)."""


def parse_network(text: str):
    """``"10.0.0.0/8"``, ``"127.0.0.1"`` or ``"::1"`` -> an ip_network; ValueError if not."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address or network (such as 127.0.0.1 or "
                         "10.0.0.0/8)") from None


def _address(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:          # [2001:db8::1]:4711
        text = text[1:text.index("]")]
    elif text.count(":") == 1:                          # 192.0.2.7:4711
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address


class TrustedProxies:
    """The ``--web-trusted-proxy`` networks, and the client address they vouch for."""

    def __init__(self, networks=()):
        self.networks = tuple(parse_network(n) if isinstance(n, str) else n for n in networks)

    def __bool__(self):
        return bool(self.networks)

    def trusts(self, host) -> bool:
        address = _address(host) if isinstance(host, str) else host
        return address is not None and any(
            address.version == n.version and address in n for n in self.networks)

    def client_host(self, peer_host: str, forwarded_for) -> str:
        """The client's address as text: ``peer_host`` unless it is a trusted proxy with an
        ``X-Forwarded-For`` (``forwarded_for``: the header's values, a list of str)."""
        if not self.networks or not forwarded_for or not self.trusts(peer_host):
            return peer_host
        entries = [e for value in forwarded_for for e in value.split(",")]
        client = peer_host
        for entry in reversed(entries[-MAX_ENTRIES:]):
            address = _address(entry)
            if address is None:
                break                          # unreadable: the last address believed stays
            client = str(address)
            if not self.trusts(address):
                break
        return client

    def peer(self, transport_peer, forwarded_for):
        """The address object the chat connection gets: ``transport_peer`` itself, or the
        forwarded client's (port 0: a proxy does not say it)."""
        host = getattr(transport_peer, "host", None)
        if not isinstance(host, str):
            return transport_peer
        client = self.client_host(host, forwarded_for)
        if client == host:
            return transport_peer
        if ":" in client:
            return IPv6Address("TCP", client, 0)
        return IPv4Address("TCP", client, 0)
