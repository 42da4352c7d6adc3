"""Accounts and sessions: hello, register, login, logout, passwords, avatars, user list."""

import hashlib
from dataclasses import replace

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure

from chat import __version__
from chat.server.metrics import NullMetrics, transport_of
from chat.protocol import PROTOCOL_VERSION
from chat.protocol import commands as C
from chat.protocol.errors import (
    ALREADY_LOGGED_IN, BAD_CREDENTIALS, BAD_REQUEST, BANNED, NAME_TAKEN, NOT_FOUND, TOO_LARGE,
    UNSUPPORTED_VERSION, ProtocolError)
from chat.protocol.framing import FILE_CHUNK
from chat.protocol.names import name_key
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.guests import is_guest_id
from chat.server.results import Reply
from chat.server.handlers.paging import page_by_name
from chat.server.last_seen import LastSeenWriter
from chat.server.conversations import LOBBY, room_conv
from chat.server.session import Session, State
from chat.server.storage import NameTaken

_IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}


def check_avatar(avatar_type: str, data: bytes) -> None:
    """Refuse bytes that do not start like the image type they claim to be."""
    if avatar_type == "image/webp":
        ok = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    else:
        ok = data.startswith(_IMAGE_MAGIC[avatar_type])
    if not ok:
        raise ProtocolError(BAD_REQUEST, f"avatar is not a {avatar_type} image")


def user_view(account, online: bool) -> dict:
    return {
        "name": account.name,
        "admin": account.admin,
        "avatar": account.avatar_type is not None,
        "created": format_ts(account.created),
        "last_seen": format_ts(account.last_seen) if account.last_seen else None,
        "online": online,
    }


class AccountHandlers:
    """Handlers for the account and session requests."""


    log = Logger()

    def __init__(self, config, clock, storage, hasher, directory, conversations, presence,
                 notices, rooms_view, newest_id, session_ended=None, guests=None,
                 limits=None, metrics=NullMetrics()):
        self.config = config
        self.metrics = metrics         # chat.server.metrics: logins by transport
        self.limits = limits           # chat.server.limits.Limits; None: none (tests)
        self.clock = clock
        self.storage = storage
        self.hasher = hasher
        self.directory = directory
        self.conversations = conversations
        self.presence = presence
        self.notices = notices         # PresenceNotices
        self.rooms_view = rooms_view   # (account id) -> list of room dicts the user is in
        self.newest_id = newest_id     # () -> the newest message id on the server
        # (connection, session) -> None once a login ends: per-session state elsewhere goes
        self.session_ended = session_ended or (lambda connection, session: None)
        self.last_seen = LastSeenWriter(storage, clock)
        self.guests = guests           # chat.server.guests.Guests (None: no guests)

    def commands(self):
        return {
            C.Hello: self.hello, C.Ping: self.ping, C.Register: self.register,
            C.Login: self.login, C.Logout: self.logout, C.ChangePassword: self.change_password,
            C.SetAvatar: self.set_avatar, C.GetAvatar: self.get_avatar, C.Users: self.users,
        }

    # -- connection set-up
    def hello(self, connection, request, body):
        if request.version != PROTOCOL_VERSION:
            raise ProtocolError(UNSUPPORTED_VERSION,
                                f"this server speaks protocol version {PROTOCOL_VERSION}")
        connection.lifecycle.hello(request.client)
        config = self.config
        limits = {"max_frame": config.max_control_frame, "max_text": config.max_text,
                  "max_avatar": config.max_avatar, "history_page": config.history_page,
                  "sync_page": C.SYNC_PAGE_MAX, "burn_ttl_default": C.BURN_TTL_DEFAULT,
                  "max_file_size": config.max_file_size, "quota": config.quota,
                  "file_chunk": FILE_CHUNK, "partial_ttl": config.partial_ttl}
        if not config.persistent:
            limits["file_ttl"] = config.file_ttl
        return {
            "version": PROTOCOL_VERSION,
            "server": f"chat-server/{__version__}",
            "name": config.name,
            "policy": {"message_log": config.message_log, "persistent": config.persistent,
                       "monitoring": config.monitoring, "guests": config.allow_guests},
            "limits": limits,
            "heartbeat": {"ping_after": config.ping_after, "timeout": config.timeout},
        }

    def ping(self, connection, request, body):
        return {"ts": format_ts(now_ms(self.clock))}

    # -- accounts
    @defer.inlineCallbacks
    def register(self, connection, request, body):
        if connection.lifecycle.state is State.AUTHENTICATED:
            raise ProtocolError(ALREADY_LOGGED_IN, "log out before registering another account")
        if body is not None:
            if request.avatar_type is None:
                raise ProtocolError(BAD_REQUEST, "an avatar needs avatar_type")
            check_avatar(request.avatar_type, body)
        if body is not None and len(body) > self.config.max_avatar:
            raise ProtocolError(TOO_LARGE, f"an avatar is at most {self.config.max_avatar} bytes")
        key = name_key(request.username)
        if self.directory.id_for(key) is not None:
            raise ProtocolError(NAME_TAKEN, f"the name {request.username} is taken")
        lookalike = self.directory.lookalikes.holder(request.username)
        if lookalike is not None:
            raise ProtocolError(NAME_TAKEN, f"the name {request.username} looks like "
                                            f"{lookalike}, which is taken")
        if self.limits is not None and not self.limits.exempt(connection.host):
            self.limits.registrations.hit(
                connection.host, "too many accounts registered from your address; "
                                 "try again in {wait} s")
        connection.lifecycle.login_started()
        try:
            password_hash = yield self.hasher.hash(request.password)
        finally:
            connection.lifecycle.login_ended()
        # checked again and held in one step: a look-alike registered during the hash
        lookalike = self.directory.lookalikes.reserve(request.username)
        if lookalike is not None:
            raise ProtocolError(NAME_TAKEN, f"the name {request.username} looks like "
                                            f"{lookalike}, which is taken")
        try:
            account = yield self.storage.create_account(
                request.username, key, password_hash, now_ms(self.clock),
                admin=key in self.config.admins, join=(room_conv(LOBBY),),
                admin_if_first=True)
        except NameTaken:
            if self.directory.id_for(key) is None:
                # (a racing registration of the very same name won: the skeletons are its)
                self.directory.lookalikes.remove(request.username)
            raise ProtocolError(NAME_TAKEN, f"the name {request.username} is taken") from None
        except BaseException:
            self.directory.lookalikes.remove(request.username)
            raise
        if body is not None:
            yield self.storage.set_avatar(account.id, request.avatar_type, body)
            account = replace(account, avatar_type=request.avatar_type)
        self.directory.add(account.id, account.name, account.key)
        self.conversations.add_member(room_conv(LOBBY), account.id)
        self.log.info("registered {user} from {address}{admin}", user=account.name,
                      address=connection.address, admin=" (admin)" if account.admin else "")
        return {"user": user_view(account, False)}

    def login(self, connection, request, body):
        if connection.lifecycle.state is State.AUTHENTICATED:
            raise ProtocolError(ALREADY_LOGGED_IN, f"already logged in as {connection.session.name}")
        limits = self.limits
        if limits is None:
            return self._login(connection, request)
        # before the password: a key that is backing off costs no hashing
        key = name_key(request.username)
        host = None if limits.exempt(connection.host) else connection.host
        try:
            attempt = limits.start_login(key, host)
        except ProtocolError as error:
            self.log.info("login as {user} from {address} refused: {why}",
                          user=self._logged_name(key), address=connection.address,
                          why=error.message)
            raise
        connection.lifecycle.login_started()

        def ended(result):
            connection.lifecycle.login_ended()
            failed = isinstance(result, Failure) and result.check(ProtocolError) is not None \
                and result.value.code == BAD_CREDENTIALS
            limits.end_login(attempt, failed, succeeded=not isinstance(result, Failure))
            return result
        return self._login(connection, request).addBoth(ended)

    def _logged_name(self, key: str) -> str:
        """How the log names a login's user: an account's name, but never an unknown name as
        it was typed (people type their password into the name field), only a short hash
        that tells repeated attempts apart."""
        account_id = self.directory.id_for(key)
        if account_id is not None:
            return self.directory.name(account_id)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
        return f"an unknown user (name hash {digest})"

    @defer.inlineCallbacks
    def _login(self, connection, request):
        account = yield self.storage.account_by_key(name_key(request.username))
        valid = yield self.hasher.verify(account.password_hash if account else None,
                                         request.password)
        if not valid:
            self.log.info("failed login as {user} from {address}",
                          user=self._logged_name(name_key(request.username)),
                          address=connection.address)
            raise ProtocolError(BAD_CREDENTIALS, "wrong user name or password")
        # only after the password: a ban must not tell a stranger that the name exists
        if account.id in self.directory.banned:
            self.log.info("refused login of banned {user} from {address}", user=account.name,
                          address=connection.address)
            reason = self.directory.banned[account.id]
            why = f": {reason}" if reason else ""
            raise ProtocolError(BANNED, f"this account is banned{why}")
        if connection.lifecycle.state is State.CLOSED:
            return {}
        if connection.lifecycle.state is State.AUTHENTICATED:  # two logins raced on one connection
            raise ProtocolError(ALREADY_LOGGED_IN, f"already logged in as {connection.session.name}")
        self.sign_in(connection, Session(account.id, account.name, account.key, account.admin,
                                         self.clock.seconds()))
        self.log.info("login {user} from {address}", user=account.name, address=connection.address)
        unread = yield self.storage.unread_counts(account.id)
        return {
            "user": user_view(account, True),
            "rooms": self.rooms_view(account.id),
            "unread": {self.conversations.wire_name(conv, account.id): n
                       for conv, n in unread.items()},
            "last_id": self.newest_id(),
            "online": self.presence.count,
        }

    def sign_in(self, connection, session) -> None:
        """Make ``connection`` logged in as ``session`` (a password login, or a guest's)."""
        connection.lifecycle.authenticate(session)     # READY -> AUTHENTICATED
        self.metrics.login(transport_of(connection))
        came_online = self.presence.add(connection, session.account_id)
        self.conversations.connection_online(connection, session.account_id)
        if came_online:
            self.notices.changed(session.name, True, guest=is_guest_id(session.account_id))

    def logout(self, connection, request, body):
        self.sign_out(connection)
        return {}

    @staticmethod
    def sign_out(peer) -> None:
        """End a peer's login and keep the link (logout, an admin's kick, chatctl deluser):
        its lifecycle's transition, which ends the session (see end_session)."""
        peer.lifecycle.logout()

    def end_session(self, connection, session, announce: bool = True):
        """Forget a login that ended (logout, kick, lost connection: the peer's lifecycle
        calls this once per login, through the server); announce going offline.

        Returns the Deferred of the last-seen write when the account went offline, else None.
        """
        self.log.info("logout {user} from {address}", user=session.name, address=connection.address)
        self.session_ended(connection, session)
        self.conversations.connection_offline(connection, session.account_id)
        online = self.presence.remove(connection, session.account_id)
        if is_guest_id(session.account_id):
            self.guests.ended(session)       # no last-seen time; the name is free again
            if online and announce:
                self.notices.changed(session.name, False, guest=True)
            return None
        if not online:
            return None
        now = now_ms(self.clock)
        saved = self.last_seen.save(session.account_id, now)
        if announce:
            self.notices.changed(session.name, False, format_ts(now))
        return saved

    @defer.inlineCallbacks
    def change_password(self, connection, request, body):
        account = yield self.storage.account_by_id(connection.session.account_id)
        valid = yield self.hasher.verify(account.password_hash, request.old)
        if not valid:
            raise ProtocolError(BAD_CREDENTIALS, "the old password is wrong")
        new_hash = yield self.hasher.hash(request.new)
        yield self.storage.set_password_hash(account.id, new_hash)
        self.log.info("password changed for {user}", user=account.name)
        return {}

    # -- avatars and the user list
    @defer.inlineCallbacks
    def set_avatar(self, connection, request, body):
        check_avatar(request.avatar_type, body)
        yield self.storage.set_avatar(connection.session.account_id, request.avatar_type, body)
        return {}

    @defer.inlineCallbacks
    def get_avatar(self, connection, request, body):
        account_id = self.directory.id_for(name_key(request.user))
        found = None if account_id is None else (yield self.storage.avatar(account_id))
        if found is None:
            raise ProtocolError(NOT_FOUND, f"{request.user} has no avatar")
        avatar_type, data = found
        name = self.directory.name(account_id)
        return Reply({"user": name, "avatar_type": avatar_type, "size": len(data)}, data)

    @defer.inlineCallbacks
    def users(self, connection, request, body):
        accounts = yield self.storage.accounts()
        entries = [(a.name, user_view(a, self.presence.is_online(a.id))) for a in accounts
                   if self.presence.is_online(a.id) or not request.online]
        if self.guests is not None:
            entries += self.guests.views()
        users, more = page_by_name(entries, request.after, request.limit)
        return {"online": self.presence.count, "users": users, "more": more}
