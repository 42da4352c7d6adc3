"""The server's typed events, rendered on one IRC connection.

``message`` -> PRIVMSG (or nothing: see :mod:`.render` for burn-after-reading), ``joined`` ->
JOIN, ``left`` -> PART (or KICK when an operator removed the member), ``topic`` -> TOPIC,
``presence`` -> JOIN of a member who came online in each shared channel and QUIT of one who
went offline, ``notice`` -> a server NOTICE, ``bye`` -> ERROR and the connection closes.
Read receipts, burn notices and monitor copies have no IRC form and are dropped.

Each connection tracks who it has shown in each channel (``shown``), so that a JOIN or QUIT
is never said twice whatever order the events come in.
"""

from chat.protocol import commands as C
from chat.protocol.names import name_key
from chat.server.irc.channel_commands import arrival_lines, open_channel
from chat.server.irc.lines import Message
from chat.server.irc.render import burn_notice, message_tags, message_text, privmsg_lines


def render(connection, event) -> None:
    handler = _RENDERERS.get(type(event))
    if handler is not None:
        handler(connection, event)


def _message(connection, event) -> None:
    msg = event.msg
    gateway = connection.gateway
    reply = connection.sent_cids.get(msg.get("cid"))
    sender = msg.get("from", "")
    mine = name_key(sender) == connection.session.key
    conv = msg.get("conv", "")
    sends = [connection.send]
    if reply is not None and mine:
        # this connection sent it: the echo (echo-message) carries the command's label; a
        # message to oneself is also received, like any private message
        to_self = not conv.startswith("#") and name_key(msg.get("to", "@")[1:]) == \
            connection.session.key
        sends = [reply.send] if "echo-message" in connection.caps.enabled else []
        if to_self:
            sends.append(connection.send)
        if not sends:
            return
    if conv.startswith("#"):
        room = gateway.room(conv[1:])
        if room is None or room.key not in connection.open_channels:
            return
        target = connection.open_channels[room.key]
    else:
        target = msg.get("to", "@")[1:] if mine else connection.session.name
    text = message_text(msg)
    if text is None:
        if not mine and not msg.get("burned"):
            for line in burn_notice(msg, gateway.info.name, connection.session.name):
                connection.send(line)
        return
    sender_id = gateway.account_id(sender)
    account = sender if sender_id is not None and not gateway.is_guest(sender_id) else None
    tags = message_tags(msg, connection.caps.enabled, account)
    extra = gateway.client_tags.get(msg.get("cid"))
    if extra and "message-tags" in connection.caps.enabled:
        tags.update(extra)
    command = "NOTICE" if msg.get("cid") in gateway.notice_cids else "PRIVMSG"
    for send in sends:
        for line in privmsg_lines(gateway.mask(sender, sender_id), target, text, tags, command):
            send(line)


def _joined(connection, event) -> None:
    gateway = connection.gateway
    room = gateway.room(event.room)
    if room is None:
        return
    account_id = gateway.account_id(event.user)
    if account_id == connection.session.account_id:
        reply = connection.pending_joins.get(room.key)
        open_channel(connection, room, reply)
        return
    if room.key not in connection.open_channels:
        return
    shown = connection.shown.setdefault(room.key, set())
    if account_id in shown or not gateway.is_online(account_id):
        return
    shown.add(account_id)
    for line in arrival_lines(connection, room, event.user, account_id,
                              connection.open_channels[room.key]):
        connection.send(line)


def _left(connection, event) -> None:
    gateway = connection.gateway
    room = gateway.room(event.room)
    if room is None or room.key not in connection.open_channels:
        return
    account_id = gateway.account_id(event.user)
    key = name_key(event.user)
    channel = connection.open_channels[room.key]
    kick = gateway.kicks.get((room.key, key))
    if account_id == connection.session.account_id:
        del connection.open_channels[room.key]
        connection.shown.pop(room.key, None)
    else:
        shown = connection.shown.get(room.key, set())
        if account_id not in shown:
            return
        shown.discard(account_id)
    if kick is not None:
        kicker, reason = kick
        connection.send(Message("KICK", [channel, event.user, reason], kicker))
        return
    reason = gateway.part_reasons.get((room.key, key))
    line = Message("PART", [channel, reason] if reason else [channel],
                   gateway.mask(event.user, account_id))
    if account_id == connection.session.account_id:
        reply = connection.pending_parts.get(room.key)
        if reply is not None:
            reply.send(line)
            return
    connection.send(line)


def _topic(connection, event) -> None:
    gateway = connection.gateway
    room = gateway.room(event.room)
    if room is None:
        return
    modes = gateway.modes_of(room)
    modes.topic_by = event.by
    modes.topic_at = connection.server.clock.seconds()
    if room.key not in connection.open_channels:
        return
    line = Message("TOPIC", [connection.open_channels[room.key], event.topic],
                   gateway.mask(event.by))
    reply = None
    if name_key(event.by) == connection.session.key:
        reply = connection.pending_topics.get(room.key)
    (reply.send if reply is not None else connection.send)(line)


def _presence(connection, event) -> None:
    gateway = connection.gateway
    me = connection.session.account_id
    for change in event.changes:
        name = change.get("user")
        account_id = gateway.account_id(name) if name else None
        if account_id is None or account_id == me:
            continue
        if change.get("online"):
            for room_key, channel in list(connection.open_channels.items()):
                if account_id not in gateway.member_ids(room_key):
                    continue
                shown = connection.shown.setdefault(room_key, set())
                if account_id not in shown:
                    shown.add(account_id)
                    room = gateway.server.conversations.rooms.get(room_key)
                    if room is None:
                        continue
                    for line in arrival_lines(connection, room, name, account_id, channel):
                        connection.send(line)
        else:
            was_shown = False
            for shown in connection.shown.values():
                if account_id in shown:
                    shown.discard(account_id)
                    was_shown = True
            if was_shown:
                connection.send(Message("QUIT", ["Went offline"], gateway.mask(name, account_id)))


def _notice(connection, event) -> None:
    gateway = connection.gateway
    if event.kind == "shutdown":
        text = f"The server shuts down in {event.seconds} s"
        if event.text:
            text += f": {event.text}"
        text += f" (服务器将在 {event.seconds} 秒后关闭)"
    else:
        text = f"[notice from {event.from_}] {event.text}"
    for line in privmsg_lines(gateway.info.name, connection.session.name, text, {}, "NOTICE"):
        connection.send(line)


def _bye(connection, event) -> None:
    connection.quit(event.message or event.code)


_RENDERERS = {
    C.MessageEvent: _message,
    C.Joined: _joined,
    C.Left: _left,
    C.Topic: _topic,
    C.Presence: _presence,
    C.NoticeEvent: _notice,
    C.Bye: _bye,
}
