"""What the client knows about the server and the user, kept up to date from events.

The interfaces read it (current rooms, who is online, unread counts); only
:class:`chat.client.core.ChatClient` writes it.
"""

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class RoomInfo:
    name: str
    topic: str = ""
    members: int = 0


@dataclass
class ClientModel:
    """The user's view of the server state."""
    me: Optional[str] = None
    admin: bool = False
    server_name: str = ""
    policy: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    rooms: dict = field(default_factory=dict)          # room key (casefold) -> RoomInfo
    online: set = field(default_factory=set)           # names of accounts online
    online_count: int = 0
    unread: dict = field(default_factory=dict)         # conv ("#lobby", "@bob") -> count
    last_id: int = 0                                   # newest message id seen

    def logged_in(self, data: dict) -> None:
        user = data.get("user", {})
        self.me = user.get("name")
        self.admin = bool(user.get("admin"))
        self.rooms = {r["name"].casefold(): RoomInfo(r["name"], r.get("topic", ""),
                                                     r.get("members", 0))
                      for r in data.get("rooms", [])}
        self.unread = dict(data.get("unread", {}))
        self.online_count = data.get("online", 0)
        if self.me:
            self.online.add(self.me)

    def room(self, name: str) -> Optional[RoomInfo]:
        return self.rooms.get(name.casefold())

    def apply(self, kind: str, event: dict) -> None:
        """Update from an event before the listener hears of it."""
        if kind == "presence":
            self.online_count = event["count"]
            for change in event["changes"]:
                (self.online.add if change["online"] else self.online.discard)(change["user"])
        elif kind == "joined" and event["user"] == self.me:
            self.rooms.setdefault(event["room"].casefold(), RoomInfo(event["room"]))
        elif kind == "left" and event["user"] == self.me:
            self.rooms.pop(event["room"].casefold(), None)
        elif kind == "topic":
            room = self.room(event["room"])
            if room is not None:
                room.topic = event["topic"]

    def saw(self, msg: dict) -> None:
        self.last_id = max(self.last_id, msg["id"])
