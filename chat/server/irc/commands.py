"""IRC commands that are not about channels: registration (CAP, NICK, USER, PASS,
AUTHENTICATE), PING/PONG, QUIT, PRIVMSG/NOTICE, AWAY, WHO, WHOIS, USERHOST, ISON, user MODE,
MOTD, LUSERS, VERSION. Channel commands are in :mod:`.channel_commands`.

:func:`dispatch` runs one parsed line: the right numeric for an unknown command (421), one
that needs registration first (451) or lacks parameters (461); a handler may return a
Deferred (a request to the server), and its replies go out labelled when it fires.
"""

import fnmatch

from twisted.internet import defer

from chat import __version__
from chat.protocol import commands as C
from chat.protocol.timestamps import format_ts, now_ms
from chat.protocol.errors import FORBIDDEN, NOT_FOUND, RATE_LIMITED, TOO_LARGE, ProtocolError
from chat.server.conversations import LOBBY
from chat.server.irc import channel_commands, history
from chat.server.irc import numerics as N
from chat.server.irc.casemap import BadName, irc_fold, is_channel, nick_key, nick_name
from chat.server.irc.lines import Message
from chat.server.irc.gateway import make_request as make
from chat.server.irc.login import login_request
from chat.server.irc.render import ACTION_PREFIX
from chat.server.irc.sasl import SaslFailure, failure_lines
from chat.server.irc.welcome import AWAYLEN, motd

PRE_REGISTRATION = frozenset({"CAP", "NICK", "USER", "PASS", "AUTHENTICATE", "PING", "PONG",
                              "QUIT"})
MAX_TARGETS = 4


class Command:
    """A handler and how many parameters it needs."""

    __slots__ = ("run", "min_params")

    def __init__(self, run, min_params=0):
        self.run = run
        self.min_params = min_params


COMMANDS: dict = {}


def command(name, min_params=0):
    def register(run):
        COMMANDS[name] = Command(run, min_params)
        return run
    return register


def dispatch(connection, message: Message, reply):
    entry = COMMANDS.get(message.command)
    if entry is None:
        reply.numeric(N.ERR_UNKNOWNCOMMAND, message.command, "Unknown command")
        return None
    if not connection.registered and message.command not in PRE_REGISTRATION:
        reply.numeric(N.ERR_NOTREGISTERED, "You have not registered")
        return None
    if len(message.params) < entry.min_params:
        reply.numeric(N.ERR_NEEDMOREPARAMS, message.command, "Not enough parameters")
        return None
    if message.command not in ("PING", "PONG"):
        connection.last_request = connection.server.clock.seconds()
    return entry.run(connection, message, reply)


# -- registration
@command("CAP", 1)
def cap(connection, message, reply):
    registered = connection.registered
    lines, effect = connection.caps.handle(message.params, connection.nick if registered
                                           else connection.registration.nick, registered)
    for line in lines:
        line.source = connection.gateway.info.name
        reply.send(line)
    if effect == "suspend":
        connection.registration.cap_begin()
    elif effect == "end":
        connection.registration.cap_end()


@command("NICK")
def nick(connection, message, reply):
    if not message.params or not message.params[0]:
        reply.numeric(N.ERR_NONICKNAMEGIVEN, "No nickname given")
        return
    wanted = message.params[0]
    try:
        name = nick_name(wanted)
    except BadName as error:
        reply.numeric(N.ERR_ERRONEUSNICKNAME, wanted, f"Erroneous nickname: {error}")
        return
    if connection.registered:
        session = connection.session
        if name == session.name:
            return
        if not connection.gateway.is_guest(session.account_id):
            reply.numeric(N.ERR_NICKLOCKED, "Your nick is your account's name here; it cannot "
                                            "change (log in as another account instead)")
            return
        _rename_guest(connection, name, wanted, reply)
        return
    if connection.session is not None and nick_key(name) != connection.session.key:
        # logged in by SASL: the nick will be the account's name; say so, keep going
        connection.registration.set_nick(connection.session.name)
        return
    gateway = connection.gateway
    holder = gateway.account_id(name)
    if holder is not None and gateway.is_online(holder) and gateway.is_guest(holder):
        reply.numeric(N.ERR_NICKNAMEINUSE, wanted, "Nickname is already in use")
        return
    connection.registration.set_nick(name)


def _rename_guest(connection, name, wanted, reply) -> None:
    """A guest's NICK after registration: the guest takes the new name (if it is free, by
    the rules of a guest's login) and keeps its rooms; IRC users who see it get ``NICK``,
    native users see the old name go offline and the new one come online."""
    gateway = connection.gateway
    session = connection.session
    old_mask, old_key = connection.mask, session.key
    try:
        old = connection.server.guests.rename(session, name)
    except ProtocolError:
        reply.numeric(N.ERR_NICKNAMEINUSE, wanted, "Nickname is already in use")
        return
    gateway.channels.rename(old_key, session.key)
    line = Message("NICK", [session.name], old_mask)
    reply.send(Message(line.command, list(line.params), line.source))
    for peer in channel_commands.peers_sharing(connection, include_self_account=True):
        if peer is not connection:
            peer.send(Message(line.command, list(line.params), line.source))
    notices = connection.server.notices
    notices.changed(old, False, guest=True)
    notices.changed(session.name, True, guest=True)


@command("USER", 4)
def user(connection, message, reply):
    if connection.registered or connection.registration.user is not None:
        reply.numeric(N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    ident, _, _, realname = message.params[:4]
    if not ident or not realname:
        reply.numeric(N.ERR_NEEDMOREPARAMS, "USER", "Not enough parameters")
        return
    connection.registration.set_user(ident[:16], realname[:100])


@command("PASS", 1)
def password(connection, message, reply):
    if connection.registered:
        reply.numeric(N.ERR_ALREADYREGISTERED, "You may not reregister")
        return
    registration = connection.registration
    registration.password = message.params[0]
    if registration.state_name == "waiting" and registration.identified():
        registration.set_nick(registration.nick)      # waiting for a password: go on


@command("AUTHENTICATE", 1)
def authenticate(connection, message, reply):
    if connection.registered:
        # the nick is the account's name, fixed at registration: no SASL afterwards
        reply.numeric(N.ERR_ALREADYREGISTERED, "You may not reregister (SASL logs in before "
                                               "registration ends)")
        return None
    if connection.session is not None:
        reply.numeric(N.ERR_SASLALREADY, "You have already authenticated using SASL")
        return None
    if getattr(connection, "sasl_running", None) is not None:
        reply.numeric(N.ERR_SASLFAIL, "SASL authentication failed: one at a time")
        return None
    nick = connection.registration.nick
    try:
        lines, credentials = connection.sasl.step(message.params[0], nick)
    except SaslFailure as failure:
        for line in failure_lines(failure, nick):
            line.source = connection.gateway.info.name
            reply.send(line)
        return None
    for line in lines:
        reply.send(line)
    if credentials is None:
        return None
    if credentials.authzid and nick_key_or_none(credentials.authzid) != \
            nick_key_or_none(credentials.authcid):
        reply.numeric(N.ERR_SASLFAIL, "SASL authentication failed: no authorization identity")
        return None
    d = login_request(connection, credentials.authcid, credentials.password)
    connection.sasl_running = d

    def done(result):
        connection.sasl_running = None
        if connection.closed:
            return None
        session = connection.session
        gateway = connection.gateway
        mask = gateway.mask(session.name, session.account_id)
        target = connection.registration.nick or "*"    # the nick is not registered yet
        reply.send(Message(N.RPL_LOGGEDIN, [target, mask, session.name,
                                            f"You are now logged in as {session.name}"],
                           gateway.info.name))
        reply.send(Message(N.RPL_SASLSUCCESS, [target, "SASL authentication successful"],
                           gateway.info.name))
        if connection.registration.nick is not None:
            connection.registration.nick = session.name
        return None

    def failed(failure):
        connection.sasl_running = None
        error = failure.value
        text = "SASL authentication failed"
        if isinstance(error, ProtocolError) and error.code in ("banned", RATE_LIMITED):
            text += f": {error.message}"
        elif not isinstance(error, ProtocolError):
            return failure
        reply.numeric(N.ERR_SASLFAIL, text)
        return None
    return d.addCallbacks(done, failed)


def nick_key_or_none(name):
    try:
        return nick_key(name)
    except BadName:
        return None


@command("PING")
def ping(connection, message, reply):
    if not message.params:
        reply.numeric("409", "No origin specified")
        return
    server = connection.gateway.info.name
    reply.send(Message("PONG", [server, message.params[0]], server))


@command("PONG")
def pong(connection, message, reply):
    """A sign of life (every line is one); nothing to answer."""


@command("QUIT")
def quit_(connection, message, reply):
    reason = message.params[0] if message.params else "Client quit"
    reply.finish()
    connection.quit(f"Quit: {reason}"[:300])


# -- messages
def _split_targets(raw: str) -> list:
    targets = []
    for target in raw.split(","):
        if target and target not in targets:
            targets.append(target)
    return targets[:MAX_TARGETS]


@command("PRIVMSG")
def privmsg(connection, message, reply):
    return _send(connection, message, reply, notice=False)


@command("NOTICE")
def notice(connection, message, reply):
    return _send(connection, message, reply, notice=True)


def _send(connection, message, reply, notice: bool):
    if not message.params or not message.params[0]:
        if not notice:
            reply.numeric(N.ERR_NORECIPIENT, f"No recipient given ({message.command})")
        return None
    if len(message.params) < 2 or message.params[1] == "":
        if not notice:
            reply.numeric(N.ERR_NOTEXTTOSEND, "No text to send")
        return None
    text = message.params[1]
    if text.startswith("\x01"):
        body = text.strip("\x01")
        kind, _, rest = body.partition(" ")
        if kind.upper() != "ACTION":
            # other CTCP (VERSION, PING ...) is between IRC clients: relayed, not stored
            for target in _split_targets(message.params[0]):
                _relay_ctcp(connection, message.command, target, text, reply, notice)
            return None
        text = ACTION_PREFIX + rest
    tags = client_tags(message)
    sends = [_send_one(connection, target, text, reply, notice, tags)
             for target in _split_targets(message.params[0])]
    sends = [d for d in sends if d is not None]
    if not sends:
        return None
    return defer.gatherResults(sends, consumeErrors=True)


def _direct_peers(connection, target, reply, quiet: bool):
    """The other IRC connections that a message to ``target`` goes to directly (CTCP and
    TAGMSG are between IRC clients), and the target's name as shown; None (and the error
    numeric unless ``quiet``) for a target that is not there."""
    gateway = connection.gateway
    if is_channel(target):
        room = gateway.room(target[1:]) if len(target) > 1 else None
        if room is None or connection.session.account_id not in gateway.member_ids(room.key):
            if not quiet:
                reply.numeric(N.ERR_CANNOTSENDTOCHAN if room else N.ERR_NOSUCHCHANNEL, target,
                              "Cannot send to channel")
            return None
        return ([peer for peer in channel_commands.irc_peers_in(gateway, room.key)
                 if peer is not connection], "#" + room.name)
    account_id = nick_key_or_none(target) and gateway.account_id(nick_name(target))
    if account_id is None:
        if not quiet:
            reply.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")
        return None
    to_self = account_id == connection.session.account_id     # received like any message
    return ([peer for peer in gateway.irc_peers(account_id)
             if peer is not connection or to_self], gateway.display_name(account_id))


def _relay_ctcp(connection, command, target, text, reply, notice: bool) -> None:
    """A CTCP request or reply straight to the IRC connections of a user or a channel."""
    found = _direct_peers(connection, target, reply, notice)
    if found is None:
        return
    peers, shown = found
    for peer in peers:
        peer.send(Message(command, [shown, text], connection.mask))


def client_tags(message) -> dict:
    """The client-only tags (``+name``) of a client's message, relayed to clients with
    message-tags (not stored)."""
    return {key: value for key, value in message.tags.items() if key.startswith("+")}


_tagmsg_ids = iter(range(1, 1 << 62))


@command("TAGMSG", 1)
def tagmsg(connection, message, reply):
    """Client-only tags alone (typing notifications, reactions): relayed to the IRC clients
    with message-tags of the channel or user, not stored (the server keeps text only)."""
    tags = client_tags(message)
    found = _direct_peers(connection, message.params[0], reply, quiet=False)
    if found is None or not tags:
        return
    peers, shown = found
    tags = {**tags, "msgid": f"t{next(_tagmsg_ids)}",
            "time": format_ts(now_ms(connection.server.clock))}
    for peer in peers:
        if "message-tags" in peer.caps.enabled:
            peer.send(Message("TAGMSG", [shown], connection.mask, dict(tags)))
    if "echo-message" in connection.caps.enabled and "message-tags" in connection.caps.enabled:
        reply.send(Message("TAGMSG", [shown], connection.mask, dict(tags)))


def _send_one(connection, target, text, reply, notice: bool, tags=None):
    gateway = connection.gateway
    if is_channel(target):
        room = None
        try:
            room = gateway.room(target[1:])
        except Exception:
            room = None
        if room is None:
            if not notice:
                reply.numeric(N.ERR_NOSUCHCHANNEL, target, "No such channel")
            return None
        ref = "#" + room.name
    else:
        account_id = None
        try:
            account_id = gateway.account_id(nick_name(target))
        except BadName:
            pass
        if account_id is None:
            if not notice:
                reply.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")
            return None
        ref = "@" + gateway.display_name(account_id)
        away = gateway.away_of(account_id)
        if away and not notice:
            reply.numeric(N.RPL_AWAY, gateway.display_name(account_id), away)
    cid = connection.next_cid()
    try:
        request = make(C.Send, to=ref, text=text, cid=cid)
    except ProtocolError as error:
        if not notice:
            reply.numeric(N.ERR_CANNOTSENDTOCHAN, target, f"Cannot send ({error.message})")
        return None
    connection.sent_cids[cid] = reply
    if tags:
        gateway.client_tags[cid] = tags     # the live copies carry them; storage does not
    if notice:
        gateway.notice_cids.add(cid)        # the live copies are NOTICEs; storage has one kind
    d = gateway.request(connection, request)

    def forget():
        connection.sent_cids.pop(cid, None)
        gateway.client_tags.pop(cid, None)
        gateway.notice_cids.discard(cid)

    def done(result):
        forget()
        return None

    def failed(failure):
        forget()
        error = failure.value
        if not isinstance(error, ProtocolError):
            return failure
        if notice:
            return None
        if error.code == NOT_FOUND:
            code = N.ERR_NOSUCHCHANNEL if is_channel(target) else N.ERR_NOSUCHNICK
            reply.numeric(code, target, "No such nick/channel")
        elif error.code == FORBIDDEN and is_channel(target):
            reply.numeric(N.ERR_CANNOTSENDTOCHAN, target, "Cannot send to channel (you are "
                                                          "not in it; /join it first)")
        elif error.code == RATE_LIMITED:
            reply.send(Message("FAIL", [message_command(notice), "RATE_LIMITED", target,
                                        error.message], gateway.info.name))
        elif error.code == TOO_LARGE:
            reply.numeric(N.ERR_CANNOTSENDTOCHAN, target, f"Cannot send ({error.message})")
        else:
            reply.numeric(N.ERR_CANNOTSENDTOCHAN, target, f"Cannot send ({error.message})")
        return None
    return d.addCallbacks(done, failed)


def message_command(notice: bool) -> str:
    return "NOTICE" if notice else "PRIVMSG"


# -- users
@command("AWAY")
def away(connection, message, reply):
    text = message.params[0][:AWAYLEN] if message.params and message.params[0] else None
    connection.away = text
    if text is None:
        reply.numeric(N.RPL_UNAWAY, "You are no longer marked as being away")
    else:
        reply.numeric(N.RPL_NOWAWAY, "You have been marked as being away")
    line = Message("AWAY", [text] if text else [], connection.mask)
    for peer in channel_commands.peers_sharing(connection, include_self_account=True):
        if peer is not connection and "away-notify" in peer.caps.enabled:
            peer.send(Message(line.command, list(line.params), line.source))


def _user_host(connection, account_id, name):
    mask = connection.gateway.mask(name, account_id)
    return mask.split("!", 1)[1].split("@", 1)


@command("WHOIS", 1)
def whois(connection, message, reply):
    gateway = connection.gateway
    target = message.params[-1].split(",")[0]
    account_id = _online_id(gateway, target)
    if account_id is None:
        reply.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")
        reply.numeric(N.RPL_ENDOFWHOIS, target, "End of /WHOIS list")
        return
    name = gateway.display_name(account_id)
    user_name, host = _user_host(connection, account_id, name)
    reply.numeric(N.RPL_WHOISUSER, name, user_name, host, "*", gateway.realname(account_id))
    channels = [channel_commands.prefix_of(connection, room, account_id) + "#" + room.name
                for room in gateway.rooms_of(account_id)]
    if channels:
        reply.numeric(N.RPL_WHOISCHANNELS, name, " ".join(channels))
    reply.numeric(N.RPL_WHOISSERVER, name, gateway.info.name, gateway.info.network)
    if gateway.is_admin(account_id):
        reply.numeric(N.RPL_WHOISOPERATOR, name, "is an IRC operator (a server admin)")
    if not gateway.is_guest(account_id):
        reply.numeric(N.RPL_WHOISACCOUNT, name, name, "is logged in as")
    away_text = gateway.away_of(account_id)
    if away_text:
        reply.numeric(N.RPL_AWAY, name, away_text)
    reply.numeric(N.RPL_ENDOFWHOIS, name, "End of /WHOIS list")


def _online_id(gateway, nick):
    try:
        account_id = gateway.account_id(nick_name(nick))
    except BadName:
        return None
    if account_id is None or not gateway.is_online(account_id):
        return None
    return account_id


def who_flags(gateway, account_id, prefix: str) -> str:
    flags = "G" if gateway.away_of(account_id) else "H"
    if gateway.is_admin(account_id):
        flags += "*"
    return flags + prefix


@command("WHO")
def who(connection, message, reply):
    gateway = connection.gateway
    mask = message.params[0] if message.params else "*"
    rows = []
    if mask == "0" or "*" in mask or "?" in mask:
        rows = [("*", account_id, "") for account_id in _who_matches(connection, mask)]
    elif is_channel(mask):
        room = gateway.room(mask[1:]) if len(mask) > 1 else None
        if room is not None:
            channel = "#" + room.name
            for account_id in sorted(gateway.online_member_ids(room.key),
                                     key=gateway.display_name):
                rows.append((channel, account_id,
                             channel_commands.prefix_of(connection, room, account_id, multi=True)))
    else:
        account_id = _online_id(gateway, mask)
        if account_id is not None:
            rows.append(("*", account_id, ""))
    for channel, account_id, prefix in rows:
        name = gateway.display_name(account_id)
        user_name, host = _user_host(connection, account_id, name)
        reply.numeric(N.RPL_WHOREPLY, channel, user_name, host, gateway.info.name, name,
                      who_flags(gateway, account_id, prefix),
                      f"0 {gateway.realname(account_id)}")
    reply.numeric(N.RPL_ENDOFWHO, mask, "End of WHO list")


def _who_matches(connection, mask: str) -> list:
    """The users online whose nick matches the glob ``mask`` (``0`` is everybody), sorted;
    a user with mode +i only if it shares a room other than the lobby (where everybody is)
    with the asker, or is the asker."""
    gateway = connection.gateway
    me = connection.session.account_id
    pattern = irc_fold("*" if mask == "0" else mask)
    found = []
    for account_id in list(connection.server.presence.sessions):
        name = gateway.display_name(account_id)
        if not fnmatch.fnmatchcase(irc_fold(name), pattern):
            continue
        if account_id != me and gateway.is_invisible(account_id) and \
                not gateway.shared_room_keys(me, account_id) - {LOBBY}:
            continue
        found.append(account_id)
    return sorted(found, key=gateway.display_name)


@command("USERHOST", 1)
def userhost(connection, message, reply):
    gateway = connection.gateway
    items = []
    for nick in message.params[:5]:
        account_id = _online_id(gateway, nick)
        if account_id is None:
            continue
        name = gateway.display_name(account_id)
        user_name, host = _user_host(connection, account_id, name)
        oper = "*" if gateway.is_admin(account_id) else ""
        here = "-" if gateway.away_of(account_id) else "+"
        items.append(f"{name}{oper}={here}{user_name}@{host}")
    reply.numeric(N.RPL_USERHOST, " ".join(items))


@command("ISON", 1)
def ison(connection, message, reply):
    gateway = connection.gateway
    names = []
    for raw in " ".join(message.params).split():
        account_id = _online_id(gateway, raw)
        if account_id is not None:
            names.append(gateway.display_name(account_id))
    reply.numeric("303", " ".join(names))


@command("MODE", 1)
def mode(connection, message, reply):
    target = message.params[0]
    if is_channel(target):
        return channel_commands.channel_mode(connection, message, reply)
    if nick_key_or_none(target) != connection.session.key:
        reply.numeric(N.ERR_USERSDONTMATCH, "Can't change mode for other users")
        return None
    if len(message.params) == 1:
        reply.numeric(N.RPL_UMODEIS, user_modes(connection))
        return None
    before = user_modes(connection)
    sign, unknown = "+", False
    for letter in message.params[1]:
        if letter in "+-":
            sign = letter
        elif letter == "i":
            connection.invisible = sign == "+"
        elif letter == "o":
            if sign == "+" and not connection.session.admin:
                pass            # only admins are operators; asking is ignored (RFC 2812)
        else:
            unknown = True
    if unknown:
        reply.numeric(N.ERR_UMODEUNKNOWNFLAG, "Unknown MODE flag")
    after = user_modes(connection)
    if after != before:
        change = _mode_diff(before, after)
        reply.send(Message("MODE", [connection.nick, change], connection.nick))
    return None


def user_modes(connection) -> str:
    return "+" + ("i" if connection.invisible else "") + \
        ("o" if connection.session.admin else "")


def _mode_diff(before: str, after: str) -> str:
    added = "".join(m for m in after[1:] if m not in before)
    removed = "".join(m for m in before[1:] if m not in after)
    return (f"+{added}" if added else "") + (f"-{removed}" if removed else "")


@command("OPER")
def oper(connection, message, reply):
    reply.numeric("491", "No O-lines: server admins are IRC operators already")


# -- server information
@command("MOTD")
def motd_(connection, message, reply):
    for line in motd(connection.gateway.info, connection.nick):
        line.source = connection.gateway.info.name
        reply.send(line)


@command("LUSERS")
def lusers(connection, message, reply):
    server = connection.server
    reply.numeric(N.RPL_LUSERCLIENT, f"There are {server.presence.count} users and 0 "
                                     "invisible on 1 servers")
    reply.numeric(N.RPL_LUSERCHANNELS, str(len(server.conversations.rooms)), "channels formed")
    reply.numeric(N.RPL_LUSERME, f"I have {len(server.presence.connections)} clients and "
                                 "0 servers")


@command("VERSION")
def version(connection, message, reply):
    info = connection.gateway.info
    reply.numeric("351", f"chat-{__version__}", info.name, "IRC gateway of the chat server")


@command("WHOWAS", 1)
def whowas(connection, message, reply):
    reply.numeric(N.ERR_WASNOSUCHNICK, message.params[0], "There was no such nickname")
    reply.numeric(N.RPL_ENDOFWHOWAS, message.params[0], "End of WHOWAS")


channel_commands.register(command)
command("CHATHISTORY", 1)(history.chathistory)
