"""Every message of the protocol as a class with ``parse`` and ``to_dict``.

Client requests (``CLIENT_COMMANDS``) and server messages (``SERVER_MESSAGES``) are
separate whitelists: a server decodes only the first, a client only the second, so a
``type`` that belongs to the other direction is ``unknown_type``. Fields are declared with
:func:`arg` and a checker from :mod:`chat.protocol.fields`; unknown extra fields are
ignored so that newer peers can add optional ones.
"""

from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, ClassVar, Optional

from chat.protocol import fields as F
from chat.protocol.codec import decode_object
from chat.protocol.errors import BAD_REQUEST, UNKNOWN_TYPE, ProtocolError
from chat.protocol.limits import AVATAR_MAX  # noqa: F401 (also here, as before)

TEXT_MAX = 16_000
TOPIC_MAX = 500
AVATAR_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
HISTORY_PAGE_MAX = 200
LIST_PAGE_MAX = 500
SYNC_PAGE_MAX = 500
BURN_TTL_DEFAULT = 5
PRESENCE_CHANGES_MAX = 250
BURN_TTL_MAX = 7 * 24 * 3600
REASON_MAX = 500          # kick and ban reasons, the shutdown message
SHUTDOWN_DELAY_MAX = 3600
FILE_SIZE_MAX = 2 ** 53 - 1
"""What the wire can carry; a server's own ``max_file_size`` is far lower (in hello's limits)."""
FILES_PAGE_MAX = 200
EMOJI_MAX = 32            # characters of one reaction
REACTIONS_MAX = 20        # distinct emoji on one message
QUOTE_MAX = 200           # characters of a reply's quote (the original's first line)
SEARCH_TEXT_MAX = 200
SEARCH_PAGE_MAX = 50
PINS_MAX = 50             # pins a "pins" reply lists at most (the newest)
EDIT_WINDOW_DEFAULT = 86400


def arg(check, default=MISSING):
    """A declared field: ``check`` validates the raw value; no default means required."""
    return field(default=default, metadata={"check": check})


def request_id():
    """The ``id`` field of a request: required on the wire, but keyword-only with no value by
    default, so that a client builds a request without one (``Join(room="x")``) and its
    connection gives it the next id when it sends it (:meth:`Request.with_id`)."""
    return field(default=None, kw_only=True, metadata={"check": F.request_id, "required": True})


class Message:
    """Base of all protocol messages. ``TYPE`` is the value of the JSON ``type`` field."""

    TYPE: ClassVar[str] = ""

    @classmethod
    def parse(cls, obj: dict) -> "Message":
        values = {}
        for spec in fields(cls):
            wire = _wire_name(spec.name)
            if wire in obj and obj[wire] is not None:
                values[spec.name] = spec.metadata["check"](wire, obj[wire])
            elif spec.default is MISSING or spec.metadata.get("required"):
                raise ProtocolError(BAD_REQUEST, f"{cls.TYPE}: missing field {wire!r}")
        return cls(**values)

    def to_dict(self) -> dict:
        out = {"type": self.TYPE}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is not None:
                out[_wire_name(spec.name)] = value
        return out


def _wire_name(attribute: str) -> str:
    """The JSON key of a field: a trailing ``_`` only dodges a Python keyword (``from_``)."""
    return attribute.removesuffix("_")


class Request(Message):
    """A client request: carries ``id`` and gets exactly one ``ok`` or ``error`` reply.

    ``BODY_MAX`` > 0 lets the request announce ``body`` bytes that follow in body frames.
    ``NEEDS_LOGIN`` requests from a connection that has not logged in get ``not_logged_in``.
    """

    BODY_MAX: ClassVar[int] = 0
    NEEDS_LOGIN: ClassVar[bool] = True
    STREAM_BODY: ClassVar[bool] = False
    """The body goes to the handler chunk by chunk as it arrives (files), not in one piece."""
    REPLY_BODY: ClassVar[bool] = False
    """The ``ok`` is followed by body frames, which are tagged with the (integer) id."""
    QUERY: ClassVar[bool] = False
    """The request only reads (history, lists, ...): a server limits these per account with
    its query rate, apart from the messages an account sends."""

    def with_id(self, request_id) -> "Request":
        """This request as sent with ``request_id``."""
        return replace(self, id=request_id)


CLIENT_COMMANDS: dict[str, type[Message]] = {}
SERVER_MESSAGES: dict[str, type[Message]] = {}


def client(cls):
    """Register ``cls`` as a client-to-server message (and make it a dataclass)."""
    cls = dataclass(frozen=True)(cls)
    CLIENT_COMMANDS[cls.TYPE] = cls
    return cls


def server(cls):
    """Register ``cls`` as a server-to-client message (and make it a dataclass)."""
    cls = dataclass(frozen=True)(cls)
    SERVER_MESSAGES[cls.TYPE] = cls
    return cls


# ---------------------------------------------------------------- client -> server

@client
class Hello(Request):
    TYPE = "hello"
    NEEDS_LOGIN = False
    id: Any = request_id()
    version: int = arg(F.integer(0, 1_000_000))
    client: Optional[str] = arg(F.text(0, 64), None)


@client
class Register(Request):
    TYPE = "register"
    NEEDS_LOGIN = False
    BODY_MAX = AVATAR_MAX
    id: Any = request_id()
    username: str = arg(F.user_name)
    password: str = arg(F.password)
    avatar_type: Optional[str] = arg(F.one_of(*AVATAR_TYPES), None)
    body: Optional[int] = arg(F.integer(1), None)


@client
class Login(Request):
    TYPE = "login"
    NEEDS_LOGIN = False
    id: Any = request_id()
    username: str = arg(F.user_name)
    password: str = arg(F.password_given)


@client
class GuestLogin(Request):
    """Log in as a guest: a free name that is no account's (a server with --allow-guests)."""
    TYPE = "guest"
    NEEDS_LOGIN = False
    id: Any = request_id()
    username: str = arg(F.user_name)


@client
class Logout(Request):
    TYPE = "logout"
    id: Any = request_id()


@client
class ChangePassword(Request):
    TYPE = "change_password"
    id: Any = request_id()
    old: str = arg(F.password_given)
    new: str = arg(F.password)


@client
class SetAvatar(Request):
    TYPE = "set_avatar"
    BODY_MAX = AVATAR_MAX
    id: Any = request_id()
    avatar_type: str = arg(F.one_of(*AVATAR_TYPES))
    body: int = arg(F.integer(1))


@client
class GetAvatar(Request):
    TYPE = "get_avatar"
    QUERY = True
    REPLY_BODY = True
    id: Any = request_id()
    user: str = arg(F.user_name)


@client
class Users(Request):
    TYPE = "users"
    QUERY = True
    id: Any = request_id()
    after: Optional[str] = arg(F.user_name, None)
    limit: int = arg(F.integer(1, LIST_PAGE_MAX), LIST_PAGE_MAX)
    online: bool = arg(F.boolean, False)


@client
class Rooms(Request):
    TYPE = "rooms"
    QUERY = True
    id: Any = request_id()
    after: Optional[str] = arg(F.room_name, None)
    limit: int = arg(F.integer(1, LIST_PAGE_MAX), LIST_PAGE_MAX)


@client
class CreateRoom(Request):
    TYPE = "create_room"
    id: Any = request_id()
    room: str = arg(F.room_name)
    topic: str = arg(F.text(0, TOPIC_MAX), "")


@client
class Join(Request):
    TYPE = "join"
    id: Any = request_id()
    room: str = arg(F.room_name)


@client
class Leave(Request):
    TYPE = "leave"
    id: Any = request_id()
    room: str = arg(F.room_name)


@client
class SetTopic(Request):
    TYPE = "set_topic"
    id: Any = request_id()
    room: str = arg(F.room_name)
    topic: str = arg(F.text(0, TOPIC_MAX))


@client
class Members(Request):
    TYPE = "members"
    QUERY = True
    id: Any = request_id()
    room: str = arg(F.room_name)
    after: Optional[str] = arg(F.user_name, None)
    limit: int = arg(F.integer(1, LIST_PAGE_MAX), LIST_PAGE_MAX)


@client
class Send(Request):
    TYPE = "send"
    id: Any = request_id()
    to: str = arg(F.conv_ref)
    text: str = arg(F.text(1, TEXT_MAX, too_large=True))
    cid: str = arg(F.text(1, 64))
    burn: Optional[float] = arg(F.number(1, BURN_TTL_MAX), None)
    reply_to: Optional[int] = arg(F.integer(1), None)   # a message of the same conversation


@client
class History(Request):
    TYPE = "history"
    QUERY = True
    id: Any = request_id()
    conv: str = arg(F.conv_ref)
    before: Optional[int] = arg(F.integer(), None)
    after: Optional[int] = arg(F.integer(), None)
    limit: int = arg(F.integer(1, HISTORY_PAGE_MAX), 50)


@client
class Sync(Request):
    TYPE = "sync"
    QUERY = True
    id: Any = request_id()
    since: int = arg(F.integer())
    limit: int = arg(F.integer(1, SYNC_PAGE_MAX), 200)


@client
class Unread(Request):
    TYPE = "unread"
    QUERY = True
    id: Any = request_id()


@client
class MarkRead(Request):
    TYPE = "read"
    id: Any = request_id()
    conv: str = arg(F.conv_ref)
    up_to: int = arg(F.integer())


@client
class Typing(Request):
    """The user is typing in ``conv``: relayed to its other online members, never stored."""
    TYPE = "typing"
    id: Any = request_id()
    conv: str = arg(F.conv_ref)


@client
class Ping(Request):
    TYPE = "ping"
    NEEDS_LOGIN = False
    id: Any = request_id()


@client
class Pong(Message):
    """The answer to a server ``ping``; a notification: no id, no reply."""
    TYPE = "pong"


# Message actions (docs/PROTOCOL.md, *Message actions*): the server checks who may.

@client
class Edit(Request):
    """Replace the text of one's own text message (within the server's edit window)."""
    TYPE = "edit"
    id: Any = request_id()
    msg_id: int = arg(F.integer(1))
    text: str = arg(F.text(1, TEXT_MAX, too_large=True))


@client
class Delete(Request):
    """Delete a message for everyone: one's own, or (admins) any message of a room."""
    TYPE = "delete"
    id: Any = request_id()
    msg_id: int = arg(F.integer(1))


@client
class React(Request):
    """Add (``on`` true) or remove one's reaction ``emoji`` on a message; explicit, so that
    a resend changes nothing."""
    TYPE = "react"
    id: Any = request_id()
    msg_id: int = arg(F.integer(1))
    emoji: str = arg(F.reaction)
    on: bool = arg(F.boolean)


@client
class Pin(Request):
    """Pin (``on`` true) or unpin a message of a room (the room's owner or an admin)."""
    TYPE = "pin"
    id: Any = request_id()
    msg_id: int = arg(F.integer(1))
    on: bool = arg(F.boolean)


@client
class Pins(Request):
    """The pinned messages of a conversation, newest pin first."""
    TYPE = "pins"
    QUERY = True
    id: Any = request_id()
    conv: str = arg(F.conv_ref)


@client
class Search(Request):
    """Search the whole history of one conversation (or all of the caller's) by text,
    sender and time; newest first, paged with ``before``."""
    TYPE = "search"
    QUERY = True
    id: Any = request_id()
    conv: Optional[str] = arg(F.conv_ref, None)
    text: Optional[str] = arg(F.text(1, SEARCH_TEXT_MAX), None)
    from_: Optional[str] = arg(F.user_name, None)
    since_ts: Optional[str] = arg(F.timestamp, None)
    until_ts: Optional[str] = arg(F.timestamp, None)
    before: Optional[int] = arg(F.integer(1), None)
    limit: int = arg(F.integer(1, SEARCH_PAGE_MAX), 20)

    @classmethod
    def parse(cls, obj: dict) -> "Search":
        request = super().parse(obj)
        if request.text is None and request.from_ is None:
            raise ProtocolError(BAD_REQUEST, "search: give 'text' or 'from' (or both)")
        return request


# Admin requests: an account without the admin role gets ``forbidden`` for each of them.

@client
class SendNotice(Request):
    """A notice from an admin to everyone logged in, or to every connection of ``to``."""
    TYPE = "notice"
    id: Any = request_id()
    text: str = arg(F.text(1, TEXT_MAX, too_large=True))
    to: Optional[str] = arg(F.user_name, None)


@client
class Sessions(Request):
    TYPE = "sessions"
    QUERY = True
    id: Any = request_id()


@client
class UserInfo(Request):
    TYPE = "user_info"
    QUERY = True
    id: Any = request_id()
    user: str = arg(F.user_name)


@client
class Kick(Request):
    TYPE = "kick"
    id: Any = request_id()
    user: str = arg(F.user_name)
    reason: str = arg(F.text(0, REASON_MAX), "")


@client
class Ban(Request):
    TYPE = "ban"
    id: Any = request_id()
    user: str = arg(F.user_name)
    reason: str = arg(F.text(0, REASON_MAX), "")


@client
class Unban(Request):
    TYPE = "unban"
    id: Any = request_id()
    user: str = arg(F.user_name)


@client
class Monitor(Request):
    """Turn the live copy of every new message on or off for this connection."""
    TYPE = "monitor"
    id: Any = request_id()
    on: bool = arg(F.boolean)


@client
class Shutdown(Request):
    TYPE = "shutdown"
    id: Any = request_id()
    seconds: int = arg(F.integer(0, SHUTDOWN_DELAY_MAX), 0)
    message: str = arg(F.text(0, REASON_MAX), "")


@client
class FileOffer(Request):
    """Announce a file; the reply says from which offset to upload (see docs/PROTOCOL.md)."""
    TYPE = "file_offer"
    id: Any = request_id()
    to: str = arg(F.file_target)
    name: str = arg(F.file_name)
    size: int = arg(F.integer(0, FILE_SIZE_MAX))
    sha256: str = arg(F.sha256_hex)
    mime: str = arg(F.text(1, 255), "application/octet-stream")


@client
class Upload(Request):
    """The bytes of an offered file from ``offset`` to the end, in streamed body frames."""
    TYPE = "upload"
    BODY_MAX = FILE_SIZE_MAX
    STREAM_BODY = True
    id: Any = request_id()
    file: int = arg(F.integer(1))
    offset: int = arg(F.integer(0, FILE_SIZE_MAX))
    body: Optional[int] = arg(F.integer(1, FILE_SIZE_MAX), None)


@client
class Download(Request):
    TYPE = "download"
    REPLY_BODY = True
    id: Any = request_id()
    file: int = arg(F.integer(1))
    offset: int = arg(F.integer(0, FILE_SIZE_MAX), 0)


@client
class Cancel(Request):
    """Stop this connection's own upload or download ``request`` while it runs: the upload
    gets an ``error`` ``cancelled`` (its partial stays for a resume), a download ends with one.
    Idempotent: a request that is unknown or over already gives ``cancelled: false``."""
    TYPE = "cancel"
    NEEDS_LOGIN = False     # only ever touches the caller's own connection
    id: Any = request_id()
    request: Any = arg(F.request_id)


@client
class Files(Request):
    TYPE = "files"
    QUERY = True
    id: Any = request_id()
    conv: str = arg(F.conv_ref)
    before: Optional[int] = arg(F.integer(), None)
    limit: int = arg(F.integer(1, FILES_PAGE_MAX), 50)


# ---------------------------------------------------------------- server -> client

@server
class Ok(Message):
    TYPE = "ok"
    id: Any = arg(F.anything)
    data: dict = arg(F.mapping, None)
    body: Optional[int] = arg(F.integer(1), None)


@server
class Error(Message):
    TYPE = "error"
    code: str = arg(F.text(1, 64))
    message: str = arg(F.text(0, 4096))
    id: Any = arg(F.anything, None)
    retry_after: Optional[float] = arg(F.number(0, 1e9), None)

    def to_dict(self) -> dict:
        out = super().to_dict()
        out.setdefault("id", None)  # an error always says which request it answers, if any
        return out


@server
class MessageEvent(Message):
    TYPE = "message"
    msg: dict = arg(F.mapping)


@server
class Presence(Message):
    """Accounts that came online or went offline: ``changes`` of ``{user, online, last_seen?}``."""
    TYPE = "presence"
    count: int = arg(F.integer())
    changes: list = arg(F.list_of(F.mapping, PRESENCE_CHANGES_MAX))


@server
class Joined(Message):
    TYPE = "joined"
    room: str = arg(F.text(1, 64))
    user: str = arg(F.text(1, 64))


@server
class Left(Message):
    TYPE = "left"
    room: str = arg(F.text(1, 64))
    user: str = arg(F.text(1, 64))


@server
class Topic(Message):
    TYPE = "topic"
    room: str = arg(F.text(1, 64))
    topic: str = arg(F.text(0, TOPIC_MAX))
    by: str = arg(F.text(1, 64))


@server
class ReadEvent(Message):
    TYPE = "read"
    conv: str = arg(F.text(1, 64))
    user: str = arg(F.text(1, 64))
    up_to: int = arg(F.integer())


@server
class TypingEvent(Message):
    TYPE = "typing"
    conv: str = arg(F.text(1, 64))
    user: str = arg(F.text(1, 64))


@server
class Burned(Message):
    TYPE = "burned"
    conv: str = arg(F.text(1, 64))
    ids: list = arg(F.list_of(F.integer(), 10_000))


@server
class ServerPing(Message):
    TYPE = "ping"


@server
class Bye(Message):
    TYPE = "bye"
    code: str = arg(F.text(1, 64))
    message: str = arg(F.text(0, 4096))


@server
class NoticeEvent(Message):
    """An admin's notice; ``kind`` "shutdown" announces a stop in ``seconds``."""
    TYPE = "notice"
    from_: str = arg(F.text(1, 64))
    text: str = arg(F.text(0, TEXT_MAX))   # empty: a shutdown without a reason
    ts: str = arg(F.text(1, 64))
    kind: str = arg(F.text(1, 32), "notice")   # not one_of: a newer server may add kinds
    to: Optional[str] = arg(F.text(1, 64), None)
    seconds: Optional[int] = arg(F.integer(0, SHUTDOWN_DELAY_MAX), None)


@server
class MonitorEvent(Message):
    """A copy of a new message for a monitoring admin, as its sender sees it."""
    TYPE = "monitor"
    msg: dict = arg(F.mapping)


@server
class Edited(Message):
    """A message's text was edited (``text`` is the latest; older versions are not kept)."""
    TYPE = "edited"
    conv: str = arg(F.text(1, 64))
    msg_id: int = arg(F.integer())
    text: str = arg(F.text(0, TEXT_MAX))
    edited: str = arg(F.text(1, 64))
    pos: int = arg(F.integer())


@server
class Deleted(Message):
    """A message was deleted for everyone; ``by`` is the admin who deleted another's."""
    TYPE = "deleted"
    conv: str = arg(F.text(1, 64))
    msg_id: int = arg(F.integer())
    pos: int = arg(F.integer())
    by: Optional[str] = arg(F.text(1, 64), None)


@server
class ReactionsEvent(Message):
    """The full reactions of a message after a change: ``[{emoji, users}]``."""
    TYPE = "reactions"
    conv: str = arg(F.text(1, 64))
    msg_id: int = arg(F.integer())
    reactions: list = arg(F.list_of(F.mapping, REACTIONS_MAX))
    pos: int = arg(F.integer())


@server
class PinnedEvent(Message):
    """A message of a room was pinned (``on``) or unpinned by ``by``."""
    TYPE = "pinned"
    conv: str = arg(F.text(1, 64))
    msg_id: int = arg(F.integer())
    on: bool = arg(F.boolean)
    by: str = arg(F.text(1, 64))
    pos: int = arg(F.integer())


def parse_message(obj: dict, registry: dict[str, type[Message]]) -> Message:
    """Turn a decoded JSON object into the message class ``registry`` has for its type."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(BAD_REQUEST, "a control frame needs a string 'type'")
    cls = registry.get(kind)
    if cls is None:
        raise ProtocolError(UNKNOWN_TYPE, f"unknown message type {kind[:64]!r}")
    return cls.parse(obj)


def parse_request(payload: bytes) -> Message:
    """Server side: decode and check one client control frame."""
    return parse_message(decode_object(payload), CLIENT_COMMANDS)


def parse_server_message(payload: bytes) -> Message:
    """Client side: decode and check one server control frame."""
    return parse_message(decode_object(payload), SERVER_MESSAGES)


def request_id_of(obj: Any) -> Any:
    """The ``id`` of a raw request if it is a valid one, else None (for error replies)."""
    if isinstance(obj, dict):
        try:
            return F.request_id("id", obj.get("id"))
        except ProtocolError:
            return None
    return None

