"""The server's side of ``chatctl``: the control socket and the operations behind it.

A running server listens on ``<data-dir>/control.sock``, a UNIX socket of mode 0600 in the
0700 data directory: owning the data directory is the permission (the peer's user id is
checked as well, where the system tells it). The protocol is :mod:`chat.ctl.wire`.

:class:`ControlOperations` carries out each command on a :class:`~chat.server.core.ChatServer`,
through the server's own state, so that what it does is seen at once: an account added here can
log in at once (the in-memory directory knows it), and kick, ban and notice go through the admin
handlers, so clients get the same events as when an admin in a client does it. ``chatctl``
uses the same class on a server it starts in its own process when no server runs (offline).

The data directory is held by ``server.lock`` (a :class:`twisted.python.lockfile.FilesystemLock`)
as long as a server runs on it, and by ``chatctl`` while it works offline, so the two never
write the same database behind each other's back.
"""

import os
import socket
import sqlite3
import struct

from twisted.internet import defer, protocol, threads
from twisted.logger import Logger
from twisted.protocols.basic import LineOnlyReceiver
from twisted.protocols.policies import TimeoutMixin
from twisted.python import lockfile

from chat import __version__
from chat.ctl import wire
from chat.ctl.wire import ControlError
from chat.protocol import commands as C
from chat.protocol.errors import BYE_KICKED, ProtocolError
from chat.protocol.names import check_operator_password, name_key, normalise_name
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.conversations import LOBBY, room_conv
from chat.server.presence import Session
from chat.server.private import PRIVATE_FILE
from chat.server.storage import NameTaken, StorageError

CONSOLE_NAME = "server"
"""Who users see as the admin of what chatctl does ("kicked by server", notices)."""

REQUEST_TIMEOUT = 30.0
"""Seconds a control connection may take to send its request."""

SUN_PATH_MAX = 107
"""The longest UNIX socket path Linux takes (108 bytes with the terminating NUL)."""

log = Logger()


class ConsoleCaller:
    """Stands for the server's administrator when chatctl calls an admin handler: a
    logged-in admin that is no account (id 0 is nobody's) and no connection."""

    host = "chatctl"
    port = None
    address = "the control socket"
    client_name = "chatctl"
    last_request = None

    def __init__(self, clock):
        self.session = Session(0, CONSOLE_NAME, CONSOLE_NAME, True, clock.seconds())


def _checked_name(raw: str) -> str:
    try:
        return normalise_name(raw)
    except ProtocolError as error:
        raise ControlError(f"bad user name {raw!r}: {error.message}") from None


def _checked_password(raw: str) -> str:
    try:
        return check_operator_password(raw)
    except ProtocolError as error:
        raise ControlError(error.message) from None


def backup_database(source: str, target: str) -> int:
    """Copy the SQLite database ``source`` to the new file ``target`` with SQLite's online
    backup (a consistent snapshot while the server goes on writing: WAL readers do not block
    the writer). Blocking: run it in a thread. Returns the size of the copy."""
    partial = target + ".partial"
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    os.close(fd)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE").fetchall()   # one self-contained file
            finally:
                dst.close()
        finally:
            src.close()
        if os.path.lexists(target):
            raise FileExistsError(target)
        os.rename(partial, target)
    except BaseException:
        try:
            os.unlink(partial)
        except OSError:
            pass
        raise
    return os.path.getsize(target)


class ControlOperations:
    """Every chatctl command, carried out on ``server`` (a started ChatServer).

    ``running`` is False when chatctl works on a stopped server's data directory: nobody is
    online then, and kick and notice say so. ``db_path`` is the SQLite file (None: no
    database, ``backup`` refuses). Each command returns a dict or a Deferred of one, or
    raises :class:`ControlError`.
    """

    def __init__(self, server, running: bool = True, db_path=None, threads_run=None):
        self.server = server
        self.running = running
        self.db_path = db_path
        self.started = server.clock.seconds()
        self._run_in_thread = threads_run or threads.deferToThread
        self._console = ConsoleCaller(server.clock)

    def run(self, command: str, args: dict):
        """Carry out ``command`` (already checked by :func:`chat.ctl.wire.check_request`)."""
        return defer.maybeDeferred(getattr(self, "do_" + command), **args)

    # -- helpers
    def _account(self, raw_name: str) -> tuple[int, str]:
        name = _checked_name(raw_name)
        account_id = self.server.directory.id_for(name_key(name))
        if account_id is None:
            raise ControlError(f"no such user: {name}")
        return account_id, self.server.directory.name(account_id)

    @defer.inlineCallbacks
    def _as_admin(self, request_class, **fields):
        """Hand a request to the server's own (admin) handler, as the console admin."""
        try:
            request = request_class.parse({"id": 0, **fields})
            result = yield defer.maybeDeferred(self.server.handle, self._console, request, None)
        except ProtocolError as error:
            raise ControlError(error.message) from None
        return result

    def _refuse_offline(self, what: str) -> None:
        if not self.running:
            raise ControlError(f"the server is not running: {what}")

    # -- accounts
    @defer.inlineCallbacks
    def do_adduser(self, name, password, admin=False):
        server = self.server
        name = _checked_name(name)
        password = _checked_password(password)
        key = name_key(name)
        lookalikes = server.directory.lookalikes
        if server.directory.id_for(key) is not None:
            raise ControlError(f"the name {name} is taken")
        # the same checks as a registration (chat.server.handlers.accounts): the look-alike
        # index is checked again and held in one step after the hash, which runs in a thread
        other = lookalikes.holder(name)
        if other is None:
            password_hash = yield server.accounts.hasher.hash(password)
            other = lookalikes.reserve(name)
        if other is not None:
            raise ControlError(f"the name {name} looks like {other}, which is taken")
        try:
            account = yield server.storage.create_account(
                name, key, password_hash, now_ms(server.clock),
                admin=bool(admin) or key in server.config.admins, join=(room_conv(LOBBY),))
        except NameTaken:
            if server.directory.id_for(key) is None:
                # (if the racing creation of the same name won, the skeletons are its now)
                lookalikes.remove(name)
            raise ControlError(f"the name {name} is taken") from None
        except BaseException:
            lookalikes.remove(name)
            raise
        server.directory.add(account.id, account.name, account.key)
        server.conversations.add_member(room_conv(LOBBY), account.id)
        log.info("chatctl added the account {user}{admin}", user=account.name,
                 admin=" (admin)" if account.admin else "")
        return {"name": account.name, "admin": account.admin}

    @defer.inlineCallbacks
    def do_passwd(self, name, password):
        account_id, name = self._account(name)
        password = _checked_password(password)
        password_hash = yield self.server.accounts.hasher.hash(password)
        yield self.server.storage.set_password_hash(account_id, password_hash)
        log.info("chatctl changed the password of {user}", user=name)
        return {"name": name}

    @defer.inlineCallbacks
    def do_deluser(self, name):
        server = self.server
        account_id, name = self._account(name)
        # refused at once from now on (a login's password check may be running), then out
        server.directory.set_banned(account_id, True, "this account was deleted")
        connections = tuple(server.presence.of(account_id))
        for connection in connections:
            server.accounts.sign_out(connection)
            connection.close(BYE_KICKED, "your account was deleted by the server's administrator")
        try:
            yield server.storage.delete_account(account_id, now_ms(server.clock))
        except BaseException:
            server.directory.set_banned(account_id, False)
            raise
        conversations = server.conversations
        for conv in list(conversations.convs_of.get(account_id, ())):
            conversations.remove_member(conv, account_id)
        conversations.convs_of.pop(account_id, None)
        server.directory.remove(account_id)
        # a login whose password check began before the delete must still fail after it
        server.directory.set_banned(account_id, True, "this account was deleted")
        log.info("chatctl deleted the account {user} ({n} connections closed)", user=name,
                 n=len(connections))
        return {"name": name, "closed": len(connections)}

    @defer.inlineCallbacks
    def do_users(self):
        server = self.server
        accounts = yield server.storage.accounts()
        users = []
        for account in accounts:
            users.append({
                "name": account.name, "admin": account.admin,
                "online": server.presence.is_online(account.id),
                "banned": account.id in server.directory.banned,
                "ban_reason": server.directory.banned.get(account.id),
                "created": format_ts(account.created),
                "last_seen": format_ts(account.last_seen) if account.last_seen else None,
            })
        users += [view for _, view in server.guests.views()]
        users.sort(key=lambda view: name_key(view["name"]))
        return {"users": users}

    def do_rooms(self):
        conversations = self.server.conversations
        rooms = []
        for key in sorted(conversations.rooms):
            room = conversations.rooms[key]
            conv = room_conv(key)
            online = {c.session.account_id for c in conversations.online_connections(conv)
                      if c.session is not None}
            rooms.append({"name": room.name, "topic": room.topic,
                          "members": len(conversations.members.get(conv, ())),
                          "online": len(online)})
        return {"rooms": rooms}

    # -- through the admin handlers
    def do_ban(self, name, reason=""):
        _, name = self._account(name)
        return self._as_admin(C.Ban, user=name, reason=reason).addCallback(
            lambda result: {"name": name, **result})

    def do_unban(self, name):
        _, name = self._account(name)
        return self._as_admin(C.Unban, user=name).addCallback(lambda result: {"name": name})

    def do_kick(self, name, reason=""):
        _, name = self._account(name)
        self._refuse_offline(f"nobody is online, {name} neither")
        return self._as_admin(C.Kick, user=name, reason=reason).addCallback(
            lambda result: {"name": name, **result})

    def do_notice(self, text):
        self._refuse_offline("nobody is online to read a notice")
        return self._as_admin(C.SendNotice, text=text)

    # -- the whole server
    def do_stats(self):
        server = self.server
        stats = {"version": __version__, "running": self.running}
        if self.running:     # a stopped server's --name and uptime are not known
            stats.update(name=server.config.name,
                         uptime=int(server.clock.seconds() - self.started))
        return {
            **stats,
            "accounts": len(server.directory) - server.guests.count,
            "guests": server.guests.count,
            "online": server.presence.count,
            "connections": len(server.connections),
            "rooms": len(server.conversations.rooms),
            "last_message_id": server.writer.newest_id(),
        }

    @defer.inlineCallbacks
    def do_backup(self, path):
        if self.db_path is None:
            # PostgreSQL's own tools back it up (pg_dump: see README.md, "PostgreSQL")
            hint = getattr(self.server.storage, "backup_hint", None)
            raise ControlError(hint or "this server keeps no database (--lite): nothing to back up")
        if not os.path.isabs(path):
            raise ControlError(f"the backup file must be an absolute path, not {path!r}")
        if os.path.lexists(path):
            raise ControlError(f"{path} exists already: choose another file name")
        folder = os.path.dirname(path)
        if not os.path.isdir(folder):
            raise ControlError(f"{folder} is not a directory")
        try:
            size = yield self._run_in_thread(backup_database, self.db_path, path)
        except FileExistsError:
            raise ControlError(f"{path} exists already: choose another file name") from None
        except OSError as error:
            raise ControlError(f"cannot write {path}: {error.strerror}") from None
        except sqlite3.Error as error:
            raise ControlError(f"the backup failed: {error}") from None
        log.info("chatctl backed the database up to {path} ({size} bytes)", path=path, size=size)
        return {"path": path, "size": size}


def peer_uid(transport):
    """The user id of the process at the other end of a UNIX socket, None if unknown."""
    try:
        handle = transport.getHandle()
        creds = handle.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (AttributeError, OSError):
        return None
    return struct.unpack("3i", creds)[1]


class ControlProtocol(LineOnlyReceiver, TimeoutMixin):
    """One control connection: one request line, one reply line, then closed."""

    delimiter = b"\n"
    MAX_LENGTH = wire.MAX_LINE

    def __init__(self, operations: ControlOperations, allowed_uids=None):
        self.operations = operations
        self.allowed_uids = allowed_uids     # None: whoever can open the socket
        self._answered = False

    def connectionMade(self):
        uid = peer_uid(self.transport)
        if self.allowed_uids is not None and uid is not None and uid not in self.allowed_uids:
            log.warn("control socket: refused a process of user id {uid}", uid=uid)
            self._answer(wire.encode_error("you may not control this server: run chatctl as "
                                           "the user that runs the server"))
            return
        self.setTimeout(REQUEST_TIMEOUT)

    def timeoutConnection(self):
        self._answer(wire.encode_error("no request came in time"))

    def lineLengthExceeded(self, line):
        self._answer(wire.encode_error(f"the request is longer than {wire.MAX_LINE} bytes"))

    def lineReceived(self, line):
        if self._answered:
            return
        self._answered = True
        self.setTimeout(None)
        try:
            command, args = wire.decode_request(line.rstrip(b"\r"))
        except ControlError as error:
            self._answer(wire.encode_error(error.message))
            return
        d = self.operations.run(command, args)
        d.addCallbacks(lambda result: self._answer(wire.encode_ok(result)),
                       lambda failure: self._failed(failure, command))

    def _failed(self, failure, command):
        if failure.check(ControlError):
            message = failure.value.message
        elif failure.check(StorageError):
            message = f"the database failed: {failure.getErrorMessage()}"
        else:
            log.failure("chatctl {command} failed", failure, command=command)
            message = f"internal error: {failure.getErrorMessage()} (see the server's log)"
        self._answer(wire.encode_error(message))

    def _answer(self, line: bytes) -> None:
        self._answered = True
        self.setTimeout(None)
        if self.transport is not None and self.connected:
            self.transport.write(line)
            self.transport.loseConnection()

    def connectionLost(self, reason=protocol.connectionDone):
        self.setTimeout(None)


class ControlFactory(protocol.ServerFactory):
    """Makes a :class:`ControlProtocol` per connection to the control socket."""

    noisy = False     # no "starting factory" lines in the log for each chatctl call

    def __init__(self, operations: ControlOperations, allowed_uids=None):
        self.operations = operations
        self.allowed_uids = allowed_uids

    def buildProtocol(self, addr):
        return ControlProtocol(self.operations, self.allowed_uids)


class DataDirBusy(Exception):
    """Another process (a server, or chatctl working offline) holds the data directory."""


def lock_data_dir(data_dir: str) -> lockfile.FilesystemLock:
    """Take ``<data-dir>/server.lock`` or raise :class:`DataDirBusy` saying who holds it (a
    lock whose process is gone is taken over)."""
    path = os.path.join(data_dir, wire.LOCK_NAME)
    lock = lockfile.FilesystemLock(path)
    if not lock.lock():
        try:
            holder = f" (process {os.readlink(path)})"
        except OSError:
            holder = ""
        raise DataDirBusy(f"another chat server or chatctl{holder} is using {data_dir}")
    return lock


socket_path = wire.socket_path


def listen_control(reactor, data_dir: str, operations: ControlOperations):
    """Listen on the control socket of ``data_dir`` (the caller holds its lock, so a socket
    file left there is a stale one). Returns the port, or None if the path is too long for
    a UNIX socket (then it is logged: chatctl works on a stopped server only)."""
    path = socket_path(data_dir)
    if len(os.fsencode(path)) > SUN_PATH_MAX:
        log.warn("no control socket: {path} is longer than {n} bytes; chatctl cannot reach "
                 "this server (use a shorter --data-dir)", path=path, n=SUN_PATH_MAX)
        return None
    if os.path.lexists(path):
        os.unlink(path)
    factory = ControlFactory(operations, allowed_uids={os.getuid(), 0})
    return reactor.listenUNIX(path, factory, mode=0o600)
