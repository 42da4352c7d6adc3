"""What a stored message looks like on the wire, and the notice that burned ones are gone.

Both are needed by several parts (message handlers, the admins' monitor, the burner), so they
live here and are built first in :class:`chat.server.core.ChatServer`, before any of the parts
that use them: no part has to reach through another to render a message.
"""

from chat.protocol import commands as C
from chat.protocol.names import USER_PREFIX
from chat.protocol.timestamps import format_ts
from chat.server.conversations import dm_members, dm_peer, is_room


class MessageViews:
    """The wire form of a message as one viewer sees it (``conv``/``to`` differ per viewer of
    a private chat); a file message carries its file's view from the catalogue."""

    def __init__(self, directory, conversations, catalog):
        self.directory = directory
        self.conversations = conversations
        self.catalog = catalog               # chat.server.files.catalog.FileCatalog

    def view(self, message, viewer: int) -> dict:
        """A stored (or new) message as ``viewer`` sees it."""
        conv = message.conv
        if is_room(conv):
            target = self.conversations.wire_name(conv, viewer)
            seen_as = target
        else:
            target = USER_PREFIX + self.directory.name(dm_peer(conv, message.sender_id))
            seen_as = self.conversations.wire_name(conv, viewer)
        out = {"id": message.id, "conv": seen_as, "from": message.sender, "to": target,
               "ts": format_ts(message.ts), "cid": message.cid}
        if getattr(message, "burned", False):
            out["burned"] = True
        elif message.file_id is not None:
            out["file"] = self.catalog.view_of(message.file_id) or {"id": message.file_id}
        else:
            out["text"] = message.text
        if message.burn_ttl is not None:
            out["burn"] = message.burn_ttl
        return out

    def as_sent(self, message) -> dict:
        """The message as its sender sees it (what admins watching live get)."""
        return self.view(message, message.sender_id)


class BurnNotices:
    """Tells every online member of a conversation that messages burned (the Burner's
    ``on_burned``)."""

    def __init__(self, conversations, fanout):
        self.conversations = conversations
        self.fanout = fanout

    def __call__(self, conv: str, ids: list) -> None:
        if is_room(conv):
            self.fanout.to_room(conv, C.Burned(self.conversations.wire_name(conv, 0), ids))
        else:
            self.fanout.per_viewer(dm_members(conv), lambda viewer: C.Burned(
                self.conversations.wire_name(conv, viewer), ids))
