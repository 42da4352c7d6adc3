"""Who is online: the logged-in connections of each account.

An account is online while at least one of its connections is logged in; ``add`` and
``remove`` say when that changes so that the server can announce it once, not per device.
"""


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


class Session:
    """Who a logged-in connection is."""

    __slots__ = ("account_id", "name", "key", "admin", "since")

    def __init__(self, account_id: int, name: str, key: str, admin: bool, since: float):
        self.account_id = account_id
        self.name = name
        self.key = key
        self.admin = admin
        self.since = since
