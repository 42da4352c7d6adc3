"""The chat server: composes storage, presence, conversations, writer, burner, monitor, the file
store and handlers.

It owns no protocol logic itself: connections hand it requests, it looks up the handler for
the request's class, and it is told when connections come and go.
"""

from dataclasses import dataclass, field
from typing import Optional

from twisted.internet import defer
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.framing import MAX_CONTROL_FRAME, MAX_FRAME
from chat.protocol.names import name_key
from chat.protocol.timestamps import now_ms
from chat.server.burner import Burner
from chat.server.metrics import NullMetrics
from chat.server.conversations import LOBBY, Conversations, Directory
from chat.server.fanout import Fanout
from chat.server.files.catalog import FileCatalog
from chat.server.files.io import FileIO
from chat.server.files.store import FileStore
from chat.server.flusher import TurnFlusher
from chat.server.guests import GuestHandlers, Guests, GuestStorage, guest_refusal
from chat.server.handlers.accounts import AccountHandlers
from chat.server.handlers.admin import AdminHandlers
from chat.server.handlers.files import FileHandlers
from chat.server.handlers.messages import MessageHandlers
from chat.server.handlers.rooms import RoomHandlers
from chat.server.handlers.typing import TypingHandlers
from chat.protocol.heartbeat import PING_AFTER, TIMEOUT
from chat.server.lifecycle import SessionLifecycle
from chat.server.limits import Limits
from chat.server.monitor import Monitor
from chat.server.views import BurnNotices, MessageViews
from chat.server.presence import Presence, PresenceNotices
from chat.server.storage import NameTaken
from chat.server.writer import MessageWriter


MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass
class ServerConfig:
    """What the server owner can set (from the command line, see chat.server.tap)."""
    name: str = "chat"
    admins: frozenset = field(default_factory=frozenset)   # name keys granted the admin role
    message_log: bool = True       # messages are kept in the database (told to clients)
    persistent: bool = True        # False with --lite
    monitoring: bool = False       # admins may watch every message live (--allow-monitoring)
    allow_guests: bool = False     # a free name may log in without an account (--allow-guests)
    max_frame: int = MAX_FRAME
    max_control_frame: int = MAX_CONTROL_FRAME
    ping_after: float = PING_AFTER
    timeout: float = TIMEOUT
    # files
    files_dir: Optional[str] = None    # None: a temporary directory, removed at stop (--lite)
    max_file_size: int = 100 * MiB
    quota: int = GiB                   # per user: the sizes of their files, complete or partial
    disk_reserve: int = 64 * MiB       # free disk a file offer may not use (the database's)
    partial_ttl: float = 86400.0       # seconds without progress after which a partial goes
    file_ttl: float = 3600.0           # --lite only: a published file's life at most
    # sizes (each at most the protocol's own limit; hello reports them)
    max_text: int = C.TEXT_MAX             # characters of a message or notice
    max_avatar: int = C.AVATAR_MAX         # bytes of an avatar
    history_page: int = C.HISTORY_PAGE_MAX  # messages per history page at most
    # limits (see chat.server.limits; 0 turns a count or rate off)
    login_failures: int = 5                # per account name and address, then 1, 2, 4 ... s
    login_failures_per_account: int = 20   # per account from all addresses (see limits.py)
    login_failures_per_address: int = 100  # per address (a classroom shares one NAT address)
    login_backoff_max: float = 300.0       # the longest backoff
    registrations_per_hour: int = 100      # per address
    send_rate: float = 10.0                # messages per second per account ...
    send_burst: int = 30                   # ... with bursts of this many
    file_offers_per_minute: int = 30       # per account
    rooms_per_hour: int = 10               # rooms an account may create per hour
    rooms_per_account: int = 50            # rooms an account created that exist at once
    topics_per_minute: int = 10            # topic changes per account per minute
    joins_per_minute: int = 60             # joins and leaves per account per minute
    irc_flood_rate: float = 20.0           # IRC lines per second per connection after ...
    irc_flood_burst: int = 100             # ... a burst of this many (flood control by delay)
    max_connections: int = 10_000          # in all
    max_connections_per_address: int = 500
    exempt_loopback: bool = False          # per-address limits skip 127.0.0.0/8 and ::1
    login_timeout: float = 30.0            # seconds a connection may stay without a login
    prelogin_requests: int = 30            # requests a connection may make before its login
    prelogin_body_budget: int = 16 * MiB   # avatar bytes all connections not logged in may hold
    query_rate: float = 20.0               # queries (history, users, ...) per s per account ...
    query_burst: int = 100                 # ... with bursts of this many
    max_output_buffer: int = 4 * MiB       # unsent output while the peer does not read


class RecordedStop:
    """The default ``request_stop``: stops nothing, counts the requests (tests read ``calls``).

    Production passes a function that stops the reactor (see chat.server.tap)."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


class ChatServer:
    """Shared state of all connections and the table from request class to handler.

    ``request_stop`` is called when an admin's ``shutdown`` is due; it must make the program
    stop, which in turn calls :meth:`stop`. ``file_io`` runs file work off the reactor (by
    default a thread pool of its own; tests pass one that runs synchronously).
    """

    log = Logger()

    def __init__(self, config: ServerConfig, storage, hasher, clock, request_stop=None,
                 file_io=None, metrics=None, node=None):
        self.config = config
        # what the parts report for --metrics (chat.server.metrics); nothing by default
        self.metrics = metrics if metrics is not None else NullMetrics()
        if metrics is not None:
            metrics.watch(self)
        if config.allow_guests:
            storage = GuestStorage(storage)     # guests' memberships are not stored
        self.storage = storage
        self.clock = clock
        self.request_stop = request_stop if request_stop is not None else RecordedStop()
        self.limits = Limits(config, clock)
        self.directory = Directory()
        self.conversations = Conversations(self.directory)
        if node is None:
            self.presence = Presence()
        else:
            # one node of several on one database (--node): online means on any node
            from chat.server.cluster.presence import ClusterPresence
            self.presence = ClusterPresence()
        self.flusher = TurnFlusher(clock)
        self.fanout = Fanout(self.presence, self.conversations, self.metrics)
        self.notices = PresenceNotices(clock, self.presence, self.fanout)
        self.connections: set = set()
        self._stopping = False              # stop(): logins end quietly, their saves awaited
        self._saving: list = []
        self.prelogin_held = 0              # body bytes held for connections not logged in
        self.writer = MessageWriter(storage, clock, metrics=self.metrics)
        if file_io is None:
            # the clock is the reactor in production; a test clock cannot take thread results
            file_io = FileIO(clock if hasattr(clock, "callFromThread") else None)
        self.file_io = file_io
        # built before the parts that use them, which get them at construction: every part
        # is given what it needs, none reaches through another (nor a lambda to a later one)
        self.catalog = FileCatalog(self.directory, file_io.run)
        self.views = MessageViews(self.directory, self.conversations, self.catalog)
        self.burner = Burner(storage, clock, BurnNotices(self.conversations, self.fanout))
        self.monitor = Monitor(self.views)
        self.messages = MessageHandlers(clock, storage, self.writer, self.burner, self.directory,
                                        self.conversations, self.fanout, self.views,
                                        self.monitor, limits=self.limits, config=config)
        self.files = FileHandlers(config, clock, storage, file_io, self.directory,
                                  self.conversations, self.writer, self.messages, self.catalog,
                                  FileStore(config.files_dir) if config.files_dir else None,
                                  limits=self.limits, metrics=self.metrics)
        newest_id = self.writer.newest_id
        self.rooms = RoomHandlers(clock, storage, self.directory, self.conversations,
                                  self.presence, self.fanout, newest_id, self.burner,
                                  self.limits, config)
        self.guests = Guests(clock, self.directory, self.conversations)
        self.admin = AdminHandlers(config, clock, storage, self.directory, self.conversations,
                                   self.presence, self.fanout, self.monitor, self.request_stop)
        self.accounts = AccountHandlers(config, clock, storage, hasher, self.directory,
                                        self.conversations, self.presence, self.notices,
                                        self.rooms.rooms_of, newest_id, self.admin.session_ended,
                                        guests=self.guests, limits=self.limits,
                                        metrics=self.metrics)
        self.guest_logins = GuestHandlers(config, clock, self.guests, self.presence,
                                          self.rooms.rooms_of, newest_id, self.accounts.sign_in)
        self.typing = TypingHandlers(clock, self.conversations, self.fanout)
        self._handlers = {}
        for group in (self.accounts, self.guest_logins, self.rooms, self.messages, self.admin,
                      self.files, self.typing):
            self._handlers.update(group.commands())
        self.cluster = None
        if node is not None:
            from chat.server.cluster.node import ClusterNode
            self.cluster = ClusterNode(self, node, clock)

    @defer.inlineCallbacks
    def start(self):
        """Load what must be in memory (accounts, rooms, membership, files) and resume burns
        and expiries."""
        self.file_io.start()
        yield self.storage.start()
        if self.cluster is not None:
            yield self.cluster.prepare()
        rooms = yield self.storage.rooms()
        if not any(room.key == LOBBY for room in rooms):
            try:
                yield self.storage.create_room(LOBBY, LOBBY, "", None, now_ms(self.clock))
            except NameTaken:
                pass
            rooms = yield self.storage.rooms()
        accounts = yield self.storage.accounts()
        for account in accounts:
            self.directory.add(account.id, account.name, account.key)
            self.directory.set_banned(account.id, account.banned, account.ban_reason)
            if account.key in self.config.admins and not account.admin:
                yield self.storage.set_admin(account.id, True)
                self.log.info("granted the admin role to {user}", user=account.name)
        self.conversations.load(rooms, (yield self.storage.memberships()))
        yield self.writer.start()
        yield self.burner.start()
        yield self.files.start()
        if self.cluster is not None:
            self.cluster.start()
        self.log.info("chat server ready: {accounts} accounts, {rooms} rooms, next message id "
                      "{next}", accounts=len(accounts), rooms=len(rooms), next=self.writer.next_id)

    @defer.inlineCallbacks
    def stop(self):
        """Say goodbye to every connection, save their last-seen times, stop file transfers
        (partial uploads stay), then close storage."""
        self.burner.stop()
        self.notices.stop()
        self.admin.stop()
        self._stopping = True
        for connection in list(self.connections):
            connection.lifecycle.logout()      # ends its login: see _session_ended
            connection.close("shutdown", "the server is shutting down")
        saving, self._saving = self._saving, []
        yield defer.DeferredList(saving)
        yield self.accounts.last_seen.stop()
        yield self.files.stop()
        if self.cluster is not None:
            self.cluster.stop()
        yield self.storage.stop()

    def open_session(self, peer) -> SessionLifecycle:
        """The lifecycle of a new peer's session (every transport gets its own here)."""
        return SessionLifecycle(peer, self.clock, self.config.login_timeout, self._session_ended)

    def _session_ended(self, peer, session) -> None:
        # everybody leaves at once when the server stops: no presence notices to the ones
        # leaving too, and stop() waits for the last-seen times to be saved
        saved = self.accounts.end_session(peer, session, announce=not self._stopping)
        if saved is not None and self._stopping:
            self._saving.append(saved)

    def handler(self, kind):
        """The handler of request class ``kind``."""
        return self._handlers[kind]

    def set_handler(self, kind, handler) -> None:
        """Replace the handler of ``kind`` (chat.server.cluster wraps a few)."""
        self._handlers[kind] = handler

    def handle(self, connection, request, body):
        refusal = guest_refusal(connection.session, request)
        if refusal is not None:
            raise refusal
        return self._handlers[type(request)](connection, request, body)

    def reserve_prelogin(self, size: int) -> bool:
        """Hold ``size`` bytes of the budget for bodies of connections that have not logged
        in (a register's avatar), if it has room; False if not. Strangers can then make the
        server hold at most ``prelogin_body_budget`` bytes of bodies, however many they are."""
        budget = self.config.prelogin_body_budget
        if budget and self.prelogin_held + size > budget:
            return False
        self.prelogin_held += size
        return True

    def release_prelogin(self, size: int) -> None:
        self.prelogin_held -= size

    def admit(self, connection):
        """Count a new connection, or return ``(bye code, message)`` if it must be refused
        (the server is full, or its address has too many)."""
        refusal = self.limits.connections.admit(connection.host)
        if refusal is None:
            connection.admitted = True
        else:
            self.log.warn("refused a connection from {address}: {why}",
                          address=connection.address, why=refusal[1])
        return refusal

    def body_max(self, command) -> int:
        """The most body bytes ``command`` may announce."""
        if command.BODY_MAX == C.AVATAR_MAX:
            return min(command.BODY_MAX, self.config.max_avatar)
        return command.BODY_MAX

    def connection_made(self, connection) -> None:
        self.connections.add(connection)

    def connection_lost(self, connection) -> None:
        if getattr(connection, "admitted", False):
            connection.admitted = False
            self.limits.connections.release(connection.host)
        self.connections.discard(connection)


def admin_keys(names) -> frozenset:
    return frozenset(name_key(name) for name in names)
