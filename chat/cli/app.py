"""The terminal client: lines from stdin become commands, client events become lines on stdout.

:class:`CliApp` is the glue between :class:`chat.client.core.ChatClient` and a terminal or a
pipe. What the user typed is parsed by :mod:`chat.cli.parse`; every line shown is made by
:class:`chat.cli.format.Formatter`, in the user's language. Input that arrives before the
login has finished waits for it. At the end of piped input the app waits until the server
has acknowledged every message (at most ``--wait`` seconds) and exits 0, or 1 naming what was
not sent.
"""

import collections
import math
import os
import sys

from twisted.internet import defer, threads
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from zope.interface import implementer

from chat.cli.format import Formatter, human_size
from chat.cli.parse import ParseError, parse_line
from chat.client.connection import RequestFailed
from chat.client.core import CannotConnect, LinkState, NotConnected
from chat.client.listener import ClientListener
from chat.client.outbox import OutState
from chat.protocol import commands as C

LOBBY = "#lobby"
DOWNLOADS = "./downloads"
PASSWORD_TRIES = 2
"""A wrong typed password is asked for again this many times (three tries in all)."""
USERS_PAGES = 20
"""/users shows at most this many pages of the server's list (500 names each)."""
PROGRESS_STEP = 25
"""Without a terminal, progress is printed at every 25 %, not four times a second."""
GOODBYE_WAIT = 2.0
"""Seconds an exit waits for the server to take the read marks and the logout."""
SENDING = frozenset({"say", "burn", "msg"})
"""Commands that only send a message: they do not wait for the echo of the one before."""


@implementer(IHalfCloseableProtocol)
class LineInput(Protocol):
    """Splits stdin into lines (UTF-8, any line ending) for the app; the end of stdin is
    half a close: output goes on until the app has finished."""

    def __init__(self, app, on_closed=None):
        self.app = app
        self.on_closed = on_closed or (lambda: None)
        self._buffer = b""

    def dataReceived(self, data: bytes):
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self.app.line(line.rstrip(b"\r").decode("utf-8", errors="replace"))

    def readConnectionLost(self):
        if self._buffer:
            self.app.line(self._buffer.decode("utf-8", errors="replace"))
            self._buffer = b""
        self.app.input_ended()

    def writeConnectionLost(self):
        pass  # stdout closed by the reader (| head): nothing more to show, go on anyway

    def connectionLost(self, reason=None):
        self.on_closed()


class CliApp(ClientListener):
    """One chat-cli session: see the module docstring."""

    log = Logger()

    def __init__(self, settings, client, clock, out=None, err=None, on_exit=None,
                 progress=None):
        self.settings = settings
        self.client = client
        self.clock = clock
        self.out = out or _writer(sys.stdout)
        self.err = err or _writer(sys.stderr)
        self.on_exit = on_exit or (lambda code: None)
        # a terminal redraws one progress line in place; a pipe gets a line per 25 %
        self.progress = progress
        self.inline_progress = progress is not None
        self._failed_transfers = []
        self._progress_steps = {}     # id(transfer) -> the last 25 % step printed
        self._password_tries = 0     # wrong passwords typed again so far
        self._restarts_shown = set()  # id(transfer) of downloads begun again (said once)
        self._resumes_shown = set()   # (id(transfer), offset) of resumes said
        self.fmt = Formatter(settings.lang, settings.user)
        self.current = LOBBY
        self.exit_code = None
        self._ready = False          # first login done: typed lines are carried out
        self._lines = collections.deque()
        self._current_command = None
        self._input_ended = False
        self._closing = False
        self._left = False
        self._bye_shown = False
        self._busy: set = set()      # commands waiting for a reply
        self._unsent_failures = []
        self._interrupted = False
        self._sends_barrier = None    # fires when the messages on the wire are answered
        client.listener = self

    # ------------------------------------------------------------------ start and stop
    def start(self) -> defer.Deferred:
        s = self.settings
        d = self.client.login(s.user, s.password, register=s.register,
                              guest=getattr(s, "guest", False))
        d.addCallbacks(self._logged_in, self._login_failed)
        return d

    def _login_failed(self, failure) -> None:
        error = failure.value
        cause = getattr(error, "error", None)
        if failure.check(CannotConnect) and type(cause).__name__ == "PortSpeaksTLS":
            line = self.fmt.tr("port_speaks_tls", host=self.settings.host,
                               port=self.settings.port)
        elif failure.check(CannotConnect) and type(cause).__name__ == "PortSpeaksPlain":
            line = self.fmt.tr("port_speaks_plain", host=self.settings.host,
                               port=self.settings.port)
        elif failure.check(CannotConnect) and hasattr(cause, "presented"):   # CertificateChanged
            line = self.fmt.tr("cert_changed", server=cause.server, pinned=cause.pinned,
                               presented=cause.presented, path=cause.known_servers)
        elif failure.check(CannotConnect) and getattr(self.settings, "tls", False):
            line = self.fmt.tr("tls_failed", host=self.settings.host,
                               port=self.settings.port, reason=error.reason)
        elif failure.check(CannotConnect) and type(cause).__name__ == "NoServerAnswered":
            line = self.fmt.tr("cannot_connect_any", reasons=error.reason)   # every node's
        elif failure.check(CannotConnect):
            line = self.fmt.tr("cannot_connect", host=self.settings.host,
                               port=self.settings.port, reason=error.reason)
        elif failure.check(RequestFailed):
            line = self._refusal(error.code, error.message, error.retry_after)
        else:
            line = self.fmt.tr("connection_lost")
        self.err(line)
        ask = getattr(self.settings, "ask_password", None)
        if (ask is not None and failure.check(RequestFailed) and error.code == "bad_credentials"
                and self._password_tries < PASSWORD_TRIES):
            # a person typed it (never a script): ask again, as a login window would
            self._password_tries += 1
            d = defer.maybeDeferred(ask)
            d.addCallback(self._login_again)
            d.addErrback(lambda _: self.finish(1))
            return
        self.finish(1)

    def _login_again(self, password):
        if not password:
            self.finish(1)
            return None
        self.settings.password = password
        return self.start()

    def _refusal(self, code: str, message: str, retry_after=None) -> str:
        if code == "bad_credentials":
            return self.fmt.tr("bad_credentials")
        if code == "rate_limited":
            return self.fmt.tr("too_many_attempts", seconds=math.ceil(retry_after or 1))
        if code == "name_taken":
            return self.fmt.tr("name_taken", user=self.settings.user)
        if code == "forbidden" and getattr(self.settings, "guest", False):
            return self.fmt.tr("guests_off")
        if code == "banned":
            return self.fmt.tr("banned", reason=message)
        return self.fmt.error(code, message)

    def _logged_in(self, data) -> None:
        me = data["user"]["name"]
        self.fmt.me = me
        remember = getattr(self.settings, "remember", None)
        if remember is not None:      # the next start connects here without asking
            threads.deferToThread(remember).addErrback(
                lambda f: self.log.info("could not save the server: {e}", e=f.value))
        if self.settings.register:
            self.out(self.fmt.system("registered", user=me))
        if data["user"].get("guest"):
            self.out(self.fmt.system("guest_welcome", user=me))
        if self.settings.admin_console and not self.client.model.admin:
            self.err(self.fmt.tr("forbidden"))
            self.client.close()
            self.finish(1)
            return
        self.out(self.fmt.system("welcome", user=me, online=data.get("online", 1),
                                 room=LOBBY[1:]))
        if self.client.model.policy.get("monitoring"):
            self.out(self.fmt.system("monitoring_allowed"))
        self._ready = True
        self._current_command = self._show_unread(data.get("unread", {}))
        self._current_command.addBoth(self._command_done)

    @defer.inlineCallbacks
    def _show_unread(self, unread: dict):
        """What came while the user was away: the newest unread messages of each chat."""
        for conv, count in sorted(unread.items()):
            if count <= 0:
                continue
            try:
                # the count is of others' messages; own ones in between are not news
                data = yield self.client.history(conv, limit=min(count + 20, 200))
            except Exception:
                continue   # the link went; the reconnect's catch-up shows the messages
            others = [m for m in data["messages"] if not self.fmt._is_me(m.get("from", ""))]
            if not others:
                continue
            self._print_history({**data, "messages": others[-20:]}, conv, "away_header",
                                count)

    def input_ended(self) -> None:
        """End of stdin (a pipe closed, ^D, /quit): finish once everything typed is done
        and every message acknowledged, or after ``--wait`` seconds."""
        self._input_ended = True
        self._next()

    def _finish_input(self) -> None:
        if self._closing:
            return
        self._closing = True
        def leave(_=None):
            if timer.active():
                timer.cancel()
            self._leave()
        timer = self.clock.callLater(self.settings.wait, leave)
        defer.DeferredList([self.client.when_idle()] + list(self._busy),
                           consumeErrors=True).addBoth(leave)

    def _leave(self, ended_by_server: bool = False) -> None:
        if self._left:
            return
        self._left = True
        unsent = self.client.outbox.unacked()
        if unsent:
            listed = "\n".join(f"  {out.to} {out.text!r}" for out in unsent)
            self.err(self.fmt.tr("unsent_at_exit", n=len(unsent), list=listed))
        if self._unsent_failures:
            listed = "\n".join(f"  {out.to} {out.text!r}" for out in self._unsent_failures)
            self.err(self.fmt.tr("refused_at_exit", n=len(self._unsent_failures), list=listed))
        if self._failed_transfers:
            self.err(self.fmt.tr("transfers_failed_at_exit", n=len(self._failed_transfers)))
        code = 1 if (unsent or self._unsent_failures or self._failed_transfers
                     or ended_by_server) else 0
        self._goodbye().addBoth(lambda _: self.finish(code))

    def _goodbye(self) -> defer.Deferred:
        """Hand the server the read marks not sent yet (so the next start does not show the
        same messages as new), then log out; at most GOODBYE_WAIT seconds."""
        d = self.client.flush_reads()
        d.addBoth(lambda _: self.client.logout())
        d.addTimeout(GOODBYE_WAIT, self.clock)
        d.addErrback(lambda _: self.client.close())
        return d

    def interrupted(self) -> None:
        """Ctrl-C: say goodbye once and exit with status 130, without reconnecting; a
        second Ctrl-C stops at once."""
        if not self._interrupted:
            self.out(self.fmt.system("goodbye"))
        if self._interrupted or self._left or not self._ready:
            self._interrupted = True
            self.client.close()
            self.finish(130)
            return
        self._interrupted = self._left = True
        self._lines.clear()
        unsent = self.client.outbox.unacked()
        if unsent:
            listed = "\n".join(f"  {out.to} {out.text!r}" for out in unsent)
            self.err(self.fmt.tr("unsent_at_exit", n=len(unsent), list=listed))
        self._goodbye().addBoth(lambda _: self.finish(130))

    def finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
            self.on_exit(code)

    # ------------------------------------------------------------------ input
    def line(self, text: str) -> None:
        """A line the user typed; lines are carried out one after the other, so that the
        line after ``/join dev`` goes to #dev."""
        self._lines.append(text)
        self._next()

    def _next(self, _=None) -> None:
        while self._ready and self._current_command is None and self.exit_code is None:
            if not self._lines:
                if self._input_ended:
                    self._finish_input()
                return
            if self._wait_for_sends(self._lines[0]):
                # the echo of a message sent before must come before this command's output
                self._sends_barrier = defer.Deferred()
                self.client.when_idle().addBoth(self._release_sends)
                self._current_command = self._sends_barrier
                self._current_command.addBoth(self._command_done)
                return
            result = self._run(self._lines.popleft())
            if isinstance(result, defer.Deferred):
                self._current_command = self._track(result)
                self._current_command.addErrback(self._command_failed)
                self._current_command.addBoth(self._command_done)

    def _wait_for_sends(self, text: str) -> bool:
        if self.client.state is not LinkState.ONLINE or not any(
                out.state is OutState.SENT for out in self.client.outbox.unacked()):
            return False
        try:
            command = parse_line(text)
        except ParseError:
            return True
        return command is not None and not (command.name in SENDING and command.text)

    def _release_sends(self, _=None) -> None:
        barrier, self._sends_barrier = self._sends_barrier, None
        if barrier is not None:
            barrier.callback(None)

    def _command_done(self, _) -> None:
        self._current_command = None
        self._next()

    def _run(self, text: str):
        try:
            command = parse_line(text)
        except ParseError as error:
            self.out(self.fmt.system(error.key, **error.params))
            return None
        if command is None:
            return None
        handler = getattr(self, f"do_{command.name}", None)
        if handler is None:
            self.out(self.fmt.system("unknown_command", command="/" + command.name))
            return None
        return handler(command)

    def _track(self, d: defer.Deferred) -> defer.Deferred:
        """Remember a request until it is answered (the end of input waits for it)."""
        self._busy.add(d)

        def done(result):
            self._busy.discard(d)
            return result
        return d.addBoth(done)

    def _command_failed(self, failure) -> None:
        if failure.check(RequestFailed):
            error = failure.value
            self.out(self.fmt.error(error.code, error.message))
        elif failure.check(NotConnected):
            self.out(self.fmt.system("not_connected"))
        elif failure.check(defer.CancelledError):
            pass
        else:
            self.out(self.fmt.system("connection_lost"))

    # ------------------------------------------------------------------ commands
    def do_say(self, command):
        self._send(self.current, command.text)

    def do_burn(self, command):
        ttl = self.client.model.limits.get("burn_ttl_default", 5)
        self._send(self.current, command.text, burn=ttl)
        self.out(self.fmt.system("burn_sent", seconds=ttl))

    def _send(self, conv, text, burn=None) -> None:
        self.client.send(conv, text, burn)
        if self.client.state is not LinkState.ONLINE:
            # offline: the message waits in the outbox; say so, or it looks lost
            self.out(self.fmt.system("pending", n=len(self.client.outbox)))

    def do_msg(self, command):
        if command.target.casefold() == (self.fmt.me or "").casefold():
            self.out(self.fmt.system("msg_self"))   # as the desktop client refuses it
            return
        conv = "@" + command.target
        if command.text:
            self._send(conv, command.text)
        else:
            self.current = conv
            self.out(self.fmt.system("now_in", conv=conv))

    @defer.inlineCallbacks
    def do_join(self, command):
        try:
            data = yield self.client.join(command.target)
        except RequestFailed as error:
            if error.code != "not_found":
                raise
            data = yield self.client.create_room(command.target)
            self.out(self.fmt.system("room_created", room=data["room"]["name"]))
        room = data["room"]
        self.current = "#" + room["name"]
        self.out(self.fmt.system("you_joined", room=room["name"], topic=room.get("topic", "")))

    @defer.inlineCallbacks
    def do_leave(self, command):
        room = command.target or self._current_room()
        if room is None:
            self.out(self.fmt.system("usage", usage="/leave room"))
            return
        yield self.client.leave(room)
        self.out(self.fmt.system("you_left", room=room))
        if self.current.casefold() == ("#" + room).casefold():
            self.current = LOBBY
            self.out(self.fmt.system("now_in", conv=LOBBY))

    def _current_room(self):
        return self.current[1:] if self.current.startswith("#") else None

    @defer.inlineCallbacks
    def do_rooms(self, command):
        data = yield self.client.rooms()
        rooms = data["rooms"]
        if self.client.model.admin:
            for room in rooms:
                members = yield self.client.members(room["name"])
                room["member_names"] = [m["name"] for m in members["members"]]
        self._print(self.fmt.rooms(rooms))

    @defer.inlineCallbacks
    def do_users(self, command):
        # every account (page after page, as the server sorts them by name), or with -o only
        # who is online; shown online first, then the others by when they were last seen
        data = yield self.client.users(online=bool(command.flag))
        users = list(data["users"])
        pages = 1
        while data.get("more") and users and pages < USERS_PAGES:
            data = yield self.client.users(online=bool(command.flag), after=users[-1]["name"])
            users.extend(data["users"])
            pages += 1
        users.sort(key=lambda u: u["name"].casefold())
        users.sort(key=lambda u: u.get("last_seen") or "", reverse=True)
        users.sort(key=lambda u: not u.get("online"))
        self._print(self.fmt.users(dict(data, users=users)))

    @defer.inlineCallbacks
    def do_topic(self, command):
        room = self._current_room()
        if room is None:
            self.out(self.fmt.system("usage", usage="/join room"))
            return
        if not command.text:
            info = self.client.model.room(room)
            topic = info.topic if info else ""
            if topic:
                self.out(self.fmt.system("topic_show", room=room, topic=topic))
            else:
                self.out(self.fmt.system("topic_none", room=room))
            return
        yield self.client.set_topic(room, command.text)

    @defer.inlineCallbacks
    def do_history(self, command):
        data = yield self.client.history(self.current, limit=command.number)
        self._print_history(data, self.current, "history_header", len(data["messages"]))

    def _print_history(self, data, conv, header, count) -> None:
        messages = data["messages"]
        if not messages:
            self.out(self.fmt.system("no_history", conv=conv))
            return
        lines = self.fmt.history(conv, messages)
        if header != "history_header":
            lines[0] = self.fmt.system(header, conv=conv, n=count)
        self._print(lines)
        self.client.mark_read(conv, messages[-1]["id"])

    def do_help(self, command):
        self.out(self.fmt.tr("help_user"))
        if self.client.model.admin:
            self.out(self.fmt.tr("help_admin"))

    def do_quit(self, command):
        self._lines.clear()
        self.input_ended()

    # -- files: they move in the background; the end of input waits for them
    def do_send(self, command):
        if command.target == "all":
            target = "@all"
        elif command.target:
            target = "@" + command.target
        else:
            target = self.current
        path = os.path.expanduser(command.text)
        if not os.path.isfile(path):
            self.out(self.fmt.system("no_such_file", path=command.text))
            self._failed_transfers.append(path)    # a script must see it in the exit status
            return
        self._start_transfer(self.client.send_file(target, path))

    def do_get(self, command):
        folder = os.path.expanduser(command.text or DOWNLOADS)
        if self.client.downloading(command.number, folder) is not None:
            # the same file into the same folder joins the running download, never a second one
            self.out(self.fmt.system("transfer_joined", id=command.number,
                                     folder=command.text or DOWNLOADS))
            return
        self._start_transfer(self.client.download(command.number, folder))

    def _start_transfer(self, transfer) -> None:
        self._track(transfer.finished).addErrback(
            lambda f: self.log.failure("transfer of {name} broke", f, name=transfer.name))

    @defer.inlineCallbacks
    def do_files(self, command):
        data = yield self.client.request(C.Files(conv=self.current))
        self._print(self.fmt.files(self.current, data["files"], data.get("more", False)))

    # -- admin commands: the server decides who may; a refusal prints as `forbidden`
    @defer.inlineCallbacks
    def do_notice(self, command):
        data = yield self.client.request(C.SendNotice(text=command.text,
                                                      to=command.target or None))
        self.out(self.fmt.system("notice_sent", n=data.get("delivered", 0)))

    @defer.inlineCallbacks
    def do_list(self, command):
        data = yield self.client.request(C.Sessions())
        self._print(self.fmt.sessions(data))

    @defer.inlineCallbacks
    def do_user(self, command):
        data = yield self.client.request(C.UserInfo(user=command.target))
        self._print(self.fmt.user_info(data["user"]))

    @defer.inlineCallbacks
    def do_kick(self, command):
        data = yield self.client.request(C.Kick(user=command.target, reason=command.text or ""))
        self.out(self.fmt.system("kick_done", user=command.target, n=data.get("closed", 0)))

    @defer.inlineCallbacks
    def do_ban(self, command):
        data = yield self.client.request(C.Ban(user=command.target, reason=command.text or ""))
        self.out(self.fmt.system("ban_done", user=command.target, n=data.get("closed", 0)))

    @defer.inlineCallbacks
    def do_unban(self, command):
        yield self.client.request(C.Unban(user=command.target))
        self.out(self.fmt.system("unban_done", user=command.target))

    @defer.inlineCallbacks
    def do_monitor(self, command):
        yield self.client.request(C.Monitor(on=command.flag))
        self.out(self.fmt.system("monitor_on" if command.flag else "monitor_off"))

    @defer.inlineCallbacks
    def do_shutdown(self, command):
        yield self.client.request(C.Shutdown(seconds=command.number,
                                             message=command.text or ""))

    def _print(self, lines) -> None:
        for line in lines:
            self.out(line)

    # ------------------------------------------------------------------ client events
    def on_state(self, state, reason=None, retry_in=None) -> None:
        if state is not LinkState.ONLINE:
            self._release_sends()      # what was on the wire goes again after the reconnect
        if not self._ready or self._interrupted:
            return  # the login's own outcome is reported by start(); Ctrl-C said goodbye
        if state is LinkState.RECONNECTING:
            self.out(self.fmt.system("reconnecting", reason=reason or "",
                                     seconds=f"{retry_in:.0f}"))
        elif state is LinkState.OFFLINE and not self._left:
            # the server ended the session for good (kicked, banned, password changed)
            if not self._bye_shown:
                self.out(self.fmt.system("server_closed", message=reason or ""))
            self._leave(ended_by_server=True)

    def on_logged_in(self, data, first) -> None:
        self._bye_shown = False
        if not first:
            servers = getattr(self.settings, "servers", None) or []
            server = getattr(self.client, "server", None)
            if len(servers) > 1 and server is not None:     # which node it is on now
                self.out(self.fmt.system("reconnected_to", server=str(server)))
            else:
                self.out(self.fmt.system("reconnected"))

    def on_message(self, msg, live) -> None:
        self.out(self.fmt.message(msg, self.current))
        if msg.get("from") != self.fmt.me:
            self.client.mark_read(msg["conv"], msg["id"])

    def on_failed(self, out) -> None:
        self._unsent_failures.append(out)
        code, message = out.error
        self.out(self.fmt.system("send_failed", text=out.text))
        self.out(self.fmt.error(code, message))

    def on_transfer(self, transfer) -> None:
        state = transfer.state.value
        if (state == "receiving" and transfer.resumed_from
                and (id(transfer), transfer.resumed_from) not in self._resumes_shown):
            # a resume says so once: what was on the disk is used, the rest is fetched
            self._resumes_shown.add((id(transfer), transfer.resumed_from))
            self.out(self.fmt.system("transfer_resumed", name=transfer.name,
                                     done=human_size(transfer.resumed_from)))
        if state in ("sending", "receiving"):
            if self.inline_progress:
                self.progress(self.fmt.transfer(transfer))
                return
            step = int(transfer.percent // PROGRESS_STEP)
            if self._progress_steps.get(id(transfer)) == step:
                return
            self._progress_steps[id(transfer)] = step
        elif state in ("done", "failed", "cancelled"):
            self._progress_steps.pop(id(transfer), None)
            if state == "failed":
                self._failed_transfers.append(transfer)
        elif transfer.restarted and id(transfer) not in self._restarts_shown:
            self._restarts_shown.add(id(transfer))
            self.out(self.fmt.system("transfer_restarted", name=transfer.name))
            return
        elif state == "offering" or (state == "waiting" and self.client.is_online):
            return      # an offer is quick; a transfer waits for the link only when offline
        self.out(self.fmt.transfer(transfer))

    def on_presence(self, event) -> None:
        for change in event["changes"]:
            if change["user"] != self.fmt.me:
                key = "online" if change["online"] else "offline"
                self.out(self.fmt.system(key, user=change["user"]))

    def on_joined(self, event) -> None:
        if event["user"] != self.fmt.me:
            self.out(self.fmt.system("joined", user=event["user"], room=event["room"]))

    def on_left(self, event) -> None:
        if event["user"] != self.fmt.me:
            self.out(self.fmt.system("left", user=event["user"], room=event["room"]))

    def on_topic(self, event) -> None:
        self.out(self.fmt.system("topic", room=event["room"], topic=event["topic"],
                                 by=event["by"]))

    def on_read(self, event) -> None:
        if event["conv"].startswith("@") and event["user"] != self.fmt.me:
            self.out(self.fmt.system("read", user=event["user"]))

    def on_burned(self, event) -> None:
        self.out(self.fmt.system("burned", n=len(event["ids"])))

    def on_notice(self, event) -> None:
        self.out(self.fmt.notice(event))

    def on_monitor(self, event) -> None:
        self.out(self.fmt.monitor(event["msg"]))

    def on_bye(self, code, message) -> None:
        self._bye_shown = True
        if code in ("kicked", "banned"):
            self.out(self.fmt.system("kicked", by_message=message))
        elif code != "shutdown":
            self.out(self.fmt.system("server_closed", message=message))


def _writer(stream):
    """print() to ``stream`` at once (a pipe must see each line as it happens)."""
    def write(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()
    return write
