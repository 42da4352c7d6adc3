"""Turning server events and replies into lines for the terminal: pure code, no I/O.

Every line goes through :func:`_safe`: text from other users must not be able to move the
cursor or clear the screen (terminal escape sequences), nor fake a line of its own (a newline
followed by ``[12:00:00] admin: ...``), so control characters become U+FFFD and the lines
after the first are indented.
"""

import unicodedata
from datetime import datetime, tzinfo
from typing import Optional

from chat.cli.text import display_width, pad, tr
from chat.protocol.timestamps import parse_ts

CONTINUATION = "    "
DATE_FORMAT = "%Y-%m-%d %H:%M"


class Formatter:
    """Lines in one language for the user ``me``; times in ``tz`` (None: local time)."""

    def __init__(self, lang: str, me: str, tz: Optional[tzinfo] = None):
        self.lang = lang
        self.me = me
        self.tz = tz

    def tr(self, key: str, **params) -> str:
        """``text.tr`` in this formatter's language."""
        return tr(self.lang, key, **params)

    # ------------------------------------------------------------------ times

    def _moment(self, iso_ts: str) -> datetime:
        # whole seconds: a float of milliseconds could round up into the next second
        return datetime.fromtimestamp(parse_ts(iso_ts) // 1000, self.tz)

    def clock(self, iso_ts: str) -> str:
        """``HH:MM:SS`` of a wire time."""
        return self._moment(iso_ts).strftime("%H:%M:%S")

    def date(self, iso_ts: str) -> str:
        """``YYYY-MM-DD HH:MM`` of a wire time."""
        return self._moment(iso_ts).strftime(DATE_FORMAT)

    # ------------------------------------------------------------------ lines

    def message(self, msg: dict, current: str) -> str:
        """A chat message; the room is named only when it is not ``current``."""
        conv = msg["conv"]
        if conv.startswith("@"):
            if self._is_me(msg["from"]):
                who = f"{self.tr('you')} -> {conv[1:]}"
            else:
                who = f"{msg['from']} -> {self.tr('you')}"
            where = self.tr("private_marker") + " "
        else:
            who = msg["from"]
            where = "" if conv.casefold() == current.casefold() else f"[{conv}] "
        return _safe(f"[{self.clock(msg['ts'])}] {where}{who}: {self._body(msg)}")

    def system(self, key: str, **params) -> str:
        """A message of the client itself, without a time."""
        return self._prefixed("system_prefix", self.tr(key, **params))

    def notice(self, event: dict) -> str:
        """An admin's notice, or the announcement of a shutdown."""
        sender = event["from"]
        if event.get("to"):
            recipient = self.tr("you") if self._is_me(event["to"]) else event["to"]
            sender = f"{sender} -> {recipient}"
        text = event.get("text", "")
        if event.get("kind") == "shutdown":
            seconds = event.get("seconds") or 0
            text = (self.tr("shutdown_warning", seconds=seconds, message=text) if seconds
                    else self.tr("shutdown_now", message=text))
        body = self.tr("prefixed", prefix=self.tr("notice_prefix"),
                       text=self.tr("notice_body", user=sender, text=text))
        return _safe(f"[{self.clock(event['ts'])}] {body}")

    def monitor(self, msg: dict) -> str:
        """A copy of someone's message for a monitoring admin (as its sender saw it)."""
        to = msg["to"]
        where = f"{msg['from']} -> {to}" if to.startswith("@") else f"{to} {msg['from']}"
        return self._prefixed("monitor_prefix",
                              f"[{self.clock(msg['ts'])}] {where}: {self._body(msg)}")

    def error(self, code: str, message: str) -> str:
        """An error reply; known codes are named in the user's language."""
        try:
            name = self.tr("code_" + code)
        except KeyError:
            name = code     # a code newer than this client
        return self.system("error", code=name, message=message)

    # ------------------------------------------------------------------ lists

    def users(self, data: dict) -> list[str]:
        """The ``users`` reply: a header, then one line per account."""
        rows = []
        for user in data["users"]:
            name = user["name"] + (" " + self.tr("tag_admin") if user.get("admin") else "")
            if user.get("guest"):
                name += " " + self.tr("tag_guest")
            rows.append([name, self._state(user)])
        header = self.tr("users_header", online=data["online"], total=len(data["users"]))
        return self._list(header, _table(rows), data.get("more"))

    def rooms(self, rooms: list[dict]) -> list[str]:
        """The rooms, members marked with ``*``; with member names when the server gave them."""
        rows = [[("* " if room.get("member") else "  ") + "#" + room["name"],
                 f"({room['members']})", room.get("topic", "")] for room in rooms]
        lines = []
        for room, line in zip(rooms, _table(rows)):
            lines.append(line)
            if room.get("member_names") is not None:
                names = ", ".join(room["member_names"])
                lines.append("      " + self.tr("room_members", names=names))
        return self._list(self.tr("rooms_header"), lines, False)

    def sessions(self, data: dict) -> list[str]:
        """The ``sessions`` reply (admins): who is connected from where, with what, since when."""
        rows = [[s["user"] + (" " + self.tr("tag_admin") if s.get("admin") else ""),
                 _address(s["address"], s["port"]), s.get("client", ""),
                 self.tr("since", when=self.date(s["since"])),
                 # an older server sends no idle time: the cell stays empty
                 self.tr("idle_for", duration=duration(self.tr, s["idle"]))
                 if isinstance(s.get("idle"), (int, float)) else ""]
                for s in data["sessions"]]
        header = self.tr("sessions_header", online=data["online"])
        return self._list(header, _table(rows), data.get("more"))

    def user_info(self, user: dict) -> list[str]:
        """The ``user_info`` reply (admins): one account in a few lines."""
        title = user["name"]
        for flag, tag in (("admin", "tag_admin"), ("banned", "tag_banned")):
            if user.get(flag):
                title += " " + self.tr(tag)
        details = []
        if user.get("created"):
            details.append(self.tr("info_created", when=self.date(user["created"])))
        if user.get("banned") and user.get("ban_reason"):
            details.append(self.tr("info_ban_reason", reason=user["ban_reason"]))
        if user.get("rooms"):
            rooms = ", ".join("#" + room.lstrip("#") for room in user["rooms"])
            details.append(self.tr("info_rooms", rooms=rooms))
        for s in user.get("sessions", ()):
            details.append(self.tr("info_session", address=_address(s["address"], s["port"]),
                                   client=s.get("client", ""), since=self.date(s["since"])))
        lines = [f"{title}  {self._state(user)}"] + ["  " + line for line in details]
        return [_safe(line) for line in lines]

    def files(self, conv: str, files: list[dict], more: bool = False) -> list[str]:
        """The ``files`` reply: id, name, size, type, who sent it and when."""
        if not files:
            return [self.system("no_files", conv=conv)]
        rows = [[f"/get {f['id']}", f["name"], human_size(f["size"]), f.get("mime", ""),
                 f.get("from", ""), self.date(f["ts"])] for f in files]
        return self._list(self.tr("files_header", conv=conv), _table(rows), more)

    def transfer(self, transfer) -> str:
        """One line about a file transfer in progress, or its outcome."""
        state = transfer.state.value
        name = transfer.name
        if state == "failed":
            return self.system("transfer_failed", name=name, message=transfer.error[1])
        if state == "cancelled":
            return self.system("transfer_cancelled", name=name)
        if state == "hashing":
            return self.system("transfer_hashing", name=name)
        if state == "done":
            if transfer.direction == "up":
                return self.system("transfer_sent", name=name, total=human_size(transfer.size),
                                   target=transfer.target)
            return self.system("transfer_saved", name=name, total=human_size(transfer.size),
                               path=transfer.path)
        if state in ("waiting", "offering"):
            return self.system("transfer_waiting", name=name)
        key = "transfer_up" if transfer.direction == "up" else "transfer_down"
        return self.system(key, name=name, percent=f"{transfer.percent:.0f}",
                           done=human_size(transfer.done), total=human_size(transfer.size or 0),
                           speed=human_size(transfer.speed))

    def history(self, conv: str, messages: list[dict]) -> list[str]:
        """A page of history: a header, then the messages as ``message`` shows them."""
        if not messages:
            return [self.tr("no_history")]
        header = self.tr("history_header", conv=conv, n=len(messages))
        return [header] + [self.message(msg, conv) for msg in messages]

    # ------------------------------------------------------------------ helpers

    def _is_me(self, name: str) -> bool:
        return name.casefold() == self.me.casefold()   # names are case-insensitive

    def _state(self, user: dict) -> str:
        if user.get("online"):
            return self.tr("state_online")
        if user.get("last_seen"):
            return self.tr("state_last_seen", when=self.date(user["last_seen"]))
        return self.tr("state_never_seen")

    def _body(self, msg: dict) -> str:
        if msg.get("burned"):
            return self.tr("burned_text")
        if msg.get("file"):
            f = msg["file"]
            key = "file_to_all" if f.get("to") == "@all" else "file_body"
            return self.tr(key, name=f["name"], size=human_size(f["size"]),
                           mime=f.get("mime", ""), id=f["id"])
        text = msg.get("text", "")
        if msg.get("burn"):
            text += "  " + self.tr("burn_marker", seconds=f"{msg['burn']:g}")
        return text

    def _prefixed(self, prefix_key: str, text: str) -> str:
        return _safe(self.tr("prefixed", prefix=self.tr(prefix_key), text=text))

    def _list(self, header: str, lines: list[str], more: bool) -> list[str]:
        tail = ["  " + self.tr("list_more")] if more else []
        return [_safe(line) for line in [header] + lines + tail]


def duration(tr, seconds: float, prefix: str = "duration") -> str:
    """``42 s``, ``5 min`` or ``2 h 5 min`` through ``tr`` (keys ``<prefix>_s``, ``_min``,
    ``_h``); the desktop client's admin panel uses it with its own keys."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return tr(f"{prefix}_s", n=seconds)
    if seconds < 3600:
        return tr(f"{prefix}_min", n=seconds // 60)
    return tr(f"{prefix}_h", h=seconds // 3600, min=seconds % 3600 // 60)


def _address(host: str, port) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"   # IPv6 in brackets


def _table(rows: list[list[str]]) -> list[str]:
    """Rows of cells in columns two spaces apart, indented by two."""
    if not rows:
        return []
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(pad(cell, width) for cell, width in zip(row, widths)).rstrip()
            for row in rows]


def _safe(line: str) -> str:
    """``line`` with control characters replaced and continuation lines indented."""
    line = line.replace("\r\n", "\n").rstrip()
    cleaned = "".join(c if c in "\n\t" or unicodedata.category(c) != "Cc" else "\ufffd"
                      for c in line)
    first, *rest = cleaned.split("\n")
    return "\n".join([first.rstrip()] + [(CONTINUATION + part).rstrip() for part in rest])


def human_size(n) -> str:
    """``1536`` -> ``1.5 KiB``: binary units, three significant digits."""
    n = float(n or 0)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} TiB"
