"""``CHATHISTORY`` (IRCv3 draft/chathistory): the stored history of a room or a private chat,
read through the server's own history handler (members only, the same query limits).

``LATEST <target> <* | ref> <limit>``, ``BEFORE``/``AFTER``/``AROUND <target> <ref> <limit>``,
``BETWEEN <target> <ref> <ref> <limit>``, ``TARGETS <timestamp> <timestamp> <limit>``; a
reference is ``msgid=<id>`` (the ``msgid`` tag of a message) or
``timestamp=<ISO 8601 with milliseconds, Z>``. Messages come in a ``chathistory`` batch (for a
client with ``batch``), oldest first, with ``time`` and ``msgid`` tags. Burn-after-reading
messages are left out, as everywhere on IRC.
"""

from twisted.internet import defer

from chat.protocol import commands as C
from chat.protocol.errors import ProtocolError
from chat.protocol.timestamps import parse_ts
from chat.server.irc.casemap import BadName, channel_room, is_channel, nick_name
from chat.server.irc.lines import Message
from chat.server.irc.gateway import make_request as make
from chat.server.irc.render import message_tags, message_text, privmsg_lines

PAGE = C.HISTORY_PAGE_MAX
SCAN_PAGES = 5
"""Pages read at most to find where a timestamp falls (older ones count as before it)."""
SUBCOMMANDS = ("LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS")

_batch_numbers = iter(range(1, 1 << 62))


class HistoryError(Exception):
    def __init__(self, code, *context):
        super().__init__(code)
        self.code = code
        self.context = context


def fail(connection, reply, code, *context):
    reply.send(Message("FAIL", ["CHATHISTORY", code, *context,
                                _TEXTS.get(code, "Cannot fetch history")],
                       connection.gateway.info.name))


_TEXTS = {
    "INVALID_PARAMS": "Invalid parameters",
    "INVALID_TARGET": "Messages could not be retrieved: not a room you are in, nor a user",
    "NEED_MORE_PARAMS": "Missing parameters",
    "INVALID_MSGREFTYPE": "Unknown message reference type (use msgid= or timestamp=)",
    "MESSAGE_ERROR": "Messages could not be retrieved",
}


def chathistory(connection, message, reply):
    params = message.params
    sub = params[0].upper()
    if sub not in SUBCOMMANDS:
        fail(connection, reply, "INVALID_PARAMS", params[0])
        return None
    needed = {"BETWEEN": 5}.get(sub, 4)
    if len(params) < needed:
        fail(connection, reply, "NEED_MORE_PARAMS", sub)
        return None
    try:
        limit = int(params[needed - 1])
    except ValueError:
        limit = 0
    if limit < 1:
        fail(connection, reply, "INVALID_PARAMS", sub, params[needed - 1])
        return None
    limit = min(limit, PAGE)
    if sub == "TARGETS":
        return _targets(connection, reply, params[1], params[2], limit)
    target = params[1]
    conv = _conv_ref(connection, target)
    if conv is None:
        fail(connection, reply, "INVALID_TARGET", sub, target)
        return None
    try:
        refs = [_ref(params[i], allow_star=sub == "LATEST" and i == 2)
                for i in range(2, needed - 1)]
    except HistoryError as error:
        fail(connection, reply, error.code, sub, *error.context)
        return None
    d = _select(connection, conv, sub, refs, limit)

    def show(messages):
        _send_batch(connection, reply, target, messages)

    def failed(failure):
        if failure.check(ProtocolError, HistoryError) is None:
            return failure
        fail(connection, reply, "MESSAGE_ERROR", sub, target)
    return d.addCallbacks(show, failed)


def _conv_ref(connection, target):
    gateway = connection.gateway
    if is_channel(target):
        try:
            room = gateway.room(channel_room(target))
        except BadName:
            return None
        if room is None or connection.session.account_id not in gateway.member_ids(room.key):
            return None
        return "#" + room.name
    try:
        account_id = gateway.account_id(nick_name(target))
    except BadName:
        return None
    return None if account_id is None else "@" + gateway.display_name(account_id)


def _ref(raw: str, allow_star: bool):
    """``*`` -> None, ``msgid=12`` -> ("id", 12), ``timestamp=...`` -> ("ts", ms)."""
    if raw == "*" and allow_star:
        return None
    kind, _, value = raw.partition("=")
    if kind == "msgid":
        try:
            return ("id", int(value))
        except ValueError:
            raise HistoryError("INVALID_PARAMS", raw) from None
    if kind == "timestamp":
        try:
            return ("ts", parse_ts(value))
        except ValueError:
            raise HistoryError("INVALID_PARAMS", raw) from None
    raise HistoryError("INVALID_MSGREFTYPE", raw)


def _page(connection, conv, before=None, after=None, limit=PAGE):
    fields = {"conv": conv, "limit": limit}
    if before is not None:
        fields["before"] = before
    if after is not None:
        fields["after"] = after
    d = connection.gateway.request(connection, make(C.History, **fields))
    return d.addCallback(lambda data: data["messages"])


@defer.inlineCallbacks
def _boundary(connection, conv, ref):
    """An id for ``ref``: its own for msgid; for a timestamp, the id of the first message
    at or after it (or one past the newest)."""
    if ref[0] == "id":
        return ref[1]
    wanted = ref[1]
    before = None
    first_after = None
    for _ in range(SCAN_PAGES):
        page = yield _page(connection, conv, before=before)
        if not page:
            break
        for msg in reversed(page):
            if parse_ts(msg["ts"]) >= wanted:
                first_after = msg["id"]
            else:
                return first_after if first_after is not None else msg["id"] + 1
        before = page[0]["id"]
    return first_after if first_after is not None else 0


@defer.inlineCallbacks
def _select(connection, conv, sub, refs, limit):
    if sub == "LATEST":
        page = yield _page(connection, conv, limit=limit)
        ref = refs[0]
        if ref is not None and ref[0] == "id":
            page = [m for m in page if m["id"] > ref[1]]
        elif ref is not None:
            page = [m for m in page if parse_ts(m["ts"]) > ref[1]]
        return page
    if sub == "BEFORE":
        high = yield _boundary(connection, conv, refs[0])
        return (yield _page(connection, conv, before=high, limit=limit))
    if sub == "AFTER":
        low = yield _after_boundary(connection, conv, refs[0])
        return (yield _page(connection, conv, after=low, limit=limit))
    if sub == "AROUND":
        middle = yield _boundary(connection, conv, refs[0])
        older = yield _page(connection, conv, before=middle, limit=max(limit // 2, 1))
        newer = yield _page(connection, conv, after=middle - 1, limit=limit - len(older))
        return older + newer
    # BETWEEN: both ends excluded, in the order of the references, ``limit`` from the first
    first = yield _boundary(connection, conv, refs[0])
    second = yield _boundary(connection, conv, refs[1])
    if first <= second:
        low = yield _after_boundary(connection, conv, refs[0])
        page = yield _page(connection, conv, after=low, limit=limit)
        return [m for m in page if m["id"] < second]
    low = yield _after_boundary(connection, conv, refs[1])
    page = yield _page(connection, conv, before=first, limit=limit)
    return [m for m in page if m["id"] > low]


@defer.inlineCallbacks
def _after_boundary(connection, conv, ref):
    """The id after which messages count as after ``ref`` (a msgid itself; for a timestamp,
    the last message at or before it)."""
    if ref[0] == "id":
        return ref[1]
    first = yield _boundary(connection, conv, ("ts", ref[1] + 1))
    return first - 1


def _send_batch(connection, reply, target, messages) -> None:
    gateway = connection.gateway
    batch = "batch" in connection.caps.enabled
    ref = f"h{next(_batch_numbers)}"
    server = gateway.info.name
    if batch:
        reply.send(Message("BATCH", ["+" + ref, "chathistory", target], server))
    caps = set(connection.caps.enabled) | {"server-time", "message-tags"}
    for msg in messages:
        text = message_text(msg)
        if text is None:
            continue
        sender = msg.get("from", "")
        sender_id = gateway.account_id(sender)
        account = sender if sender_id is not None and not gateway.is_guest(sender_id) else None
        tags = message_tags(msg, caps, account)
        if batch:
            tags = {"batch": ref, **tags}
        if is_channel(target):
            to = target
        elif sender_id == connection.session.account_id:
            to = msg.get("to", "@")[1:]
        else:
            to = connection.session.name
        for line in privmsg_lines(gateway.mask(sender, sender_id), to, text, tags):
            reply.send(line)
    if batch:
        reply.send(Message("BATCH", ["-" + ref], server))


def _targets(connection, reply, start, end, limit):
    try:
        low, high = sorted(_ref(raw, False) for raw in (start, end))
    except (HistoryError, TypeError):
        fail(connection, reply, "INVALID_PARAMS", "TARGETS", start)
        return None
    if low[0] != "ts" or high[0] != "ts":
        fail(connection, reply, "INVALID_PARAMS", "TARGETS", start)
        return None
    gateway = connection.gateway
    me = connection.session.account_id
    convs = []
    for conv in gateway.server.conversations.convs_of.get(me, ()):
        convs.append(conv)

    @defer.inlineCallbacks
    def collect():
        found = []
        for conv in convs:
            ref = gateway.server.conversations.wire_name(conv, me)
            try:
                page = yield _page(connection, ref, limit=1)
            except ProtocolError:
                continue
            if page and low[1] < parse_ts(page[-1]["ts"]) < high[1]:
                name = ref if ref.startswith("#") else ref[1:]
                found.append((page[-1]["ts"], name))
        found.sort()
        batch = "batch" in connection.caps.enabled
        tag = f"h{next(_batch_numbers)}"
        server = gateway.info.name
        if batch:
            reply.send(Message("BATCH", ["+" + tag, "draft/chathistory-targets"], server))
        for ts, name in found[:limit]:
            reply.send(Message("CHATHISTORY", ["TARGETS", name, ts], server,
                               {"batch": tag} if batch else {}))
        if batch:
            reply.send(Message("BATCH", ["-" + tag], server))
    return collect()
