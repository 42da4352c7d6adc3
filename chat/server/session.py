"""The seam between the server's core and its transports ("doors"): who a peer is, and what
every transport must offer the core.

A *transport* is one way in: the native JSON protocol (:mod:`chat.server.connection`), the IRC
gateway, a WebSocket door. Each accepted link is a *peer* that provides :class:`IPeer`. The
core (handlers, fan-out, presence, admin) sees peers through that interface only: it never
reads bytes, encodes frames, or touches a transport's timers or socket.

What a transport does, in short:

* build its peer's :class:`~chat.server.lifecycle.SessionLifecycle` with
  ``server.open_session(peer)`` and drive it: ``open()`` once admitted, ``hello()``,
  ``close()`` once the link is gone; login and logout are the handlers' inputs to it;
* turn requests into ``chat.protocol.commands`` request objects, call
  ``server.handle(peer, request, body)`` and render what comes back (a dict, a
  :class:`~chat.server.results.Reply`, a :class:`~chat.server.results.Stream`, an upload sink,
  or a ``ProtocolError``) in its own protocol;
* render the typed events it gets through :meth:`IPeer.deliver` in its own protocol;
* keep its output bounded: :class:`~chat.server.backlog.OutputBacklog` is the slow-reader rule
  (``max_output_buffer``) every door shares.
"""

import enum

from zope.interface import Attribute, Interface


class State(enum.Enum):
    """Where a peer's session is (see :class:`~chat.server.lifecycle.SessionLifecycle`)."""
    NEW = "new"                        # connected, no hello yet
    READY = "ready"                    # greeted, not logged in
    AUTHENTICATED = "authenticated"    # logged in: ``session`` says as whom
    CLOSED = "closed"                  # nothing more is read or written


class Session:
    """Who a logged-in peer is: the account, its name as shown and as a key, its role, when
    the login happened (clock seconds), and whether it is a guest (``--allow-guests``: a free
    name, no account; chat.server.guests)."""

    __slots__ = ("account_id", "name", "key", "admin", "since", "guest")

    def __init__(self, account_id: int, name: str, key: str, admin: bool, since: float,
                 guest: bool = False):
        self.account_id = account_id
        self.name = name
        self.key = key
        self.admin = admin
        self.since = since
        self.guest = guest

    def __repr__(self) -> str:
        return f"<Session {self.name} #{self.account_id}{' guest' if self.guest else ''}>"


class IPeer(Interface):
    """One link through any transport, as the core sees it.

    The core calls only what is declared here; a transport is free in everything else. Events
    come typed (the ``chat.protocol.commands`` server messages: ``MessageEvent``, ``Joined``,
    ``Presence`` ...), never as bytes or dicts, so each transport renders them its own way;
    one event object goes to many peers, so a transport that encodes may cache the encoding
    on it (see :mod:`chat.server.frames`).
    """

    kind = Attribute("Which door: 'native', 'irc' or 'web' (the admin session list).")
    host = Attribute("The peer's address (no port), for limits per address and the log.")
    port = Attribute("The peer's port, or None.")
    address = Attribute("'host:port', for the log.")
    client_name = Attribute("What the peer says its client is (hello), or None.")
    last_request = Attribute("Clock seconds of its last request but a ping, or None (idle).")
    lifecycle = Attribute("Its SessionLifecycle: the state machine of its session.")
    session = Attribute("The Session it is logged in as, or None (lifecycle.session).")

    def deliver(event):
        """Send ``event`` (a typed server message) to the peer, in the transport's protocol.

        Never blocks and never fails: a peer that is closed drops it; a peer that does not
        read is closed once its output backlog passes ``max_output_buffer``."""

    def close(code, reason):
        """Say goodbye (``code``: a ``bye`` code such as "kicked", "shutdown") and close; cut
        the link if the peer does not take the goodbye in time. Safe to call twice."""

    def keep_alive():
        """Count as a sign of life from the peer (its upload is being written while nothing
        is read from it: the disk, not the peer, is slow)."""

    def pause_reading():
        """Stop reading from the peer for now (an upload's sink has more than it may hold)."""

    def resume_reading():
        """Read from the peer again after :meth:`pause_reading`."""

    def cancel(request_id):
        """Stop the peer's upload or download ``request_id`` while it runs; it ends with an
        error ``cancelled``. Returns False if nothing of that request runs."""

    def state_changed(state):
        """Told by the lifecycle after each transition (e.g. a transport takes bigger frames
        once AUTHENTICATED, and only small ones again once READY after a logout)."""
