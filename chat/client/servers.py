"""Several servers for one chat: a list of nodes, tried in turn.

A chat that runs on several nodes (``twistd chatserver`` processes on one PostgreSQL) is the
same chat through any of them, so a client may be given them all: ``--host a,b:5001,[::1]``
in the terminal clients, a list in the Qt login. :func:`parse_servers` reads such a list;
:class:`ServerRotation` is what the client core takes as its ``connect``:

- a connect tries the servers in turn, from the current one on, each once; the first that
  answers becomes the current one (the TLS probe and the next reconnect go there);
- after a lost link the core calls :meth:`ServerRotation.move_on`, so the reconnect starts
  with the next node: a node that died is tried last, not first. The reconnect then logs in,
  fetches what was missed (``sync``) and resends what was not acknowledged with the same
  ``cid``; the nodes share one storage, so the resend is recognised there as well.

A failure that another server cannot cure either (a changed certificate: ``permanent``) ends
the round at once; otherwise, when none answers, the round fails with
:class:`NoServerAnswered`, which names every server and its reason.
"""

from typing import Callable, NamedTuple

from twisted.internet import defer

MAX_SERVERS = 32
"""More entries than this in one list is a mistake (a pasted file), not a cluster."""


class Server(NamedTuple):
    """One node's address."""
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class BadServerList(ValueError):
    """A server list that cannot be read; the message says which entry and why, ``entry``
    is that entry ("" when the list as a whole is wrong)."""

    def __init__(self, message: str, entry: str = ""):
        super().__init__(message)
        self.entry = entry


def parse_servers(text: str, default_port: int) -> list:
    """``"a, b:5001, [::1]:5002, ::1"`` as :class:`Server` entries, in order, each once.

    An entry is ``host``, ``host:port``, ``[IPv6]``, ``[IPv6]:port`` or a bare IPv6 address
    (more than one colon: no port can be told apart); ``default_port`` is the port of an entry
    without one. Empty entries (a trailing comma) are skipped; raises BadServerList."""
    servers = []
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        server = _parse_entry(entry, default_port)
        if server not in servers:
            servers.append(server)
    if not servers:
        raise BadServerList("no server given")
    if len(servers) > MAX_SERVERS:
        raise BadServerList(f"at most {MAX_SERVERS} servers, not {len(servers)}")
    return servers


def _parse_entry(entry: str, default_port: int) -> Server:
    if any(c.isspace() for c in entry):
        raise BadServerList(f"bad server {entry!r}: no spaces inside an address", entry)
    port_text = None
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or not host:
            raise BadServerList(f"bad server {entry!r}: write an IPv6 address as [address]", entry)
        if rest:
            if not rest.startswith(":"):
                raise BadServerList(f"bad server {entry!r}: only ':port' may follow ']'", entry)
            port_text = rest[1:]
    elif entry.count(":") == 1:
        host, _, port_text = entry.partition(":")
    else:
        host = entry                # a name, an IPv4 address or a bare IPv6 address
    if not host:
        raise BadServerList(f"bad server {entry!r}: no host before the port", entry)
    port = default_port
    if port_text is not None:
        if not (port_text.isascii() and port_text.isdigit()):
            raise BadServerList(f"bad server {entry!r}: the port must be a number", entry)
        port = int(port_text)
    if not 0 < port < 65536:
        raise BadServerList(f"bad server {entry!r}: the port must be 1 to 65535", entry)
    return Server(host, port)


def format_servers(servers) -> str:
    """The list as one line, as :func:`parse_servers` reads it back."""
    return ",".join(str(server) for server in servers)


class NoServerAnswered(Exception):
    """Every server of the list failed; ``failures`` is ``[(Server, exception), ...]``."""

    def __init__(self, failures: list, describe: Callable = str):
        self.failures = failures
        super().__init__("; ".join(f"{server}: {describe(exc)}" for server, exc in failures))


class ServerRotation:
    """``connect(factory)`` over several servers (see the module docstring).

    ``connector_for(host, port)`` returns the one-server ``connect(factory)`` (plain TCP,
    TLS, or a test's in-memory link); ``describe(exception)`` words one server's failure
    (by default as the core words a failed connect: "connection refused")."""

    def __init__(self, servers, connector_for: Callable, describe: Callable = None):
        self.servers = list(servers)
        if not self.servers:
            raise ValueError("no server")
        self._connectors = [connector_for(server.host, server.port) for server in self.servers]
        if describe is None:
            from chat.client.core import describe_connect_error as describe
        self._describe = describe
        self.current = 0

    @property
    def server(self) -> Server:
        """The server the last connect reached (or the next one to try first)."""
        return self.servers[self.current]

    def move_on(self) -> None:
        """The link to the current server was lost: the next round starts with the next."""
        self.current = (self.current + 1) % len(self.servers)

    @defer.inlineCallbacks
    def __call__(self, factory):
        start = self.current
        failures = []
        for step in range(len(self.servers)):
            index = (start + step) % len(self.servers)
            try:
                connection = yield self._connectors[index](factory)
            except Exception as exc:
                if getattr(exc, "permanent", False) or len(self.servers) == 1:
                    raise        # the one server's own error, or one no other server cures
                failures.append((self.servers[index], exc))
                continue
            self.current = index
            return connection
        raise NoServerAnswered(failures, self._describe)
