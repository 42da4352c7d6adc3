"""IRC channel commands: JOIN, PART, TOPIC, NAMES, LIST, channel MODE, KICK, INVITE.

A channel is a room. JOIN is the room's join (an unknown room is created, and its creator
is a channel operator), PART its leave, TOPIC its topic, all through the server's handlers,
so native users see them at once. ``#lobby`` cannot be left (everybody stays in it): PART
only closes it on this connection until the next JOIN or connection. KICK removes a member
from the room (an operator's act; they may join again unless the channel is ``+i``).
"""

from twisted.internet import defer

from chat.protocol import commands as C
from chat.protocol.names import name_key
from chat.protocol.errors import FORBIDDEN, NAME_TAKEN, NOT_FOUND, RATE_LIMITED, ProtocolError
from chat.server.conversations import LOBBY
from chat.server.irc import numerics as N
from chat.server.irc.casemap import BadName, channel_room, nick_key, nick_name
from chat.server.irc.channels import parse_mode_changes
from chat.server.irc.lines import Message
from chat.server.irc.gateway import make_request as make
from chat.server.presence import Session

NAMES_ROOM = 400
"""Bytes of names per 353 line."""


# -- helpers other modules use
def prefix_of(connection, room, account_id, multi=None) -> str:
    gateway = connection.gateway
    modes = gateway.modes_of(room)
    if multi is None:
        multi = "multi-prefix" in connection.caps.enabled
    return modes.prefixes(nick_key(gateway.display_name(account_id)),
                          gateway.is_admin(account_id), multi)


def peers_sharing(connection, include_self_account=False):
    """The registered IRC connections that have a channel open that this connection's
    account is in (each once)."""
    gateway = connection.gateway
    me = connection.session.account_id
    mine = {room.key for room in gateway.rooms_of(me)}
    out = []
    for peer in gateway.connections:
        if not peer.registered or peer.session is None:
            continue
        if peer.session.account_id == me and not include_self_account:
            continue
        if peer.session.account_id == me or mine & set(peer.open_channels):
            out.append(peer)
    return out


def irc_peers_in(gateway, room_key):
    """Registered IRC connections with this channel open."""
    return [peer for peer in gateway.connections
            if peer.registered and room_key in peer.open_channels]


def _is_op(connection, room) -> bool:
    session = connection.session
    return connection.gateway.modes_of(room).is_op(session.key, session.admin)


def _room_or_numeric(connection, channel, reply, code=N.ERR_NOSUCHCHANNEL):
    try:
        channel_room(channel)
    except BadName:
        reply.numeric(code, channel, "No such channel")
        return None
    room = connection.gateway.room(channel[1:])
    if room is None:
        reply.numeric(code, channel, "No such channel")
    return room


def _member(connection, room, account_id=None) -> bool:
    gateway = connection.gateway
    if account_id is None:
        account_id = connection.session.account_id
    return account_id in gateway.member_ids(room.key)


# -- opening a channel on a connection
def open_channel(connection, room, reply) -> None:
    """Show ``room`` as joined on ``connection``: JOIN, its topic, its names."""
    if connection.closed or room.key in connection.open_channels:
        return
    send = reply.send if reply is not None else connection.send
    gateway = connection.gateway
    channel = "#" + room.name
    connection.open_channels[room.key] = channel
    connection.shown[room.key] = set(gateway.online_member_ids(room.key))
    send(join_line(connection, connection.session.name, connection.session.account_id, channel))
    if room.topic:
        topic_lines(connection, room, send)
    names_lines(connection, room, send)


def join_line(viewer, name, account_id, channel) -> Message:
    gateway = viewer.gateway
    mask = gateway.mask(name, account_id)
    if "extended-join" in viewer.caps.enabled:
        guest = gateway.is_guest(account_id)
        return Message("JOIN", [channel, "*" if guest else name, gateway.realname(account_id)],
                       mask)
    return Message("JOIN", [channel], mask)


def arrival_lines(viewer, room, name, account_id, channel) -> list:
    """What ``viewer`` sees when ``name`` turns up in a channel: the JOIN, and the modes
    an operator or voice has from the start (``MODE #a +o name`` from the server)."""
    lines = [join_line(viewer, name, account_id, channel)]
    away = viewer.gateway.away_of(account_id)
    if away and "away-notify" in viewer.caps.enabled:
        lines.append(Message("AWAY", [away], viewer.gateway.mask(name, account_id)))
    prefix = prefix_of(viewer, room, account_id, multi=True)
    if prefix:
        letters = prefix.replace("@", "o").replace("+", "v")
        lines.append(Message("MODE", [channel, "+" + letters, *([name] * len(letters))],
                             viewer.gateway.info.name))
    return lines


def topic_lines(connection, room, send) -> None:
    gateway = connection.gateway
    channel = "#" + room.name
    if not room.topic:
        send(Message(N.RPL_NOTOPIC, [connection.target, channel, "No topic is set"],
                     gateway.info.name))
        return
    send(Message(N.RPL_TOPIC, [connection.target, channel, room.topic], gateway.info.name))
    modes = gateway.modes_of(room)
    by, at = getattr(modes, "topic_by", None), getattr(modes, "topic_at", None)
    if by and at:
        send(Message(N.RPL_TOPICWHOTIME, [connection.target, channel, by, str(int(at))],
                     gateway.info.name))


def names_lines(connection, room, send) -> None:
    gateway = connection.gateway
    channel = "#" + room.name
    uhnames = "userhost-in-names" in connection.caps.enabled
    entries = []
    for account_id in sorted(gateway.online_member_ids(room.key), key=gateway.display_name):
        name = gateway.display_name(account_id)
        shown = gateway.mask(name, account_id) if uhnames else name
        entries.append(prefix_of(connection, room, account_id) + shown)
    line, size = [], 0
    for entry in entries:
        if line and size + len(entry.encode()) + 1 > NAMES_ROOM:
            send(Message(N.RPL_NAMREPLY, [connection.target, "=", channel, " ".join(line)],
                         gateway.info.name))
            line, size = [], 0
        line.append(entry)
        size += len(entry.encode()) + 1
    if line:
        send(Message(N.RPL_NAMREPLY, [connection.target, "=", channel, " ".join(line)],
                     gateway.info.name))
    send(Message(N.RPL_ENDOFNAMES, [connection.target, channel, "End of /NAMES list"],
                 gateway.info.name))


# -- the commands
def register(command):
    command("JOIN", 1)(join)
    command("PART", 1)(part)
    command("TOPIC", 1)(topic)
    command("NAMES")(names)
    command("LIST")(list_)
    command("KICK", 2)(kick)
    command("INVITE", 2)(invite)


def join(connection, message, reply):
    if message.params[0] == "0":
        sends = [_leave(connection, connection.gateway.room(name[1:]), reply, "")
                 for name in list(connection.open_channels.values())]
        return _gather(sends)
    sends = [_join_one(connection, channel, reply)
             for channel in message.params[0].split(",") if channel]
    return _gather(sends)


def _gather(deferreds):
    deferreds = [d for d in deferreds if d is not None]
    if not deferreds:
        return None
    return defer.gatherResults(deferreds, consumeErrors=True)


def _join_one(connection, channel, reply):
    gateway = connection.gateway
    if not channel.startswith("#"):
        reply.numeric(N.ERR_NOSUCHCHANNEL, channel, "No such channel")
        return None
    try:
        name = channel_room(channel)
    except BadName as error:
        reply.numeric(N.ERR_BADCHANNAME, channel, f"Illegal channel name: {error}")
        return None
    room = gateway.room(name)
    session = connection.session
    if room is not None:
        if room.key in connection.open_channels:
            return None
        modes = gateway.modes_of(room)
        if (modes.invite_only and not _member(connection, room)
                and session.key not in modes.invited and not modes.is_op(session.key,
                                                                          session.admin)):
            reply.numeric(N.ERR_INVITEONLYCHAN, "#" + room.name,
                          "Cannot join channel (+i): you need an invitation")
            return None
        if modes.creator == session.key:
            modes.ops.add(session.key)      # the room's maker is its operator again
        request = make(C.Join, room=room.name)
    else:
        request = make(C.CreateRoom, room=name)
    connection.pending_joins[name_of(request)] = reply
    d = gateway.request(connection, request)

    def done(result):
        connection.pending_joins.pop(name_of(request), None)
        joined = gateway.room(name)
        if joined is not None:
            gateway.modes_of(joined).invited.discard(session.key)
            open_channel(connection, joined, reply)
        return None

    def failed(failure):
        connection.pending_joins.pop(name_of(request), None)
        error = failure.value
        if not isinstance(error, ProtocolError):
            return failure
        if error.code == NAME_TAKEN and isinstance(request, C.CreateRoom) \
                and gateway.room(name) is not None:
            # someone made the room between our look and our create (two clients joining a
            # new channel at once): it is a plain join now
            return _join_one(connection, channel, reply)
        if error.code == NAME_TAKEN:
            reply.numeric(N.ERR_BADCHANNAME, channel, f"Illegal channel name: {error.message}")
        elif error.code == FORBIDDEN:
            reply.numeric(N.ERR_TOOMANYCHANNELS, channel, error.message)
        elif error.code == RATE_LIMITED:
            reply.send(Message("FAIL", ["JOIN", "RATE_LIMITED", channel, error.message],
                               gateway.info.name))
        elif error.code == NOT_FOUND:
            reply.numeric(N.ERR_NOSUCHCHANNEL, channel, "No such channel")
        else:
            reply.numeric(N.ERR_BADCHANNAME, channel, error.message)
        return None
    return d.addCallbacks(done, failed)


def name_of(request) -> str:
    return name_key(request.room)


def part(connection, message, reply):
    reason = message.params[1] if len(message.params) > 1 else ""
    sends = []
    for channel in message.params[0].split(","):
        if not channel:
            continue
        room = _room_or_numeric(connection, channel, reply)
        if room is None:
            continue
        if room.key not in connection.open_channels:
            reply.numeric(N.ERR_NOTONCHANNEL, "#" + room.name, "You're not on that channel")
            continue
        sends.append(_leave(connection, room, reply, reason))
    return _gather(sends)


def _leave(connection, room, reply, reason):
    if room is None:
        return None
    gateway = connection.gateway
    session = connection.session
    if room.key == LOBBY:
        # everybody stays in the lobby: close it here only
        channel = connection.open_channels.pop(room.key, "#" + room.name)
        reply.send(Message("PART", [channel, reason] if reason else [channel], connection.mask))
        return None
    gateway.part_reasons[(room.key, session.key)] = reason
    connection.pending_parts[room.key] = reply
    d = gateway.request(connection, make(C.Leave, room=room.name))

    def done(result):
        gateway.part_reasons.pop((room.key, session.key), None)
        connection.pending_parts.pop(room.key, None)
        channel = connection.open_channels.pop(room.key, None)
        if channel is not None:           # the Left event did not come (not a member)
            reply.send(Message("PART", [channel, reason] if reason else [channel],
                               connection.mask))
        return None

    def failed(failure):
        gateway.part_reasons.pop((room.key, session.key), None)
        connection.pending_parts.pop(room.key, None)
        if not failure.check(ProtocolError):
            return failure
        reply.numeric(N.ERR_NOTONCHANNEL, "#" + room.name, failure.value.message)
        return None
    return d.addCallbacks(done, failed)


def topic(connection, message, reply):
    channel = message.params[0]
    room = _room_or_numeric(connection, channel, reply)
    if room is None:
        return None
    if len(message.params) == 1:
        topic_lines(connection, room, reply.send)
        return None
    if not _member(connection, room):
        reply.numeric(N.ERR_NOTONCHANNEL, "#" + room.name, "You're not on that channel")
        return None
    gateway = connection.gateway
    if gateway.modes_of(room).topic_lock and not _is_op(connection, room):
        reply.numeric(N.ERR_CHANOPRIVSNEEDED, "#" + room.name, "You're not channel operator")
        return None
    text = message.params[1][:gateway.info.topic_len]
    connection.pending_topics[room.key] = reply
    d = gateway.request(connection, make(C.SetTopic, room=room.name, topic=text))

    def done(result):
        connection.pending_topics.pop(room.key, None)

    def failed(failure):
        connection.pending_topics.pop(room.key, None)
        if not failure.check(ProtocolError):
            return failure
        error = failure.value
        if error.code == RATE_LIMITED:
            reply.send(Message("FAIL", ["TOPIC", "RATE_LIMITED", "#" + room.name,
                                        error.message], gateway.info.name))
        else:
            reply.numeric(N.ERR_CHANOPRIVSNEEDED, "#" + room.name, error.message)
    return d.addCallbacks(done, failed)


def names(connection, message, reply):
    if not message.params:
        reply.numeric(N.RPL_ENDOFNAMES, "*", "End of /NAMES list")
        return
    channel = message.params[0].split(",")[0]
    room = None
    try:
        channel_room(channel)
        room = connection.gateway.room(channel[1:])
    except BadName:
        pass
    if room is None:
        reply.numeric(N.RPL_ENDOFNAMES, channel, "End of /NAMES list")
        return
    names_lines(connection, room, reply.send)


def list_(connection, message, reply):
    gateway = connection.gateway
    wanted = None
    if message.params and message.params[0].startswith("#"):
        wanted = set()
        for channel in message.params[0].split(","):
            try:
                wanted.add(nick_key(channel_room(channel)) if channel else None)
            except BadName:
                continue
    reply.numeric(N.RPL_LISTSTART, "Channel", "Users  Name")
    for room in gateway.rooms():
        if wanted is not None and room.key not in wanted:
            continue
        count = len(gateway.online_member_ids(room.key))
        modes = gateway.modes_of(room)
        reply.numeric(N.RPL_LIST, "#" + room.name, str(count), f"[{modes.flags()}] {room.topic}")
    reply.numeric(N.RPL_LISTEND, "End of /LIST")


def kick(connection, message, reply):
    gateway = connection.gateway
    channel = message.params[0]
    room = _room_or_numeric(connection, channel, reply)
    if room is None:
        return None
    channel = "#" + room.name
    if not _member(connection, room):
        reply.numeric(N.ERR_NOTONCHANNEL, channel, "You're not on that channel")
        return None
    if not _is_op(connection, room):
        reply.numeric(N.ERR_CHANOPRIVSNEEDED, channel, "You're not channel operator")
        return None
    reason = message.params[2] if len(message.params) > 2 else connection.nick
    sends = []
    for target in message.params[1].split(",")[:4]:
        account_id = None
        try:
            account_id = gateway.account_id(nick_name(target))
        except BadName:
            pass
        if account_id is None:
            reply.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")
            continue
        if not _member(connection, room, account_id):
            reply.numeric(N.ERR_USERNOTINCHANNEL, target, channel, "They aren't on that channel")
            continue
        if room.key == LOBBY:
            reply.numeric(N.ERR_CHANOPRIVSNEEDED, channel,
                          "Nobody can be kicked from the lobby (everybody stays in it)")
            continue
        sends.append(_kick_one(connection, room, account_id, reason[:300], reply))
    return _gather(sends)


class ActingFor:
    """A stand-in peer for a request made on another account's behalf (a KICK is the kicked
    member's leave): the handlers read only its session."""

    kind = "irc"
    host = "-"
    port = None
    address = "-"
    client_name = "IRC"
    last_request = None

    def __init__(self, session):
        self.session = session


def _kick_one(connection, room, account_id, reason, reply):
    gateway = connection.gateway
    name = gateway.display_name(account_id)
    key = name_key(name)
    target = ActingFor(Session(account_id, name, key, False, 0.0))
    gateway.kicks[(room.key, key)] = (connection.mask, reason)
    d = gateway.request(target, make(C.Leave, room=room.name))

    def done(result):
        gateway.kicks.pop((room.key, key), None)
        gateway.channels.forget_member(room.key, key)

    def failed(failure):
        gateway.kicks.pop((room.key, key), None)
        if not failure.check(ProtocolError):
            return failure
        reply.numeric(N.ERR_CHANOPRIVSNEEDED, "#" + room.name, failure.value.message)
    return d.addCallbacks(done, failed)


def invite(connection, message, reply):
    gateway = connection.gateway
    target, channel = message.params[0], message.params[1]
    room = _room_or_numeric(connection, channel, reply)
    if room is None:
        return
    channel = "#" + room.name
    if not _member(connection, room):
        reply.numeric(N.ERR_NOTONCHANNEL, channel, "You're not on that channel")
        return
    modes = gateway.modes_of(room)
    if modes.invite_only and not _is_op(connection, room):
        reply.numeric(N.ERR_CHANOPRIVSNEEDED, channel, "You're not channel operator")
        return
    account_id = None
    try:
        account_id = gateway.account_id(nick_name(target))
    except BadName:
        pass
    if account_id is None:
        reply.numeric(N.ERR_NOSUCHNICK, target, "No such nick/channel")
        return
    name = gateway.display_name(account_id)
    if _member(connection, room, account_id):
        reply.numeric(N.ERR_USERONCHANNEL, name, channel, "is already on channel")
        return
    modes.invited.add(name_key(name))
    reply.numeric(N.RPL_INVITING, name, channel)
    line = Message("INVITE", [name, channel], connection.mask)
    for peer in gateway.irc_peers(account_id):
        peer.send(Message(line.command, list(line.params), line.source))
    for peer in irc_peers_in(gateway, room.key):
        if peer is not connection and "invite-notify" in peer.caps.enabled:
            peer.send(Message(line.command, list(line.params), line.source))


def channel_mode(connection, message, reply):
    gateway = connection.gateway
    room = _room_or_numeric(connection, message.params[0], reply)
    if room is None:
        return None
    channel = "#" + room.name
    modes = gateway.modes_of(room)
    if len(message.params) == 1:
        reply.numeric(N.RPL_CHANNELMODEIS, channel, modes.flags())
        reply.numeric(N.RPL_CREATIONTIME, channel, str(room.created // 1000))
        return None
    spec = message.params[1]
    if spec.lstrip("+") in ("b", "e", "I") and len(message.params) == 2:
        end = {"b": ("368", "End of channel ban list"), "e": ("349", "End of channel "
                                                                  "exception list"),
               "I": ("347", "End of channel invite list")}[spec.lstrip("+")]
        reply.numeric(end[0], channel, end[1])
        return None
    changes, unknown = parse_mode_changes(message.params[1:])
    for letter in unknown:
        reply.numeric(N.ERR_UNKNOWNMODE, letter, "is an unknown mode char to me")
    if not changes:
        return None
    if not _is_op(connection, room):
        reply.numeric(N.ERR_CHANOPRIVSNEEDED, channel, "You're not channel operator")
        return None
    applied = []
    for sign, letter, arg in changes:
        on = sign == "+"
        if letter == "n":
            continue                    # always on
        if letter == "i":
            if modes.invite_only != on:
                modes.invite_only = on
                applied.append((sign, letter, None))
        elif letter == "t":
            if modes.topic_lock != on:
                modes.topic_lock = on
                applied.append((sign, letter, None))
        else:
            account_id = None
            try:
                account_id = gateway.account_id(nick_name(arg))
            except BadName:
                pass
            if account_id is None:
                reply.numeric(N.ERR_NOSUCHNICK, arg, "No such nick/channel")
                continue
            if not _member(connection, room, account_id):
                reply.numeric(N.ERR_USERNOTINCHANNEL, arg, channel, "They aren't on that channel")
                continue
            name = gateway.display_name(account_id)
            group = modes.ops if letter == "o" else modes.voices
            key = name_key(name)
            if on and key not in group:
                group.add(key)
                applied.append((sign, letter, name))
            elif not on and key in group:
                group.discard(key)
                applied.append((sign, letter, name))
    if not applied:
        return None
    text, args, last = "", [], None
    for sign, letter, arg in applied:
        if sign != last:
            text += sign
            last = sign
        text += letter
        if arg is not None:
            args.append(arg)
    line = Message("MODE", [channel, text, *args], connection.mask)
    for peer in irc_peers_in(gateway, room.key):
        if peer is connection:
            reply.send(Message(line.command, list(line.params), line.source))
        else:
            peer.send(Message(line.command, list(line.params), line.source))
    return None
