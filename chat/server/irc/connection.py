"""One IRC client connection: lines in, commands to :mod:`.commands`, IRC lines out.

It is a peer of the server like a native connection: it logs in through the same handlers
(SASL PLAIN or ``PASS`` with the account's password; a guest when the server allows guests),
gets the server's typed events through :meth:`deliver` and renders them with :mod:`.events`.

Abuse is bounded: a line over the limits gets 417 and its bytes are dropped as they come;
``MALFORMED_IN_A_ROW`` bad lines in a row close the connection; lines beyond a burst wait
(flood control by delay, as most IRC servers do) and a queue of more than ``MAX_QUEUED``
waiting lines closes it ("Excess Flood"); output the peer does not read is counted and the
connection is dropped past the server's ``max_output_buffer``; registration must be over
within the server's ``login_timeout``; a registered connection is pinged when silent and
closed after the server's ``timeout``.
"""

import itertools
import secrets
from collections import deque

from twisted.internet.protocol import Protocol
from twisted.logger import Logger

from zope.interface import implementer

from chat.protocol.heartbeat import Heartbeat
from chat.server.core import ServerConfig
from chat.server.session import IPeer, State
from chat.server.irc import commands, events, login
from chat.server.irc import numerics as N
from chat.server.irc.caps import CapNegotiation
from chat.server.irc.lines import (
    TOO_LONG, LineReader, Message, ParseError, parse_line, truncate_line)
from chat.server.irc.registration import Registration
from chat.server.irc.sasl import SaslExchange

MALFORMED_IN_A_ROW = 20
FLOOD_BURST = ServerConfig.irc_flood_burst
"""Lines a client may send at once before flood control makes them wait (the default of
``--irc-flood-burst``)."""
FLOOD_RATE = ServerConfig.irc_flood_rate
"""Lines per second after the burst (the default of ``--irc-flood-rate``; 0: no flood
control, for benchmarks)."""
MAX_QUEUED = 400
"""Lines waiting for flood control at most; one more closes the connection."""
ABORT_AFTER = 10.0
MAX_LABEL = 64

log = Logger(namespace="chat.server.irc.connection.IRCConnection")

_batch_ids = itertools.count(1)


class OutputWatch:
    """The connection's output as a streaming producer: ``paused`` while the peer does not
    read (Twisted pauses it when the transport's buffer is full)."""

    __slots__ = ("connection", "paused")

    def __init__(self, connection):
        self.connection = connection
        self.paused = False

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        if self.connection is not None:
            self.connection.unsent = 0

    def stopProducing(self):
        self.paused = False


class Reply:
    """Where the answers to one command go: straight out, or, for a command with a
    ``label`` tag (labeled-response), collected and sent labelled when the command is done
    (one line tagged, several in a ``labeled-response`` batch, none as ``ACK``)."""

    def __init__(self, connection, label=None):
        self.connection = connection
        self.label = label
        self.lines = [] if label is not None else None
        self.done = False

    def send(self, message: Message) -> None:
        if self.lines is not None and not self.done:
            self.lines.append(message)
        else:
            self.connection.send(message)

    def numeric(self, code: str, *params) -> None:
        self.send(Message(code, [self.connection.target, *params],
                          self.connection.gateway.info.name))

    def finish(self, _=None):
        if self.done:
            return _
        self.done = True
        if self.lines is None:
            return _
        lines, self.lines = self.lines, None
        connection = self.connection
        if not lines:
            connection.send(Message("ACK", [], connection.gateway.info.name,
                                    {"label": self.label}))
        elif len(lines) == 1:
            lines[0].tags = {"label": self.label, **lines[0].tags}
            connection.send(lines[0])
        else:
            ref = f"L{next(_batch_ids)}"
            connection.send(Message("BATCH", ["+" + ref, "labeled-response"],
                                    connection.gateway.info.name, {"label": self.label}))
            for line in lines:
                line.tags = {"batch": ref, **line.tags}
                connection.send(line)
            connection.send(Message("BATCH", ["-" + ref], connection.gateway.info.name))
        return _


@implementer(IPeer)
class IRCConnection(Protocol):
    """The server side of one IRC client."""

    kind = "irc"

    def __init__(self, gateway):
        self.gateway = gateway
        self.server = gateway.server
        self.reader = LineReader()
        self.caps = CapNegotiation()
        self.sasl = SaslExchange()
        self.registration = Registration(self)
        self.client_name = "IRC"
        self.last_request = None
        self.host = "?"
        self.port = None
        self.address = "?"
        self.connected_at = 0.0
        self.away = None                 # the away message, or None
        self.invisible = False           # user mode +i (shown only; nobody lists users)
        self.open_channels: dict = {}    # room key -> channel name shown to the client
        self.sent_cids: dict = {}        # cid of a message this connection sent -> Reply
        self.shown: dict = {}            # room key -> account ids shown present there
        # the Reply of a JOIN, PART or TOPIC waiting for its event (labeled-response)
        self.pending_joins: dict = {}
        self.pending_parts: dict = {}
        self.pending_topics: dict = {}
        self.sasl_running = None         # the Deferred of a SASL login being checked
        self.closed = False
        self.admitted = False
        self.unsent = 0
        self.output = OutputWatch(self)
        self._malformed = 0
        self._queue: deque = deque()
        self._tokens = float(self.server.config.irc_flood_burst)
        self._tokens_at = 0.0
        self._drain_call = None
        self._busy = 0                   # commands (or a login) whose answer is not out yet
        self._draining = False
        self._login_timer = None
        self._heartbeat = None
        self._abort_call = None
        self._watching = False
        self._closing = False
        self.quit_reason = None          # what others are told when this user goes
        self._quit_announced = False
        self._cids = itertools.count(1)
        self._cid_prefix = secrets.token_hex(8)
        # the state machine of its session (who is logged in; chat.server.lifecycle)
        self.lifecycle = self.server.open_session(self)

    # -- names
    @property
    def registered(self) -> bool:
        return self.registration.is_registered and not self.closed

    @property
    def nick(self):
        if self.session is not None:
            return self.session.name
        return self.registration.nick

    @property
    def target(self) -> str:
        """What numerics are addressed to: the nick, or ``*`` before there is one."""
        return self.nick or "*"

    @property
    def mask(self) -> str:
        return self.gateway.mask(self.nick, self.session.account_id if self.session else None)

    def next_cid(self) -> str:
        """A client id for a message this connection sends: unique for ever (the server
        drops a second message with a cid it has stored from the same sender, so ids must
        not repeat across connections or restarts)."""
        return f"irc-{self._cid_prefix}-{next(self._cids)}"

    # -- life cycle
    def connectionMade(self):
        peer = self.transport.getPeer()
        self.host = getattr(peer, "host", "?")
        self.port = getattr(peer, "port", None)
        self.address = f"{self.host}:{self.port if self.port is not None else '?'}"
        self.connected_at = self.server.clock.seconds()
        self._tokens_at = self.connected_at
        set_no_delay = getattr(self.transport, "setTcpNoDelay", None)
        if set_no_delay is not None:
            set_no_delay(True)
        self._raw_write = self.server.flusher.writer_for(self.transport)
        log.info("IRC connection from {address}", address=self.address)
        self.gateway.connections.add(self)
        refusal = self.server.admit(self)
        if refusal is not None:
            self.close(*refusal)
            self.closed = True
            return
        self._watch_output()
        timeout = self.server.config.login_timeout
        if timeout:
            self._login_timer = self.server.clock.callLater(timeout, self._registration_overdue)
        self.server.connection_made(self)
        self.lifecycle.open()
        self.lifecycle.hello("IRC")        # IRC has no hello: a new connection may log in

    def connectionLost(self, reason=None):
        was_registered = self.registration.is_registered
        quit_mask = self.mask if was_registered and self.session is not None else None
        self.closed = True
        self.registration.lost()
        for call in (self._login_timer, self._drain_call, self._abort_call):
            if call is not None and call.active():
                call.cancel()
        self._login_timer = self._drain_call = self._abort_call = None
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        self._queue.clear()
        self.reader = None
        self._watching = False
        self.output.connection = None
        self.gateway.connections.discard(self)
        log.info("IRC connection from {address} closed{user}", address=self.address,
                 user=f" (user {self.session.name})" if self.session else "")
        session = self.session
        self.lifecycle.close()
        self.server.connection_lost(self)
        if was_registered and session is not None:
            self._announce_quit(session, self.quit_reason or "Connection closed", quit_mask)
            self.gateway.idents.pop(session.account_id, None)

    def _announce_quit(self, session, reason: str, mask: str) -> None:
        """Tell the IRC users who see this user at once, with the reason, when this was the
        account's last connection (the server's presence notice, which comes a little later
        and says only "Went offline", is then a repeat they no longer show)."""
        if self._quit_announced or self.server.presence.is_online(session.account_id):
            return
        self._quit_announced = True
        line = Message("QUIT", [reason], mask)
        for peer in list(self.gateway.connections):
            if peer is self or not peer.registered:
                continue
            seen = False
            for shown in peer.shown.values():
                if session.account_id in shown:
                    shown.discard(session.account_id)
                    seen = True
            if seen:
                peer.send(Message(line.command, list(line.params), line.source))

    @property
    def session(self):
        """The Session this connection is logged in as, or None."""
        return self.lifecycle.session

    @property
    def logins_running(self) -> int:
        return self.lifecycle.logins_running

    def state_changed(self, state) -> None:
        """Told by the lifecycle after each transition: a logout (an admin's kick) while
        registered means the connection goes; IRC cannot be logged out and stay."""
        if state is State.READY and self.registration.is_registered and not self.closed:
            self.quit("Logged out")

    def close(self, code: str, reason: str) -> None:
        """The peer interface's close: ``ERROR`` with the reason, then the link goes."""
        self.quit(f"{reason}" if reason else code)

    def quit(self, reason: str) -> None:
        if self.closed or self._closing:
            return
        self._closing = True
        self.quit_reason = reason
        self.lifecycle.closing()
        self.send(Message("ERROR", [f"Closing link: {self.host} ({reason})"]))
        self._raw_flush()
        self._unwatch_output()
        self.transport.loseConnection()
        self._abort_call = self.server.clock.callLater(ABORT_AFTER, self._abort)

    def _abort(self):
        self._abort_call = None
        if not self.closed:
            self.transport.abortConnection()

    def _registration_overdue(self):
        self._login_timer = None
        if self.registered or self.closed:
            return
        if self.logins_running:
            self._login_timer = self.server.clock.callLater(1.0, self._registration_overdue)
            return
        self.quit("Registration timed out")

    def keep_alive(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.activity()

    def pause_reading(self) -> None:
        self.transport.pauseProducing()

    def resume_reading(self) -> None:
        self.transport.resumeProducing()

    def cancel(self, request_id) -> bool:
        return False          # IRC has no uploads or downloads

    # -- output
    def send(self, message: Message) -> None:
        if self.closed:
            return
        if "account-tag" in self.caps.enabled and "account" not in message.tags:
            # account-tag: every line from a user logged in to an account says which
            account = self.gateway.account_of_source(message.source)
            if account is not None:
                message.tags = {**message.tags, "account": account}
        if message.tags and "message-tags" not in self.caps.enabled:
            # without message-tags a client gets only the tags of caps it asked for
            allowed = {"time": "server-time", "account": "account-tag",
                       "batch": "batch", "label": "labeled-response"}
            message.tags = {k: v for k, v in message.tags.items()
                            if allowed.get(k) in self.caps.enabled}
        self._write(truncate_line(message.to_bytes()))

    def _write(self, data: bytes) -> None:
        if self.output.paused:
            self.unsent += len(data)
            limit = self.server.config.max_output_buffer
            if limit and self.unsent > limit:
                return self._drop_slow_reader()
        self._raw_write(data)

    def _raw_flush(self):
        self.server.flusher.flush_transport(self.transport)

    def _drop_slow_reader(self):
        log.warn("dropping IRC {address}: over {n} bytes of output it does not read",
                 address=self.address, n=self.server.config.max_output_buffer)
        self.closed = True
        self._raw_write(b"ERROR :Closing link (SendQ exceeded)\r\n")
        self._raw_flush()
        self._unwatch_output()
        self.transport.abortConnection()

    def _watch_output(self):
        if not self._watching and not self.closed:
            self.transport.registerProducer(self.output, True)
            self._watching = True

    def _unwatch_output(self):
        if self._watching:
            self._watching = False
            self.output.paused = False
            self.transport.unregisterProducer()

    def server_notice(self, text: str) -> None:
        self.send(Message("NOTICE", [self.target, text], self.gateway.info.name))

    def numeric(self, code: str, *params) -> None:
        self.send(Message(code, [self.target, *params], self.gateway.info.name))

    # -- input
    def dataReceived(self, data: bytes):
        if self.closed or self._closing or self.reader is None:
            return
        for line in self.reader.feed(data):
            if self.closed or self._closing:
                return
            if line is TOO_LONG:
                self.numeric(N.ERR_INPUTTOOLONG, "Input line was too long")
                self._bad_line("an overlong line")
                continue
            self._queue.append(line)
            if len(self._queue) > MAX_QUEUED:
                log.warn("closing IRC {address}: excess flood", address=self.address)
                self._queue.clear()
                return self.quit("Excess Flood")
        self._drain()

    def _drain(self) -> None:
        """Run the queued lines the flood budget allows; the rest wait for it to refill.

        One command at a time: while a command's request is with the server (a JOIN being
        stored, a login's password being hashed) the next lines wait, so that replies come
        in the order of the commands, as IRC clients expect (a ``PING`` sent after a
        ``JOIN`` is answered after the JOIN's replies)."""
        self._drain_call = None
        if self._draining:
            return
        self._draining = True
        try:
            config = self.server.config
            rate = config.irc_flood_rate
            now = self.server.clock.seconds()
            if rate:
                self._tokens = min(config.irc_flood_burst,
                                   self._tokens + (now - self._tokens_at) * rate)
            else:
                self._tokens = float(config.irc_flood_burst)   # no flood control
            self._tokens_at = now
            while self._queue and not self.closed and not self._closing and not self._busy:
                if self._tokens < 1 and rate:
                    if self._drain_call is None:
                        wait = (1 - self._tokens) / rate
                        self._drain_call = self.server.clock.callLater(wait, self._drain)
                    return
                if rate:
                    self._tokens -= 1
                self._line(self._queue.popleft())
        finally:
            self._draining = False

    def hold_input(self, d):
        """Keep the next lines waiting until ``d`` (a command's request) has fired."""
        self._busy += 1

        def release(result):
            self._busy -= 1
            if not self._busy and not self._draining and not self.closed \
                    and self._drain_call is None:
                self._drain()
            return result
        d.addBoth(release)
        return d

    def _bad_line(self, what: str) -> None:
        self._malformed += 1
        if self._malformed >= MALFORMED_IN_A_ROW:
            log.warn("closing IRC {address}: {n} bad lines in a row ({what})",
                     address=self.address, n=self._malformed, what=what)
            self.quit(f"{self._malformed} malformed lines in a row")

    def _line(self, raw: bytes) -> None:
        if self._heartbeat is not None:
            self._heartbeat.activity()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.send(Message("FAIL", [_command_word(raw),
                                       "INVALID_UTF8",
                                       "Message rejected, your IRC software MUST use UTF-8 "
                                       "encoding on this network"],
                              self.gateway.info.name))
            return self._bad_line("not UTF-8")
        if "\0" in text:
            return self._bad_line("a NUL byte")
        try:
            message = parse_line(text)
        except ParseError:
            return self._bad_line("no command")
        self._malformed = 0
        label = None
        if "labeled-response" in self.caps.enabled:
            label = message.tags.get("label")
            if label is not None and (not label or len(label) > MAX_LABEL):
                label = None
        reply = Reply(self, label)
        try:
            result = commands.dispatch(self, message, reply)
        except Exception:
            log.failure("IRC command {command} from {address} failed",
                        command=message.command, address=self.address)
            reply.numeric("400", message.command, "Internal server error")
            result = None
        if result is not None and hasattr(result, "addBoth"):
            result.addErrback(self._command_failed, message.command, reply)
            result.addBoth(reply.finish)
            self.hold_input(result)
        else:
            reply.finish()

    def _command_failed(self, failure, command, reply):
        log.failure("IRC command {command} from {address} failed", failure,
                    command=command, address=self.address)
        reply.numeric("400", command, "Internal server error")

    # -- registration (the driver of chat.server.irc.registration.Registration)
    def check_login(self, registration):
        if self.sasl_running is not None:      # CAP END while SASL's password is checked
            self.sasl_running.addBoth(lambda _: self.check_login(registration))
            return
        d = login.check(self, registration)
        if d is not None:
            self.hold_input(d)      # what follows NICK/USER waits for the login's answer

    def welcome(self, registration):
        if self._login_timer is not None and self._login_timer.active():
            self._login_timer.cancel()
        self._login_timer = None
        self._heartbeat = Heartbeat(self.server.clock, self._ping, self._expire,
                                    self.server.config.ping_after, self.server.config.timeout)
        self._heartbeat.start()
        login.welcome(self)

    def _ping(self):
        self.send(Message("PING", [self.gateway.info.name]))

    def _expire(self):
        self._heartbeat = None
        self.quit(f"Ping timeout: {self.server.config.timeout:.0f} seconds")

    # -- events from the server
    def deliver(self, event) -> None:
        if self.closed or not self.registered:
            return
        events.render(self, event)


def _command_word(raw: bytes) -> str:
    """The command of a line that is not UTF-8, for its FAIL (``*`` if there is none)."""
    words = raw.split()
    while words and words[0][:1] in (b"@", b":"):
        words.pop(0)
    word = words[0][:20].decode("ascii", "replace").upper() if words else ""
    return word if word.isalnum() else "*"

