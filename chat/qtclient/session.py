"""The desktop client's session: one :class:`ChatClient` whose events become Qt signals.

Widgets and models never see the protocol: they connect to the signals here and call the
methods (which return Deferreds or the client core's objects). The session is also the only
place that knows where the server is: ``login(host, port, ...)`` builds the endpoint.

Signals carry plain Python objects (the wire dicts of docs/PROTOCOL.md, the client core's
``Outgoing`` and ``Transfer``), so that a test can drive a session without widgets.
"""

from PyQt6.QtCore import QObject, pyqtSignal

from chat.client.core import ChatClient, LinkState
from chat.client.listener import ClientListener

CLIENT_NAME = "chat-qt/0.1"


class _Relay(ClientListener):
    """The client core's listener: every callback re-emitted as a signal of the session."""

    def __init__(self, session: "Session"):
        self.s = session

    def on_state(self, state, reason=None, retry_in=None):
        self.s.stateChanged.emit(state.value, reason or "", float(retry_in or 0))

    def on_logged_in(self, data, first):
        self.s.loggedIn.emit(data, first)

    def on_message(self, msg, live):
        self.s.messageReceived.emit(msg, live)

    def on_acked(self, out):
        self.s.messageAcked.emit(out)

    def on_failed(self, out):
        self.s.messageFailed.emit(out)

    def on_presence(self, event):
        self.s.presenceChanged.emit(event)

    def on_joined(self, event):
        self.s.memberJoined.emit(event)

    def on_left(self, event):
        self.s.memberLeft.emit(event)

    def on_topic(self, event):
        self.s.topicChanged.emit(event)

    def on_read(self, event):
        self.s.readReceipt.emit(event)

    def on_burned(self, event):
        self.s.burned.emit(event)

    def on_typing(self, event):
        self.s.typingReceived.emit(event)

    def on_notice(self, event):
        self.s.noticeReceived.emit(event)

    def on_monitor(self, event):
        self.s.monitorEvent.emit(event)

    def on_transfer(self, transfer):
        self.s.transferChanged.emit(transfer)

    def on_bye(self, code, message):
        self.s.byeReceived.emit(code, message)


class Session(QObject):
    """A logged-in (or logging-in) user; see the module docstring."""

    stateChanged = pyqtSignal(str, str, float)      # LinkState value, reason, retry in s
    loggedIn = pyqtSignal(dict, bool)               # login reply, first login
    messageReceived = pyqtSignal(dict, bool)        # message, live
    messageQueued = pyqtSignal(object)              # Outgoing: typed, not yet stored
    messageAcked = pyqtSignal(object)               # Outgoing
    messageFailed = pyqtSignal(object)              # Outgoing
    presenceChanged = pyqtSignal(dict)
    memberJoined = pyqtSignal(dict)
    memberLeft = pyqtSignal(dict)
    roomsChanged = pyqtSignal()
    topicChanged = pyqtSignal(dict)
    readReceipt = pyqtSignal(dict)
    burned = pyqtSignal(dict)
    typingReceived = pyqtSignal(dict)               # {"conv", "user"}: see client.typists
    noticeReceived = pyqtSignal(dict)
    monitorEvent = pyqtSignal(dict)
    transferChanged = pyqtSignal(object)            # Transfer
    byeReceived = pyqtSignal(str, str)

    def __init__(self, reactor, parent=None, connect=None, run_in_thread=None):
        """``connect(host, port)`` returns the endpoint's ``connect`` (tests may swap it)."""
        super().__init__(parent)
        self.reactor = reactor
        self._endpoint_for = connect or self._tcp
        self._run_in_thread = run_in_thread
        self.client = None
        self.host = None
        self.port = None
        self.tls = None

    def _tcp(self, host: str, port: int, tls=None):
        from twisted.internet.endpoints import TCP4ClientEndpoint, HostnameEndpoint
        if tls is not None:
            from chat.client.tls import tls_connector
            return tls_connector(self.reactor, host, port, tls, timeout=10)
        if host.replace(".", "").isdigit():
            return TCP4ClientEndpoint(self.reactor, host, port, timeout=10).connect
        return HostnameEndpoint(self.reactor, host.encode("idna"), port, timeout=10).connect

    # ------------------------------------------------------------------ account
    def login(self, host: str, port: int, user: str, password: str, register: bool = False,
              avatar: tuple = None, tls=None, guest: bool = False, servers=None):
        """Connect and log in; fires with the login reply or fails (CannotConnect,
        RequestFailed). A session logs in once; log out and make a new one to switch.
        ``tls`` (a :class:`chat.client.tls.TLSOptions`) connects with TLS; ``guest`` logs
        in as a guest under ``user`` (no password). ``servers`` (chat.client.servers.Server
        entries, ``host:port`` first) are every node of the chat, tried in turn on the login
        and on every reconnect."""
        if self.client is not None:
            self.client.close()
        self.host, self.port = host, port
        kwargs = {}
        if self._run_in_thread is not None:
            kwargs["run_in_thread"] = self._run_in_thread
        self.tls = tls
        from chat.client.servers import Server, ServerRotation

        def connector_for(host, port):
            return (self._endpoint_for(host, port) if tls is None
                    else self._endpoint_for(host, port, tls=tls))
        connect = ServerRotation(servers or [Server(host, port)], connector_for)
        self.client = ChatClient(connect, self.reactor, _Relay(self),
                                 client_name=CLIENT_NAME, **kwargs)
        return self.client.login(user, password, register=register, avatar=avatar, guest=guest)

    def logout(self):
        if self.client is None:
            return None
        return self.client.logout()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()

    # ------------------------------------------------------------------ what is known
    @property
    def model(self):
        """The client core's model: me, admin, policy, limits, rooms, online, unread."""
        return self.client.model

    @property
    def me(self) -> str:
        return self.client.model.me if self.client else ""

    @property
    def is_admin(self) -> bool:
        return bool(self.client and self.client.model.admin)

    @property
    def state(self) -> str:
        return self.client.state.value if self.client else LinkState.OFFLINE.value

    @property
    def is_online(self) -> bool:
        return bool(self.client and self.client.is_online)

    # ------------------------------------------------------------------ messages
    def send(self, conv: str, text: str, burn: float = None):
        """Send text to ``#room``/``@user``; returns the Outgoing (queued while offline)."""
        out = self.client.send(conv, text, burn)
        self.messageQueued.emit(out)
        return out

    def retry(self, out) -> None:
        self.client.retry(out)
        self.messageQueued.emit(out)

    def typing(self, conv: str):
        """The user types in ``conv`` (sent at most every few seconds; never fails)."""
        if self.client is None:
            return None
        return self.client.typing(conv)

    def history(self, conv: str, before: int = None, limit: int = 50):
        return self.client.history(conv, before, limit)

    def mark_read(self, conv: str, up_to: int) -> None:
        self.client.mark_read(conv, up_to)

    # ------------------------------------------------------------------ files
    def send_file(self, conv: str, path: str, mime: str = None):
        return self.client.send_file(conv, path, mime)

    def download(self, file_id: int, folder: str):
        return self.client.download(file_id, folder)

    def cancel(self, transfer):
        return self.client.cancel_transfer(transfer)

    # ------------------------------------------------------------------ people and rooms
    def users(self, online: bool = False, after: str = None):
        return self.client.users(online, after)

    def get_avatar(self, user: str):
        return self.client.get_avatar(user)

    def set_avatar(self, mime: str, data: bytes):
        return self.client.set_avatar(mime, data)

    def rooms(self):
        return self.client.rooms()

    def members(self, room: str):
        return self.client.members(room)

    def join(self, room: str):
        return self.client.join(room).addCallback(self._rooms_changed)

    def create_room(self, room: str, topic: str = ""):
        return self.client.create_room(room, topic).addCallback(self._rooms_changed)

    def leave(self, room: str):
        return self.client.leave(room).addCallback(self._rooms_changed)

    def set_topic(self, room: str, topic: str):
        return self.client.set_topic(room, topic)

    def _rooms_changed(self, data):
        self.roomsChanged.emit()
        return data

    # ------------------------------------------------------------------ anything else
    def request(self, request):
        """Any request while logged in (the admin panel's ``sessions``, ``kick``, ...): a
        :mod:`chat.protocol.commands` request built without an id."""
        return self.client.request(request)
