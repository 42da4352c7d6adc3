"""The server's typed events as IRC lines, for one viewer (sans-IO).

A message in a room is ``PRIVMSG #room``, a private one ``PRIVMSG <nick>``; its text becomes
as many lines as IRC needs (one per line of text, long ones split). What IRC cannot show
honestly is said in words: a file is a line with its name and size; a burn-after-reading
message is *not* delivered to IRC (an IRC client cannot burn it, and the promise that it is
gone after reading would be broken): the viewer gets a notice that one is waiting in a chat
app instead.
"""

from chat.protocol.timestamps import format_ts
from chat.server.irc.lines import Message, split_text

LINE_ROOM = 512 - 2
ACTION_PREFIX = "/me "
"""How a CTCP ACTION (``/me waves``) is stored, so that native clients show it as typed."""


def user_mask(name: str, guest: bool, server_name: str, ident: str = None) -> str:
    """``nick!user@host`` of a user. Addresses are not shown (the native protocol does not
    show them either); the host says what the user is: ``guest.<server>`` for a guest,
    ``<server>`` for an account. A guest's user is the one its client gave in ``USER``,
    ``~`` first as it is not checked (its nick when there is none); an account's is its
    name."""
    if guest:
        return f"{name}!~{ident or name}@guest.{server_name}"
    return f"{name}!{name}@{server_name}"


def clean_ident(user: str) -> str:
    """What of ``USER``'s user name can go in a mask: letters, digits, ``_ . -`` (10 at
    most), or "" when nothing is left."""
    return "".join(ch for ch in user if ch.isascii() and (ch.isalnum() or ch in "_.-"))[:10]


def human_size(size) -> str:
    if not isinstance(size, (int, float)) or size < 0:
        return "? bytes"
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} bytes"


def message_text(msg: dict):
    """What a stored message says on IRC: its text, a line for a file, or None for a
    burn-after-reading message (not delivered) and one already burned."""
    if msg.get("burned") or msg.get("burn") is not None:
        return None
    file = msg.get("file")
    if file is not None:
        name = file.get("name") or f"file {file.get('id')}"
        return f"[file] {name} ({human_size(file.get('size'))}) - open it in the chat app"
    return msg.get("text", "")


def message_tags(msg: dict, caps, account: str = None) -> dict:
    """The tags a message gets for a client with ``caps`` (a set of capability names)."""
    tags = {}
    if "server-time" in caps and msg.get("ts"):
        tags["time"] = msg["ts"]
    if "message-tags" in caps and msg.get("id") is not None:
        tags["msgid"] = str(msg["id"])
    if "account-tag" in caps and account:
        tags["account"] = account
    return tags


def privmsg_lines(source: str, target: str, text: str, tags: dict,
                  command: str = "PRIVMSG") -> list:
    """``text`` as PRIVMSG lines from ``source`` to ``target``, each within 512 bytes; text
    stored as ``/me ...`` goes back out as a CTCP ACTION."""
    action = text.startswith(ACTION_PREFIX)
    if action:
        text = text[len(ACTION_PREFIX):]
    overhead = len(f":{source} {command} {target} :".encode()) + (9 if action else 0)
    out = []
    for piece in split_text(text, LINE_ROOM - overhead):
        if action:
            piece = f"\x01ACTION {piece}\x01"
        out.append(Message(command, [target, piece], source, dict(tags)))
    return out


def notice_line(server_name: str, target: str, text: str) -> list:
    return privmsg_lines(server_name, target, text, {}, "NOTICE")


def burn_notice(msg: dict, server_name: str, viewer: str) -> list:
    """What an IRC viewer gets instead of a burn-after-reading message from someone else."""
    conv = msg.get("conv", "")
    where = f" in {conv}" if conv.startswith("#") else ""
    return notice_line(server_name, viewer,
                       f"{msg.get('from')} sent you a burn-after-reading message{where}; IRC "
                       "cannot burn it, so it is not shown here: open it in the chat app "
                       "(阅后即焚消息不在 IRC 显示，请在聊天应用中查看)")


def timestamp_tag(ms: int) -> str:
    return format_ts(ms)
