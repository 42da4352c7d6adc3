"""Who is online on any node: this node's connections plus the other nodes' sessions.

:class:`ClusterPresence` is a :class:`~chat.server.presence.Presence` (this node's logged-in
connections, which the fan-out uses) that also holds the sessions of the other nodes, as the
stream tells them (:mod:`.node`). An account is online while it has a session on any node,
so ``add`` says "came online" only if no other node has it either, and ``remove`` says "went
offline" only if it is gone everywhere: a user connected through two nodes is announced once.
``on_open`` / ``on_close`` are told of every local login and logout (the node stores and
announces them); guests stay local (their ids mean nothing to other nodes).
"""

from dataclasses import dataclass
from typing import Optional

from chat.server.guests import is_guest_id
from chat.server.presence import Presence


@dataclass(frozen=True)
class RemoteSession:
    """A logged-in connection of another node (a row of ``node_sessions``)."""
    node: str
    sid: int
    account_id: int
    name: str
    admin: bool
    address: str
    port: int
    client: Optional[str]
    since: int           # ms


class ClusterPresence(Presence):
    """Local connections as in :class:`Presence`, plus the other nodes' sessions."""

    def __init__(self):
        super().__init__()
        self.remote: dict[tuple[str, int], RemoteSession] = {}
        self.remote_accounts: dict[int, int] = {}   # account id -> its sessions elsewhere
        self.on_open = lambda connection, account_id: None
        self.on_close = lambda connection, account_id: None

    # -- this node
    def add(self, connection, account_id: int) -> bool:
        first_here = super().add(connection, account_id)
        if not is_guest_id(account_id):
            self.on_open(connection, account_id)
        return first_here and account_id not in self.remote_accounts

    def remove(self, connection, account_id: int) -> bool:
        was_here = connection in self.sessions.get(account_id, ())
        gone_here = super().remove(connection, account_id)
        if was_here and not is_guest_id(account_id):
            self.on_close(connection, account_id)
        return gone_here and account_id not in self.remote_accounts

    # -- the other nodes
    def remote_opened(self, session: RemoteSession) -> bool:
        """Record another node's session; True if its account just came online."""
        key = (session.node, session.sid)
        if key in self.remote:
            return False
        was_online = self.is_online(session.account_id)
        self.remote[key] = session
        self.remote_accounts[session.account_id] = \
            self.remote_accounts.get(session.account_id, 0) + 1
        return not was_online

    def remote_closed(self, node: str, sid: int) -> Optional[RemoteSession]:
        """Forget another node's session; returns it if its account just went offline."""
        session = self.remote.pop((node, sid), None)
        if session is None:
            return None
        left = self.remote_accounts[session.account_id] - 1
        if left:
            self.remote_accounts[session.account_id] = left
        else:
            del self.remote_accounts[session.account_id]
        return None if self.is_online(session.account_id) else session

    def sessions_of_node(self, node: str) -> list[RemoteSession]:
        return [s for (n, _), s in self.remote.items() if n == node]

    def remote_of(self, account_id: int) -> list[RemoteSession]:
        return [s for s in self.remote.values() if s.account_id == account_id]

    def is_online(self, account_id: int) -> bool:
        return account_id in self.sessions or account_id in self.remote_accounts

    @property
    def count(self) -> int:
        return len(self.sessions.keys() | self.remote_accounts.keys())
