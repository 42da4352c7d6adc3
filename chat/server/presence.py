"""Who is online: the logged-in connections of each account, and the notices about it.

An account is online while at least one of its connections is logged in; ``add`` and
``remove`` say when that changes so that the server can announce it once, not per device.
"""

from chat.protocol import commands as C
from chat.server.session import Session  # noqa: F401 (its old home)

PRESENCE_INTERVAL = 0.2
"""Seconds between two presence events: changes in between are announced together."""


class Presence:
    """Logged-in connections, per account and all together."""

    def __init__(self):
        self.sessions: dict[int, set] = {}   # account id -> connections
        self.connections: set = set()        # every logged-in connection

    def add(self, connection, account_id: int) -> bool:
        """Record a login; True if the account just came online."""
        self.connections.add(connection)
        conns = self.sessions.setdefault(account_id, set())
        conns.add(connection)
        return len(conns) == 1

    def remove(self, connection, account_id: int) -> bool:
        """Record a logout or lost connection; True if the account just went offline."""
        self.connections.discard(connection)
        conns = self.sessions.get(account_id)
        if conns is None or connection not in conns:
            return False
        conns.discard(connection)
        if conns:
            return False
        del self.sessions[account_id]
        return True

    def of(self, account_id: int):
        return self.sessions.get(account_id, ())

    def is_online(self, account_id: int) -> bool:
        return account_id in self.sessions

    @property
    def count(self) -> int:
        return len(self.sessions)


class PresenceNotices:
    """Tells everyone who came online or went offline, coalescing bursts.

    Announcing every login to every connection costs N x N frames when N users come back at
    once (a server restart, a classroom starting). A change after a quiet spell goes out at
    once; changes within ``interval`` of the last event wait and go out together, so a storm
    costs one frame per connection per interval.
    """

    def __init__(self, clock, presence, fanout, interval: float = PRESENCE_INTERVAL):
        self.clock = clock
        self.presence = presence
        self.fanout = fanout
        self.interval = interval
        self._changes: dict[str, dict] = {}
        self._last_sent = float("-inf")
        self._call = None

    def changed(self, name: str, online: bool, last_seen=None, guest: bool = False) -> None:
        change = {"user": name, "online": online}
        if last_seen is not None:
            change["last_seen"] = last_seen
        if guest:
            change["guest"] = True
        self._changes.pop(name, None)  # the newest state of an account, in order of change
        self._changes[name] = change
        if self._call is not None:
            return
        wait = self._last_sent + self.interval - self.clock.seconds()
        if wait <= 0:
            self.flush()
        else:
            self._call = self.clock.callLater(wait, self.flush)

    def flush(self) -> None:
        self._call = None
        changes = list(self._changes.values())
        self._changes.clear()
        if not changes:
            return
        self._last_sent = self.clock.seconds()
        step = C.PRESENCE_CHANGES_MAX
        for start in range(0, len(changes), step):
            self.fanout.to_everyone(C.Presence(self.presence.count, changes[start:start + step]))

    def stop(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None
