"""What the client core tells its user interface.

A terminal or Qt client subclasses :class:`ClientListener` and overrides what it shows; every
method has a do-nothing default so that a listener only names what it cares about. Events
carry the wire dicts documented in docs/PROTOCOL.md.
"""


class ClientListener:
    """Callbacks of :class:`chat.client.core.ChatClient`; all optional."""

    def on_state(self, state, reason=None, retry_in=None) -> None:
        """The link changed: ``state`` is a :class:`chat.client.link.LinkState`; ``reason``
        says why it went down, ``retry_in`` the seconds until the next attempt."""

    def on_logged_in(self, data: dict, first: bool) -> None:
        """Logged in (``first``) or back after a reconnect; ``data`` is the login reply."""

    def on_message(self, msg: dict, live: bool) -> None:
        """A message for the user; ``live`` is False for ones fetched after a reconnect."""

    def on_acked(self, out) -> None:
        """The server stored ``out`` (a :class:`chat.client.outbox.Outgoing`)."""

    def on_failed(self, out) -> None:
        """The server refused ``out``; ``out.error`` is ``(code, message)``."""

    def on_presence(self, event: dict) -> None:
        """Accounts came online or went offline."""

    def on_joined(self, event: dict) -> None:
        """Someone joined a room the user is in (the user too)."""

    def on_left(self, event: dict) -> None:
        """Someone left a room the user is in."""

    def on_topic(self, event: dict) -> None:
        """A room's topic changed."""

    def on_read(self, event: dict) -> None:
        """A read mark: a peer read a private chat up to a message (a receipt)."""

    def on_typing(self, event: dict) -> None:
        """Someone types in a conversation (``conv``, ``user``); ``ChatClient.typists``
        knows who is typing where and for how long to show it."""

    def on_burned(self, event: dict) -> None:
        """Burn-after-reading messages were deleted: remove them from view."""

    def on_notice(self, event: dict) -> None:
        """A server notice from an admin (or a shutdown warning)."""

    def on_monitor(self, event: dict) -> None:
        """An admin's monitor feed: a message anywhere on the server."""

    def on_transfer(self, transfer) -> None:
        """A file transfer moved on: progress (at most 4 times a second) or a new state."""

    def on_bye(self, code: str, message: str) -> None:
        """The server is closing the connection and says why (kicked, shutdown, ...)."""
