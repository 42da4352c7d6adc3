"""How an IRC connection is a peer of the server's core: the attributes and calls the core
uses on every connection, in one place.

The core knows a connection's login state (``state``), counts the password checks running
(``logins_running``), is told of its life (``connection_made``/``connection_lost``) and sends
it events. Native connections get events as encoded frames (``send_frame``); an IRC
connection turns the frame back into its typed event and renders it.
"""

from chat.protocol.commands import parse_server_message
from chat.server.connection import State


def init_peer(peer) -> None:
    peer.state = State.READY          # IRC has no hello: a new connection may log in
    peer.logins_running = 0
    peer.prelogin_requests = 0


def opened(peer) -> None:
    peer.server.connection_made(peer)


def lost(peer) -> None:
    peer.state = State.CLOSED
    peer.server.connection_lost(peer)


def logged_in(peer) -> bool:
    return peer.state is State.AUTHENTICATED


# what the account handlers call on a connection at login and logout
def _logged_in(self) -> None:
    """The login went through (the core's call)."""


def _stop_login_timer(self) -> None:
    """The core stops a native connection's login deadline; registration has its own."""


def _start_login_timer(self) -> None:
    """After a logout (an admin's kick ends the login first): the connection goes."""
    if not self.closed:
        self.quit("Logged out")


def _send_frame(self, frame: bytes) -> None:
    """An event, encoded for native connections: decoded again and delivered."""
    if self.closed:
        return
    self.deliver(parse_server_message(bytes(frame[4:])))


def _send(self, message) -> None:
    """A server message sent to this connection alone (a native ``bye``)."""
    self.deliver(message)


def install(cls) -> None:
    cls.logged_in = _logged_in
    cls.stop_login_timer = _stop_login_timer
    cls.start_login_timer = _start_login_timer
    cls.send_frame = _send_frame
