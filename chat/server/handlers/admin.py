"""Admin requests: notices, sessions, user info, kick, ban and unban, monitoring, shutdown.

Each of them needs the admin role. The check is made in one place: :meth:`AdminHandlers.commands`
wraps every handler it hands out in :func:`admin_only`, so a handler added later cannot forget
it. Every action is logged with the name of the admin who took it.
"""

import functools

from twisted.internet import defer
from twisted.logger import Logger

from chat.protocol import commands as C
from chat.protocol.errors import BAD_REQUEST, FORBIDDEN, NOT_FOUND, TOO_LARGE, ProtocolError
from chat.protocol.names import name_key
from chat.protocol.timestamps import format_ts, now_ms
from chat.server.conversations import is_room
from chat.server.handlers.accounts import user_view
from chat.server.handlers.paging import REPLY_BUDGET, fit

LOGGED_TEXT = 200
"""Characters of a notice that go into the log (a notice may be 16,000)."""

MONITORING_OFF = "monitoring is not allowed on this server (start it with --allow-monitoring)"


def admin_only(handler):
    """Refuse ``handler``'s request with ``forbidden`` unless the caller is an admin."""
    @functools.wraps(handler)
    def check(connection, request, body):
        session = connection.session
        if not session.admin:
            AdminHandlers.log.warn("{user} (not an admin) asked for {kind}: refused",
                                   user=session.name, kind=request.TYPE)
            raise ProtocolError(FORBIDDEN, f"{request.TYPE} is for admins only")
        return handler(connection, request, body)
    return check


def _because(reason: str) -> str:
    return f": {reason}" if reason else ""


def _connections(n: int) -> str:
    return f"{n} connection{'' if n == 1 else 's'}"


class AdminHandlers:
    """Handlers for the admin requests, and the pending shutdown timer."""

    log = Logger()

    def __init__(self, config, clock, storage, directory, conversations, presence, fanout,
                 monitor, request_stop):
        self.config = config
        self.clock = clock
        self.storage = storage
        self.directory = directory
        self.conversations = conversations
        self.presence = presence
        self.fanout = fanout
        self.monitor = monitor             # chat.server.monitor.Monitor
        self.request_stop = request_stop   # () -> None: stop the whole server (reactor.stop)
        self._shutdown = None              # the pending shutdown's DelayedCall

    def commands(self):
        handlers = {
            C.SendNotice: self.notice, C.Sessions: self.sessions, C.UserInfo: self.user_info,
            C.Kick: self.kick, C.Ban: self.ban, C.Unban: self.unban,
            C.Monitor: self.set_monitoring, C.Shutdown: self.shutdown,
        }
        return {kind: admin_only(handler) for kind, handler in handlers.items()}

    # -- looking users up
    def _user(self, name: str) -> tuple[int, str]:
        """The account id and display name of ``name``, or ``not_found``."""
        account_id = self.directory.id_for(name_key(name))
        if account_id is None:
            raise ProtocolError(NOT_FOUND, f"no such user: {name}")
        return account_id, self.directory.name(account_id)

    def _online(self, account_id: int, name: str) -> tuple:
        connections = tuple(self.presence.of(account_id))
        if not connections:
            raise ProtocolError(NOT_FOUND, f"{name} is not online")
        return connections

    @staticmethod
    def _not_yourself(session, account_id: int, what: str) -> None:
        if account_id == session.account_id:
            raise ProtocolError(BAD_REQUEST, f"you cannot {what} yourself")

    # -- notices
    def notice(self, connection, request, body):
        admin = connection.session.name
        if len(request.text) > self.config.max_text:
            raise ProtocolError(TOO_LARGE, f"a notice is at most {self.config.max_text} "
                                           "characters on this server")
        ts = format_ts(now_ms(self.clock))
        if request.to is None:
            reached = self.presence.count
            self.fanout.to_everyone(C.NoticeEvent(admin, request.text, ts))
            target = "everyone"
        else:
            account_id, name = self._user(request.to)
            self.fanout.to_connections(self._online(account_id, name),
                                       C.NoticeEvent(admin, request.text, ts, to=name))
            reached, target = 1, name
        self.log.info("admin {admin} sent a notice to {target} ({n} reached): {text}",
                      admin=admin, target=target, n=reached, text=request.text[:LOGGED_TEXT])
        return {"delivered": reached}

    # -- looking at sessions and users
    def _session_view(self, connection) -> dict:
        clock = self.clock
        session = connection.session
        last = max(connection.last_request or session.since, session.since)
        return {"address": connection.host, "port": connection.port,
                "client": connection.client_name,
                "since": format_ts(session.since * 1000),
                "idle": max(0, int(clock.seconds() - last))}

    def sessions(self, connection, request, body):
        logged_in = sorted((c for c in self.presence.connections if c.session is not None),
                           key=lambda c: (c.session.key, c.session.since))
        items = [{"user": c.session.name, **self._session_view(c), "admin": c.session.admin}
                 for c in logged_in]
        items, more = fit(items)
        self.log.info("admin {admin} listed the sessions", admin=connection.session.name)
        return {"online": self.presence.count, "sessions": items, "more": more}

    @defer.inlineCallbacks
    def user_info(self, connection, request, body):
        account_id, name = self._user(request.user)
        account = yield self.storage.account_by_id(account_id)
        if account is None:
            raise ProtocolError(NOT_FOUND, f"no such user: {name}")
        rooms = sorted((self.conversations.wire_name(conv, account_id)[1:]
                        for conv in self.conversations.convs_of.get(account_id, ())
                        if is_room(conv)), key=name_key)
        sessions = sorted((self._session_view(c) for c in self.presence.of(account_id)),
                          key=lambda s: s["since"])
        # an account in thousands of rooms must still fit one frame: cut, and say so
        rooms, rooms_cut = fit(rooms, budget=REPLY_BUDGET // 2)
        sessions, sessions_cut = fit(sessions, budget=REPLY_BUDGET // 4)
        view = user_view(account, self.presence.is_online(account_id))
        view.update(banned=account_id in self.directory.banned,
                    ban_reason=self.directory.banned.get(account_id), rooms=rooms,
                    sessions=sessions)
        self.log.info("admin {admin} looked up {user}", admin=connection.session.name,
                      user=name)
        data = {"user": view}
        if rooms_cut or sessions_cut:
            data["more"] = True
        return data

    # -- kick and ban
    def _throw_out(self, connections, code: str, message: str) -> int:
        for target in connections:
            # end the login first: nothing more reaches it, and nothing it sent in the same
            # read acts as the user any more
            target.lifecycle.logout()
            target.close(code, message)
        return len(connections)

    def kick(self, connection, request, body):
        admin = connection.session
        account_id, name = self._user(request.user)
        self._not_yourself(admin, account_id, "kick")
        connections = self._online(account_id, name)
        closed = self._throw_out(connections, "kicked",
                                 f"kicked by {admin.name}{_because(request.reason)}")
        self.log.info("admin {admin} kicked {user}{why} ({n} closed)", admin=admin.name,
                      user=name, why=_because(request.reason), n=_connections(closed))
        return {"closed": closed}

    @defer.inlineCallbacks
    def ban(self, connection, request, body):
        admin = connection.session
        account_id, name = self._user(request.user)
        self._not_yourself(admin, account_id, "ban")
        yield self.storage.set_banned(account_id, True, request.reason or None)
        self.directory.set_banned(account_id, True, request.reason or None)
        closed = self._throw_out(tuple(self.presence.of(account_id)), "banned",
                                 f"banned by {admin.name}{_because(request.reason)}")
        self.log.info("admin {admin} banned {user}{why} ({n} closed)", admin=admin.name,
                      user=name, why=_because(request.reason), n=_connections(closed))
        return {"closed": closed}

    @defer.inlineCallbacks
    def unban(self, connection, request, body):
        account_id, name = self._user(request.user)
        yield self.storage.set_banned(account_id, False, None)
        self.directory.set_banned(account_id, False)
        self.log.info("admin {admin} unbanned {user}", admin=connection.session.name, user=name)
        return {}

    # -- monitoring
    def set_monitoring(self, connection, request, body):
        if not self.config.monitoring:
            raise ProtocolError(FORBIDDEN, MONITORING_OFF)
        admin = connection.session.name
        if request.on:
            self.monitor.watch(connection)
            self.log.info("admin {admin} turned monitoring on ({address})", admin=admin,
                          address=connection.address)
        elif self.monitor.forget(connection):
            self.log.info("admin {admin} turned monitoring off ({address})", admin=admin,
                          address=connection.address)
        return {"on": request.on}

    def session_ended(self, connection, session) -> None:
        """A login ended (logout, kick, lost connection): it watches nothing any more."""
        if self.monitor.forget(connection):
            self.log.info("monitoring off for admin {admin} ({address}): session ended",
                          admin=session.name, address=connection.address)

    # -- shutdown
    def shutdown(self, connection, request, body):
        admin = connection.session.name
        now = now_ms(self.clock)
        replaced = self._shutdown is not None and self._shutdown.active()
        if replaced:
            self._shutdown.cancel()
        self._shutdown = self.clock.callLater(request.seconds, self._stop_now, admin)
        # the text is only the admin's reason: each client words "shuts down in N s" in
        # its user's language from ``seconds``
        self.fanout.to_everyone(C.NoticeEvent(admin, request.message, format_ts(now),
                                              kind="shutdown", seconds=request.seconds))
        self.log.info("admin {admin} asked for a shutdown in {seconds} s{why}{replacing}",
                      admin=admin, seconds=request.seconds, why=_because(request.message),
                      replacing=" (replacing the earlier one)" if replaced else "")
        return {"at": format_ts(now + request.seconds * 1000)}

    def _stop_now(self, admin: str) -> None:
        self._shutdown = None
        self.log.info("stopping the server, as admin {admin} asked", admin=admin)
        self.request_stop()

    def stop(self) -> None:
        """The server stops anyway: a pending shutdown has nothing left to do."""
        if self._shutdown is not None and self._shutdown.active():
            self._shutdown.cancel()
        self._shutdown = None
