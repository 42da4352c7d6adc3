"""Messages the user sent that the server has not yet acknowledged.

Each message gets a client id (``cid``) when the user sends it and keeps it across resends;
the server stores a ``(sender, cid)`` only once, so resending after a reconnect can never
make a duplicate. A message leaves the outbox when it is acknowledged or has failed for a
reason a resend would not cure (it is then shown as failed).
"""

import enum
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Optional

from chat.protocol import commands as C


class OutState(enum.Enum):
    QUEUED = "queued"     # waiting for a connection
    SENT = "sent"         # on the wire, no reply yet
    ACKED = "acked"       # stored by the server
    FAILED = "failed"     # refused by the server; not retried automatically


@dataclass
class Outgoing:
    """One message on its way; ``msg_id`` and ``ts`` come with the acknowledgement."""
    cid: str
    to: str
    text: str
    burn: Optional[float] = None
    state: OutState = OutState.QUEUED
    attempts: int = 0
    msg_id: Optional[int] = None
    ts: Optional[str] = None
    error: Optional[tuple] = None      # (code, message) once failed
    duplicate: bool = False

    def request(self) -> C.Send:
        """The ``send`` request that carries this message (the same ``cid`` every time, so
        that the server drops a resend it has stored already)."""
        return C.Send(to=self.to, text=self.text, cid=self.cid, burn=self.burn)


@dataclass
class Outbox:
    """Unacknowledged messages in the order they were sent."""
    prefix: str = field(default_factory=lambda: secrets.token_hex(8))
    _items: dict = field(default_factory=dict)
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def add(self, to: str, text: str, burn: Optional[float] = None) -> Outgoing:
        # the prefix is random per client run: a cid must never repeat for this account,
        # across restarts of the program too, or the server would take it for a resend
        out = Outgoing(f"{self.prefix}-{next(self._counter)}", to, text, burn)
        self._items[out.cid] = out
        return out

    def unacked(self) -> list:
        return list(self._items.values())

    def get(self, cid: str) -> Optional[Outgoing]:
        return self._items.get(cid)

    def acked(self, out: Outgoing, msg_id: int, ts: str, duplicate: bool) -> None:
        out.state, out.msg_id, out.ts, out.duplicate = OutState.ACKED, msg_id, ts, duplicate
        self._items.pop(out.cid, None)

    def failed(self, out: Outgoing, code: str, message: str) -> None:
        out.state, out.error = OutState.FAILED, (code, message)
        self._items.pop(out.cid, None)

    def restore(self, out: Outgoing) -> None:
        """Put a failed message back, with its cid, for another try."""
        out.state, out.error = OutState.QUEUED, None
        self._items[out.cid] = out

    def requeue(self, out: Outgoing) -> None:
        if out.cid in self._items:
            out.state = OutState.QUEUED

    def __len__(self) -> int:
        return len(self._items)
