"""IRCv3 capability negotiation (``CAP LS/LIST/REQ/END``, cap-notify), without I/O.

:class:`CapNegotiation` answers each ``CAP`` command with the lines to send and tells whether
registration must wait (``LS`` or ``REQ`` before registration) or may go on (``END``).
``REQ`` is all or nothing: one unknown capability NAKs the whole request.
"""

from chat.server.irc.lines import Message

ERR_INVALIDCAPCMD = "410"

SUPPORTED = {
    "account-notify": None,
    "account-tag": None,
    "away-notify": None,
    "batch": None,
    "cap-notify": None,
    "draft/chathistory": None,
    "echo-message": None,
    "extended-join": None,
    "labeled-response": None,
    "message-tags": None,
    "multi-prefix": None,
    "sasl": "PLAIN",
    "server-time": None,
    "userhost-in-names": None,
}
"""The capabilities the gateway offers and their CAP LS 302 values."""

STICKY = frozenset({"cap-notify"})
"""Capabilities a 302 client has and cannot turn off (cap-notify is implied by 302)."""

LS_ROOM = 400
"""Bytes of capability names per CAP LS line (the rest of 512 is the prefix and command)."""


class CapNegotiation:
    """One connection's capabilities: what it asked for and which CAP version it speaks."""

    def __init__(self, available: dict = None):
        self.available = dict(SUPPORTED if available is None else available)
        self.enabled: set = set()
        self.version = 0          # 0: never sent CAP LS; 301 or 302 once it did

    def has(self, cap: str) -> bool:
        return cap in self.enabled

    def handle(self, params: list, nick: str, registered: bool):
        """Answer ``CAP <params>``: returns ``(lines, effect)``, effect ``"suspend"`` (hold
        registration until END), ``"end"`` (go on) or None."""
        target = nick or "*"
        if not params:
            return [Message("461", [target, "CAP", "Not enough parameters"])], None
        sub = params[0].upper()
        if sub == "LS":
            version = 301
            if len(params) > 1:
                try:
                    version = max(301, int(params[1]))
                except ValueError:
                    version = 301
            self.version = max(self.version, version)
            if self.version >= 302:
                self.enabled.add("cap-notify")
            return self._ls(target), None if registered else "suspend"
        if sub == "LIST":
            return [Message("CAP", [target, "LIST", " ".join(sorted(self.enabled))])], None
        if sub == "REQ":
            if self.version == 0:
                self.version = 301
            return self._req(target, params[1] if len(params) > 1 else ""), \
                None if registered else "suspend"
        if sub == "END":
            return [], None if registered else "end"
        return [Message(ERR_INVALIDCAPCMD, [target, params[0], "Invalid CAP command"])], None

    def _ls(self, target: str) -> list:
        if self.version >= 302:
            items = [name if value is None else f"{name}={value}"
                     for name, value in sorted(self.available.items())]
        else:
            items = sorted(self.available)
        lines, current = [], []
        for item in items:
            if current and len(" ".join(current + [item]).encode()) > LS_ROOM:
                lines.append(current)
                current = []
            current.append(item)
        lines.append(current)
        if self.version < 302:
            # 3.1 clients get one line (they would not understand the "*" continuation)
            return [Message("CAP", [target, "LS", " ".join(i for line in lines for i in line)])]
        out = [Message("CAP", [target, "LS", "*", " ".join(line)]) for line in lines[:-1]]
        out.append(Message("CAP", [target, "LS", " ".join(lines[-1])]))
        return out

    def _req(self, target: str, raw: str) -> list:
        wanted = raw.split()
        raw = " ".join(wanted)
        changes = []
        for item in wanted:
            remove = item.startswith("-")
            name = item[1:] if remove else item
            if name not in self.available or (remove and name in STICKY and self.version >= 302):
                return [Message("CAP", [target, "NAK", raw])]
            changes.append((name, remove))
        if not changes:
            return [Message("CAP", [target, "NAK", raw])]
        for name, remove in changes:
            if remove:
                self.enabled.discard(name)
            else:
                self.enabled.add(name)
        return [Message("CAP", [target, "ACK", raw])]
