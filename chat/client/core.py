"""ChatClient: log in, stay connected, send without losing anything, report events.

The link is a small state machine (:mod:`chat.client.link`)::

    OFFLINE -> CONNECTING -> LOGGING_IN -> ONLINE
                   ^                         |  link lost (not kicked, not closed)
                   +------ RECONNECTING <----+

After the first successful login a lost link is retried with :class:`Backoff` (1 s doubling
to 30 s, jittered); a reconnect logs in again, fetches what was missed with ``sync`` (live
messages that arrive meanwhile wait so that the order stays right), and only then resends
every message the server had not acknowledged. The server keeps one copy per client id, so a
resend never duplicates. Given several servers (``connect`` a
:class:`chat.client.servers.ServerRotation`), a lost link moves on to the next one, and a
connect tries them all in turn: a dead node's clients log in to another and catch up there.

The heartbeat sends a ``ping`` after 30 s without a byte from the server and gives the link
up after 60 s, so a dead link (a pulled cable, a suspended laptop) is noticed within a minute.
All timers run on the injected clock.
"""

import collections
import random as _random

from twisted.internet.threads import deferToThread
from twisted.internet import defer
from twisted.internet.error import ConnectionLost
from twisted.internet.protocol import Factory
from twisted.logger import Logger

from chat.client.backoff import Backoff
from chat.client.connection import (
    ClientConnection, NotConnected, PortSpeaksTLS, RequestFailed, TLSProbe)
from chat.client.files import FileTransfers
from chat.client.link import Link, LinkState
from chat.client.listener import ClientListener
from chat.client.model import ClientModel, RoomInfo
from chat.client.outbox import Outbox, OutState
from chat.client.typing import TypingTracker
from chat.protocol import PROTOCOL_VERSION
from chat.protocol import commands as C
from chat.protocol.heartbeat import Heartbeat

PING_AFTER = 30.0
DEAD_AFTER = 60.0
READ_DELAY = 0.5
"""Seconds read marks wait so that reading a burst of messages costs one request."""
SEEN_MAX = 10_000
"""Message ids remembered to drop the copies a catch-up ``sync`` sends of live messages."""

NO_RECONNECT = frozenset({"kicked", "banned", "abuse"})
"""``bye`` codes after which reconnecting would only be refused again."""
FATAL_LOGIN = frozenset({"bad_credentials", "banned", "unsupported_version", "name_taken",
                         "bad_request"})
"""Login errors that a retry cannot cure."""


PROBE_TIMEOUT = 3.0
"""Seconds a TLS probe (after a plain connection closed without a word) may take."""


class CannotConnect(Exception):
    """The server could not be reached; ``reason`` is short and human."""

    def __init__(self, reason: str, error: BaseException = None):
        super().__init__(reason)
        self.reason = reason
        self.error = error      # what the connect failed with (a TLSFailed, ...), if known


def describe_connect_error(exc: BaseException) -> str:
    """A short reason for a failed connection attempt ("connection refused", ...)."""
    from twisted.internet import error
    if isinstance(exc, error.ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, error.DNSLookupError):
        return "unknown host"
    if isinstance(exc, (error.TimeoutError, defer.TimeoutError)):
        return "timed out"
    if isinstance(exc, error.NoRouteError):
        return "no route to host"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class _ConnectionFactory(Factory):
    """Builds a ClientConnection whose callbacks say which connection they come from, so
    that a late event of an old connection can never be taken for the current one's."""

    noisy = False

    def __init__(self, client):
        self.client = client

    def buildProtocol(self, addr):
        client = self.client
        conn = ClientConnection(None, None, client._activity)
        conn.on_event = lambda kind, obj: client._event(conn, kind, obj)
        conn.on_lost = lambda reason: client._lost(conn, reason)
        conn.factory = self
        return conn


class ChatClient:
    """One user's chat session over one link at a time; see the module docstring."""

    log = Logger()

    def __init__(self, connect, clock, listener: ClientListener = None,
                 client_name: str = "chat-client", random=_random.random,
                 ping_after: float = PING_AFTER, dead_after: float = DEAD_AFTER,
                 run_in_thread=deferToThread):
        self.connect = connect            # (protocol factory) -> Deferred[ClientConnection]
        self.clock = clock
        self.listener = listener or ClientListener()
        self.client_name = client_name
        self.ping_after = ping_after
        self.dead_after = dead_after
        self.model = ClientModel()
        self.outbox = Outbox()
        self.typists = TypingTracker(clock)     # who is typing where, and our own notices
        self.backoff = Backoff(random=random)
        self._login_wait = None      # a login's rate_limited retry_after, for the next retry
        self._link = Link(self._announce)
        self.hello: dict = {}
        self._conn = None
        self._credentials = None
        self._guest = False
        self._logged_in_once = False
        self._give_up = None              # why not to reconnect: closed, kicked, ...
        self._bye = None
        self._retry_call = None
        self._heartbeat = None
        self._held = None                 # live messages held back while catching up
        self._seen = collections.OrderedDict()
        self._reads: dict[str, int] = {}
        self._read_call = None
        self._idle_waiters: list = []
        self._dead_reason = None
        self.files = FileTransfers(self, run_in_thread)

    @property
    def state(self) -> LinkState:
        """Where the link is (see :mod:`chat.client.link`)."""
        return self._link.state

    @property
    def is_online(self) -> bool:
        return (self.state is LinkState.ONLINE and self._conn is not None
                and self._conn.connected)

    @property
    def gave_up(self) -> bool:
        """True once the client will not reconnect (closed, kicked, login refused)."""
        return self._give_up is not None

    @property
    def server(self):
        """The :class:`chat.client.servers.Server` the link is on (or tries first next) when
        ``connect`` is a :class:`~chat.client.servers.ServerRotation`, else None."""
        return getattr(self.connect, "server", None)

    @property
    def connection(self):
        """The current ClientConnection, or None."""
        return self._conn

    # ------------------------------------------------------------------ session
    def login(self, username: str, password: str, register: bool = False,
              avatar: tuple = None, guest: bool = False) -> defer.Deferred:
        """Connect and log in (registering first if asked, with ``avatar`` = ``(mime type,
        bytes)`` if given; with ``guest``, as a guest under ``username``, no password). Fires
        with the login reply, or fails with CannotConnect, RequestFailed or ConnectionLost; no
        retries until then. A guest who reconnects comes back as a guest of the same name."""
        self._credentials = (username, password)
        self._guest = guest
        self._give_up = None
        return self._attempt(first=True, register=register, avatar=avatar)

    def close(self) -> None:
        """Stop for good: no reconnect; what is still in the outbox stays unsent."""
        self._give_up = "closed"
        self._cancel_retry()
        self._stop_timers()
        if self._conn is not None:
            self._conn.close()
        else:
            self._link.give_up("closed")

    def logout(self) -> defer.Deferred:
        """Log out politely, then close."""
        self._give_up = "logged out"
        d = self.request(C.Logout()) if self.state is LinkState.ONLINE else defer.succeed({})
        d.addBoth(lambda _: self.close())
        return d

    @defer.inlineCallbacks
    def _attempt(self, first: bool, register: bool = False, avatar: tuple = None):
        self._link.connect()
        try:
            conn = yield self.connect(_ConnectionFactory(self))
        except Exception as exc:
            reason = describe_connect_error(exc)
            if getattr(exc, "permanent", False):
                self._give_up = reason   # a changed certificate: retrying cannot cure it
            if first:
                self._link.give_up(reason)
            else:
                self.log.info("reconnect failed: {reason}", reason=reason)
            raise CannotConnect(reason, exc) from None
        if self._give_up is not None:        # closed while connecting
            conn.close()
            return None
        self._conn = conn
        self._bye = None
        self._heartbeat = Heartbeat(self.clock, self._ping, self._link_dead,
                                    self.ping_after, self.dead_after)
        self._heartbeat.start()
        self._link.connected()
        username, password = self._credentials
        try:
            self.hello = yield conn.request(C.Hello(version=PROTOCOL_VERSION,
                                            client=self.client_name))
            self.model.server_name = self.hello.get("name", "")
            self.model.policy = self.hello.get("policy", {})
            self.model.limits = self.hello.get("limits", {})
            if register:
                register_request = C.Register(username=username, password=password)
                body = None
                if avatar is not None:
                    register_request = C.Register(username=username, password=password,
                                                  avatar_type=avatar[0], body=len(avatar[1]))
                    body = avatar[1]
                yield conn.request(register_request, body=body)
            if self._guest:
                data = yield conn.request(C.GuestLogin(username=username))
            else:
                data = yield conn.request(C.Login(username=username, password=password))
            self.model.logged_in(data)
            if first:
                self.model.last_id = data.get("last_id", 0)
            else:
                yield self._catch_up(conn)
        except ConnectionLost:
            if not conn.speaks_tls and not conn._heard and first:
                # closed without a byte: a TLS server does that to a plain hello; ask it
                conn.speaks_tls = yield self._probe_tls()
            if not conn.speaks_tls:
                raise
            reason = "this port speaks TLS: add --tls"
            self._give_up = reason            # retrying in plain TCP cannot cure it
            raise CannotConnect(reason, PortSpeaksTLS(reason)) from None
        except RequestFailed as exc:
            # a guest coming back may find its name still held until the server notices
            # that the old connection is gone: that passes, so it tries again
            guest_back = self._guest and not first and exc.code == "name_taken"
            if exc.code in FATAL_LOGIN and not guest_back:
                self._give_up = exc.message
            elif exc.code == "rate_limited":
                # the server refuses logins from here for a while: the next try waits for it
                self._login_wait = exc.retry_after or None
            if first and conn is self._conn:
                # a refused first login ends the link now, not once the socket has closed:
                # the caller may try again at once (a password typed again, as chat-cli does)
                self._detach()
                self._down_for_good(self._give_up or exc.message)
            conn.close()
            raise
        if conn is not self._conn:
            raise ConnectionLost("the connection was lost while logging in")
        self._logged_in_once = True
        self.backoff.reset()
        self._link.logged_in()
        self.listener.on_logged_in(data, first)
        self._resend()
        self._flush_reads()
        self.files.link_up()
        return data

    @defer.inlineCallbacks
    def _probe_tls(self):
        """Whether the server's port answers a TLS ClientHello with TLS (a second, short
        connection; at most PROBE_TIMEOUT seconds)."""
        factory = Factory.forProtocol(TLSProbe)
        factory.noisy = False
        try:
            probe = yield self.connect(factory)
        except Exception:
            return False
        timer = self.clock.callLater(PROBE_TIMEOUT, probe._settle, False)
        speaks_tls = yield probe.answered
        if timer.active():
            timer.cancel()
        return speaks_tls

    @defer.inlineCallbacks
    def _catch_up(self, conn):
        """Fetch every message since the newest one seen, oldest first, then the held ones."""
        self._held = []
        since = self.model.last_id
        try:
            while True:
                page = yield conn.request(C.Sync(since=since, limit=500))
                for msg in page["messages"]:
                    since = max(since, msg["id"])
                    self._deliver(msg, live=False)
                if not page.get("more") or not page["messages"]:
                    break
        finally:
            held, self._held = self._held, None
        for msg in held:
            self._deliver(msg, live=True)

    # ------------------------------------------------------------------ link events
    def _announce(self, state: LinkState, reason, retry_in) -> None:
        self.listener.on_state(state, reason, retry_in)

    def _activity(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.activity()

    def _ping(self) -> None:
        if self._conn is not None:
            self._conn.request(C.Ping()).addErrback(lambda _: None)

    def _link_dead(self) -> None:
        self.log.info("no answer from the server for {s:.0f} s", s=self.dead_after)
        if self._conn is not None:
            self._dead_reason = f"no answer from the server for {self.dead_after:.0f} s"
            self._conn.abort()

    def _lost(self, conn, reason) -> None:
        if conn is not self._conn:
            return
        self._detach()
        why = self._dead_reason or "connection lost"
        self._dead_reason = None
        if self._bye is not None:
            code, message = self._bye
            why = message or code
            if code in NO_RECONNECT:
                self._give_up = why
        if self._give_up is not None or not self._logged_in_once:
            return self._down_for_good(self._give_up or why)
        move_on = getattr(self.connect, "move_on", None)
        if move_on is not None:
            move_on()      # several servers (chat.client.servers): the next node first
        self._schedule_retry(why)

    def _detach(self) -> None:
        """Forget the current connection: what was sent on it and not acknowledged goes
        again on the next one."""
        self._conn = None
        self._held = None
        self._stop_timers()
        self.typists.clear()          # their notices stop coming: they would look stuck
        for out in self.outbox.unacked():
            self.outbox.requeue(out)

    def _down_for_good(self, why: str) -> None:
        self._link.give_up(why)
        self._wake_idle()
        self.files.link_gone_for_good(why)

    def _schedule_retry(self, why: str) -> None:
        delay = self.backoff.next()
        wait, self._login_wait = self._login_wait, None
        if wait is not None:
            delay = max(delay, float(wait))
        self._link.wait(why, delay)
        self._retry_call = self.clock.callLater(delay, self._retry)

    def _retry(self) -> None:
        self._retry_call = None
        self._attempt(first=False).addErrback(self._retry_failed)

    def _retry_failed(self, failure) -> None:
        if self._give_up is not None:
            self._down_for_good(self._give_up)
        elif failure.check(CannotConnect):
            self._schedule_retry(failure.value.reason)
        elif failure.check(RequestFailed):
            # a refusal a retry may cure (server_error): the closing link schedules it
            self.log.info("login after reconnect failed: {error}", error=failure.value)
        elif not failure.check(ConnectionLost):
            self.log.failure("reconnect failed", failure)

    def _cancel_retry(self) -> None:
        if self._retry_call is not None and self._retry_call.active():
            self._retry_call.cancel()
        self._retry_call = None

    def _stop_timers(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        if self._read_call is not None and self._read_call.active():
            self._read_call.cancel()
        self._read_call = None

    # ------------------------------------------------------------------ events
    def _event(self, conn, kind: str, obj: dict) -> None:
        if conn is not self._conn:
            return
        if kind == "message":
            msg = obj["msg"]
            if self._held is not None:
                self._held.append(msg)
            else:
                self._deliver(msg, live=True)
        elif kind == "ping":
            conn.notify(C.Pong())
        elif kind == "typing":
            self.typists.saw(obj["conv"], obj["user"])
            self.listener.on_typing(obj)
        elif kind == "bye":
            self._bye = (obj["code"], obj.get("message", ""))
            self.listener.on_bye(obj["code"], obj.get("message", ""))
        else:
            self.model.apply(kind, obj)
            handler = getattr(self.listener, f"on_{kind}", None)
            if handler is not None:
                handler(obj)

    def _deliver(self, msg: dict, live: bool) -> None:
        msg_id = msg["id"]
        if msg_id in self._seen:
            return
        self._seen[msg_id] = None
        if len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        if msg.get("from"):
            self.typists.stopped(msg["conv"], msg["from"])      # their message is here
        self.model.saw(msg)
        if msg.get("from") != self.model.me:
            conv = msg["conv"]
            self.model.unread[conv] = self.model.unread.get(conv, 0) + 1
        self.listener.on_message(msg, live)

    # ------------------------------------------------------------------ sending
    def send(self, to: str, text: str, burn: float = None):
        """Send ``text`` to ``#room`` or ``@user``; returns the Outgoing that tracks it.

        Offline, the message waits in the outbox and goes out after the next login."""
        out = self.outbox.add(to, text, burn)
        self.typists.message_sent(to)
        if self.state is LinkState.ONLINE:
            self._transmit(out)
        return out

    def typing(self, conv: str) -> defer.Deferred:
        """The user is typing in ``conv``: tell its other online members, at most every
        SEND_EVERY seconds (chat.client.typing). Never fails: fires True if the server
        relayed it, False if it was not sent (offline, too soon) or not relayed."""
        if self.state is not LinkState.ONLINE or not self.typists.may_send(conv):
            return defer.succeed(False)
        d = self.request(C.Typing(conv=conv))
        d.addCallback(lambda data: bool(data.get("relayed")))

        def failed(failure):
            self.log.debug("typing notice not sent: {error}", error=failure.value)
            return False
        return d.addErrback(failed)

    def retry(self, out) -> None:
        """Send a failed message again, with the same client id."""
        if out.state is OutState.FAILED:
            self.outbox.restore(out)
            if self.state is LinkState.ONLINE:
                self._transmit(out)

    def _resend(self) -> None:
        for out in self.outbox.unacked():
            if out.state is OutState.QUEUED:
                self._transmit(out)

    def _transmit(self, out) -> None:
        out.state = OutState.SENT
        out.attempts += 1
        d = self._conn.request(out.request())
        d.addCallbacks(self._send_ok, self._send_failed, callbackArgs=(out,),
                       errbackArgs=(out,))

    def _send_ok(self, data: dict, out) -> None:
        self.outbox.acked(out, data["msg_id"], data.get("ts"), bool(data.get("duplicate")))
        self.listener.on_acked(out)
        self._wake_idle()

    def _send_failed(self, failure, out) -> None:
        if failure.check(RequestFailed):
            error = failure.value
            if error.code == "rate_limited" and self.state is LinkState.ONLINE:
                out.state = OutState.QUEUED
                self.clock.callLater(error.retry_after or 1.0, self._retry_one, out)
                return
            self.outbox.failed(out, error.code, error.message)
            self.listener.on_failed(out)
            self._wake_idle()
        else:
            # the link went: the message stays queued and goes again after the reconnect
            self.outbox.requeue(out)

    def _retry_one(self, out) -> None:
        if out.state is OutState.QUEUED and self.state is LinkState.ONLINE:
            self._transmit(out)

    def when_idle(self) -> defer.Deferred:
        """Fires when nothing is waiting for an acknowledgement, or the client gave up."""
        d = defer.Deferred()
        self._idle_waiters.append(d)
        self._wake_idle()
        return d

    def _wake_idle(self) -> None:
        if len(self.outbox) and self._give_up is None:
            return
        waiters, self._idle_waiters = self._idle_waiters, []
        for d in waiters:
            d.callback(None)

    # ------------------------------------------------------------------ files
    def send_file(self, to: str, path: str, mime: str = None):
        """Offer and upload a file to ``#room``, ``@user`` or ``@all``; returns its Transfer
        (``transfer.finished`` fires when it is done, failed or cancelled). Survives reconnects."""
        return self.files.send(to, path, mime)

    def download(self, file_id: int, folder: str):
        """Fetch file ``file_id`` into ``folder``; returns its Transfer (see send_file)."""
        return self.files.fetch(file_id, folder)

    def downloading(self, file_id: int, folder: str):
        """The running download of ``file_id`` into ``folder`` (which ``download`` would
        join), or None."""
        return self.files.downloading(file_id, folder)

    def cancel_transfer(self, transfer) -> defer.Deferred:
        """Stop an upload or download for good (it ends CANCELLED and is never resumed; a
        download's partial file is deleted). Fires with True once it is cancelled, False if
        it had ended already or its last byte was in first (see FileTransfers.cancel)."""
        return self.files.cancel(transfer)

    # ------------------------------------------------------------------ requests
    def request(self, request: C.Request, **options) -> defer.Deferred:
        """Send ``request`` (a :mod:`chat.protocol.commands` request, built without an id)
        while logged in; fails with NotConnected otherwise. ``options`` are those of
        :meth:`ClientConnection.request` (``body``, ``sink``, ``stream``)."""
        if not self.is_online:
            return defer.fail(NotConnected("not connected to the server"))
        return self._conn.request(request, **options)

    def get_avatar(self, user: str) -> defer.Deferred:
        """Fires with ``(mime type, bytes)`` of ``user``'s avatar; fails ``not_found``."""
        if not self.is_online:
            return defer.fail(NotConnected("not connected to the server"))
        d = self._conn.request(C.GetAvatar(user=user))
        return d.addCallback(lambda reply: (reply.data["avatar_type"], reply.body))

    def set_avatar(self, mime: str, data: bytes) -> defer.Deferred:
        if not self.is_online:
            return defer.fail(NotConnected("not connected to the server"))
        return self._conn.request(C.SetAvatar(avatar_type=mime, body=len(data)), body=data)

    def history(self, conv: str, before: int = None, limit: int = 50) -> defer.Deferred:
        return self.request(C.History(conv=conv, before=before, limit=limit))

    def users(self, online: bool = False, after: str = None) -> defer.Deferred:
        return self.request(C.Users(online=online, after=after))

    def rooms(self) -> defer.Deferred:
        return self.request(C.Rooms())

    def members(self, room: str) -> defer.Deferred:
        return self.request(C.Members(room=room))

    def join(self, room: str) -> defer.Deferred:
        return self.request(C.Join(room=room)).addCallback(self._room_joined)

    def create_room(self, room: str, topic: str = "") -> defer.Deferred:
        return self.request(C.CreateRoom(room=room, topic=topic)).addCallback(
            self._room_joined)

    def _room_joined(self, data: dict) -> dict:
        room = data["room"]
        self.model.rooms[room["name"].casefold()] = RoomInfo(
            room["name"], room.get("topic", ""), room.get("members", 0))
        return data

    def leave(self, room: str) -> defer.Deferred:
        def left(data):
            self.model.rooms.pop(room.casefold(), None)
            return data
        return self.request(C.Leave(room=room)).addCallback(left)

    def set_topic(self, room: str, topic: str) -> defer.Deferred:
        return self.request(C.SetTopic(room=room, topic=topic))

    def unread(self) -> defer.Deferred:
        def got(data):
            self.model.unread = dict(data["unread"])
            return data
        return self.request(C.Unread()).addCallback(got)

    def mark_read(self, conv: str, up_to: int) -> None:
        """Mark ``conv`` read up to message ``up_to``; marks within READ_DELAY go together."""
        if up_to <= self._reads.get(conv, 0):
            return
        self._reads[conv] = up_to
        self.model.unread[conv] = 0
        if self._read_call is None and self.state is LinkState.ONLINE:
            self._read_call = self.clock.callLater(READ_DELAY, self._flush_reads)

    def flush_reads(self) -> defer.Deferred:
        """Send the read marks waiting for READ_DELAY now; fires once the server has
        answered them (a client about to exit must not lose them)."""
        if self._read_call is not None and self._read_call.active():
            self._read_call.cancel()
        return self._flush_reads()

    def _flush_reads(self) -> defer.Deferred:
        self._read_call = None
        if self.state is not LinkState.ONLINE:
            return defer.succeed(None)
        reads, self._reads = self._reads, {}
        sent = [self.request(C.MarkRead(conv=conv, up_to=up_to)).addErrback(
                    lambda f: self.log.info("read mark not sent: {error}", error=f.value))
                for conv, up_to in reads.items()]
        return defer.DeferredList(sent)
