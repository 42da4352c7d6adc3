"""How an IRC connection is a peer of the server's core, in one place.

With the protocol-neutral core (``chat.server.session``), a peer gets its session's state
machine from ``server.open_session(peer)`` (who is logged in, the login deadline) and typed
events through ``deliver``. Before it, the core kept a connection's login state in the
connection's own attributes (``state``, ``session``, ``logins_running``) and sent it encoded
frames (``send_frame``), which the connection turns back into typed events here. Both are
handled, so that the gateway works whichever core it runs on.
"""

from chat.protocol.commands import parse_server_message

try:                                     # the protocol-neutral core
    from chat.server.session import IPeer, State
except ImportError:                      # the core before it
    from chat.server.connection import State
    IPeer = None


def init_peer(peer) -> None:
    open_session = getattr(peer.server, "open_session", None)
    peer.lifecycle = open_session(peer) if open_session is not None else None
    if peer.lifecycle is None:
        peer._state = State.READY        # IRC has no hello: a new connection may log in
        peer._session = None
        peer._logins_running = 0
        peer.prelogin_requests = 0


def opened(peer) -> None:
    peer.server.connection_made(peer)
    if peer.lifecycle is not None:
        peer.lifecycle.open()
        peer.lifecycle.hello("IRC")       # IRC has no hello: a new connection may log in


def closing(peer) -> None:
    if peer.lifecycle is not None:
        peer.lifecycle.closing()


def lost(peer) -> None:
    if peer.lifecycle is not None:
        peer.lifecycle.close()
    else:
        peer._state = State.CLOSED
    peer.server.connection_lost(peer)


# -- the peer's view of its session (properties of IRCConnection)
def _get_session(self):
    return self.lifecycle.session if self.lifecycle is not None else self._session


def _set_session(self, session):
    self._session = session              # the core before the lifecycle sets it


def _get_state(self):
    return self.lifecycle.state if self.lifecycle is not None else self._state


def _set_state(self, state):
    self._state = state


def _get_logins(self):
    return self.lifecycle.logins_running if self.lifecycle is not None else self._logins_running


def _set_logins(self, count):
    self._logins_running = count


# -- what the core before the lifecycle calls on a connection at login and logout
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


def _state_changed(self, state) -> None:
    """Told by the lifecycle after each transition: a logout (an admin's kick) while
    registered means the connection goes, IRC cannot be logged out and stay."""
    if state is State.READY and self.registration.is_registered and not self.closed:
        self.quit("Logged out")


def install(cls) -> None:
    cls.session = property(_get_session, _set_session)
    cls.state = property(_get_state, _set_state)
    cls.logins_running = property(_get_logins, _set_logins)
    cls.logged_in = _logged_in
    cls.stop_login_timer = _stop_login_timer
    cls.start_login_timer = _start_login_timer
    cls.send_frame = _send_frame
    cls.state_changed = _state_changed
    if IPeer is not None:
        from zope.interface import classImplements
        classImplements(cls, IPeer)
