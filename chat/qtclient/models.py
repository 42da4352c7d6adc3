"""Qt item models of what the user sees: conversations, users, messages, transfers.

They hold plain data (:class:`ChatItem`, :class:`Conversation`, :class:`Person`) and are
filled by :class:`chat.qtclient.state.ChatState` from the session's signals; views read them
through ``data(index, role)`` with the roles below. Nothing here talks to the network.
"""

import datetime
import enum
from dataclasses import dataclass
from typing import Optional

from PyQt6.QtCore import QAbstractListModel, QModelIndex, Qt

from chat.protocol.timestamps import parse_ts as wire_ms

ItemRole = Qt.ItemDataRole.UserRole + 1
"""The row's object itself (a ChatItem, Conversation, Person or Transfer)."""
KeyRole = Qt.ItemDataRole.UserRole + 2
"""A row's stable key: a conversation's ``#room``/``@user``, a person's name."""


def parse_ts(ts: Optional[str]) -> Optional[datetime.datetime]:
    """A wire timestamp (``2026-11-24T23:59:02.001Z``) as an aware UTC datetime, or None."""
    if not ts:
        return None
    try:
        ms = wire_ms(ts)
    except (AttributeError, ValueError):
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)


def local_time(ts: Optional[str]) -> Optional[datetime.datetime]:
    moment = parse_ts(ts)
    return moment.astimezone() if moment is not None else None


class ItemKind(enum.Enum):
    MESSAGE = "message"     # a chat message (text or file), own or someone else's
    SYSTEM = "system"       # joined/left/presence/... lines from the client itself
    NOTICE = "notice"       # a server notice from an admin


class Delivery(enum.Enum):
    PENDING = "pending"     # typed; waiting for the connection or the server's ack
    FAILED = "failed"       # refused by the server: shown with a retry action
    STORED = "stored"       # the server has it


@dataclass
class ChatItem:
    """One row of a conversation's message list."""
    kind: ItemKind
    text: str = ""
    sender: str = ""
    ts: Optional[str] = None             # wire time; local display is the view's job
    msg_id: Optional[int] = None
    cid: Optional[str] = None
    own: bool = False
    private: bool = False
    delivery: Delivery = Delivery.STORED
    out: object = None                   # the client core's Outgoing while ours is in flight
    error: str = ""                      # why a message failed (the server's words)
    error_code: str = ""                 # ... and its code: the Chinese UI words that
    burn: Optional[float] = None         # seconds after reading (privacy mode)
    burn_at: Optional[float] = None      # monotonic deadline once the countdown runs
    read_by_peer: bool = False           # a private message of ours the peer has read
    file: Optional[dict] = None          # the server's file view for a file message
    transfer: object = None              # the download (or our upload) of that file
    burned: bool = False
    template: Optional[tuple] = None     # (key, params): a system line worded at display time
    picture: Optional[str] = None        # a copy of the picture here already (a built-in sticker)
    merge_until: Optional[float] = None  # a grouped system line: later ones join it until then

    def shown_text(self, translator) -> str:
        """The text to show: a system line in the current language, else the text. A line
        about several people (``users`` in its parameters) names them as the language does."""
        if self.template is not None:
            key, params = self.template
            if "users" in params:
                from chat.qtclient.wording import han_spacing, name_list
                params = dict(params, who=name_list(translator.tr, params["users"]))
                return han_spacing(translator.tr(key, **params))
            return translator.tr(key, **params)
        return self.text

    @property
    def users(self) -> list:
        """The people a grouped system line is about (empty for any other row)."""
        if self.template is None:
            return []
        return list(self.template[1].get("users", []))

    @property
    def day(self) -> Optional[datetime.date]:
        moment = local_time(self.ts)
        return moment.date() if moment is not None else None

    @property
    def is_image(self) -> bool:
        return bool(self.file and str(self.file.get("mime", "")).startswith("image/"))

    @property
    def is_sticker(self) -> bool:
        """An image sent as a sticker (``image/png; sticker``): shown large, no bubble."""
        from chat.qtclient.stickers import is_sticker
        return is_sticker(self.file)


class MessagesModel(QAbstractListModel):
    """The messages of one conversation, oldest first (older pages are prepended)."""

    MAX_ITEMS = 5000
    """Rows kept in memory; older ones are dropped from the top (history refetches them)."""

    def __init__(self, conv: str, parent=None):
        super().__init__(parent)
        self.conv = conv
        self.items: list[ChatItem] = []
        self.more_before = True          # the server may have older messages
        self.loading = False

    # -- Qt
    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.items)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.items):
            return None
        item = self.items[index.row()]
        if role == ItemRole:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            return item.text
        return None

    # -- lookups
    def row_of_id(self, msg_id: int) -> int:
        for row in range(len(self.items) - 1, -1, -1):
            if self.items[row].msg_id == msg_id:
                return row
        return -1

    def row_of_cid(self, cid: str) -> int:
        for row in range(len(self.items) - 1, -1, -1):
            if self.items[row].cid == cid and self.items[row].own:
                return row
        return -1

    def oldest_id(self) -> Optional[int]:
        for item in self.items:
            if item.msg_id is not None:
                return item.msg_id
        return None

    def newest_id(self) -> int:
        for item in reversed(self.items):
            if item.msg_id is not None:
                return item.msg_id
        return 0

    # -- changes
    def append(self, item: ChatItem) -> None:
        row = len(self.items)
        # a stored message goes before our pending ones (they are still on their way)
        if item.msg_id is not None:
            while row > 0 and self.items[row - 1].delivery is Delivery.PENDING \
                    and self.items[row - 1].msg_id is None:
                row -= 1
        self.beginInsertRows(QModelIndex(), row, row)
        self.items.insert(row, item)
        self.endInsertRows()
        if len(self.items) > self.MAX_ITEMS:
            self.beginRemoveRows(QModelIndex(), 0, 0)
            del self.items[0]
            self.more_before = True
            self.endRemoveRows()

    def prepend(self, items: list[ChatItem]) -> None:
        """Older messages from history, oldest first; ones already shown are skipped."""
        known = {i.msg_id for i in self.items if i.msg_id is not None}
        items = [i for i in items if i.msg_id not in known]
        if not items:
            return
        self.beginInsertRows(QModelIndex(), 0, len(items) - 1)
        self.items[0:0] = items
        self.endInsertRows()

    def changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.items[row]
        self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.items.clear()
        self.endResetModel()


@dataclass
class Conversation:
    """A room the user is in, or a private chat."""
    key: str                      # "#lobby" or "@bob"
    topic: str = ""
    unread: int = 0
    last_ts: Optional[str] = None
    last: Optional[ChatItem] = None   # its newest message, shown under its name
    draft: str = ""                   # typed and not sent, kept while another one is shown

    @property
    def is_room(self) -> bool:
        return self.key.startswith("#")

    @property
    def name(self) -> str:
        return self.key[1:]


class ConversationsModel(QAbstractListModel):
    """Rooms first (lobby at the top), then private chats by their last message."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Conversation] = []

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        conv = self.rows[index.row()]
        if role == ItemRole:
            return conv
        if role == KeyRole:
            return conv.key
        if role == Qt.ItemDataRole.DisplayRole:
            return conv.key
        return None

    def find(self, key: str) -> int:
        folded = key.casefold()
        for row, conv in enumerate(self.rows):
            if conv.key.casefold() == folded:
                return row
        return -1

    def get(self, key: str) -> Optional[Conversation]:
        row = self.find(key)
        return self.rows[row] if row >= 0 else None

    def ensure(self, key: str, topic: str = None) -> Conversation:
        row = self.find(key)
        if row >= 0:
            conv = self.rows[row]
            if topic is not None and conv.topic != topic:
                conv.topic = topic
                self._changed(row)
            return conv
        conv = Conversation(key, topic or "")
        row = self._place(conv)
        self.beginInsertRows(QModelIndex(), row, row)
        self.rows.insert(row, conv)
        self.endInsertRows()
        return conv

    def _place(self, conv: Conversation) -> int:
        if conv.is_room:
            if conv.key.casefold() == "#lobby":
                return 0
            row = 0
            while row < len(self.rows) and self.rows[row].is_room \
                    and (self.rows[row].key.casefold() == "#lobby"
                         or self.rows[row].key.casefold() < conv.key.casefold()):
                row += 1
            return row
        return len(self.rows)

    def remove(self, key: str) -> None:
        row = self.find(key)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()

    def set_unread(self, key: str, n: int) -> None:
        row = self.find(key)
        if row >= 0 and self.rows[row].unread != n:
            self.rows[row].unread = n
            self._changed(row)

    def set_topic(self, key: str, topic: str) -> None:
        row = self.find(key)
        if row >= 0:
            self.rows[row].topic = topic
            self._changed(row)

    def touch(self, key: str, ts: str) -> None:
        row = self.find(key)
        if row >= 0:
            self.rows[row].last_ts = ts
            self._changed(row)

    def set_last(self, key: str, item: ChatItem) -> None:
        """``item`` is a message of ``key``: it is the one under the name if it is the newest
        known (a message of ours still on its way stays the newest until it is stored)."""
        row = self.find(key)
        if row < 0 or item is None:
            return
        conv = self.rows[row]
        old = conv.last
        if old is not None and old is not item:
            if old.msg_id is None and old.own and old.delivery is not Delivery.STORED:
                return                   # ours, pending: shown after every stored one
            if old.msg_id is not None and item.msg_id is not None \
                    and item.msg_id <= old.msg_id:
                return                   # older, or the one shown already
        conv.last = item
        conv.last_ts = item.ts or conv.last_ts
        self._changed(row)

    def replace_last(self, key: str, item: Optional[ChatItem]) -> None:
        """The newest message is gone (burned, cleared): ``item`` (or nothing) instead."""
        row = self.find(key)
        if row >= 0:
            self.rows[row].last = item
            self._changed(row)

    def set_draft(self, key: str, text: str) -> None:
        row = self.find(key)
        if row >= 0 and self.rows[row].draft != text:
            self.rows[row].draft = text
            self._changed(row)

    def refresh(self, key: str) -> None:
        row = self.find(key)
        if row >= 0:
            self._changed(row)

    def total_unread(self) -> int:
        return sum(c.unread for c in self.rows)

    def _changed(self, row: int) -> None:
        index = self.index(row)
        self.dataChanged.emit(index, index)


@dataclass
class Person:
    """An account as the user list shows it."""
    name: str
    online: bool = False
    admin: bool = False
    has_avatar: bool = False
    last_seen: Optional[str] = None
    avatar: object = None             # a QPixmap once fetched
    guest: bool = False               # no account (a server with --allow-guests)

    def sort_key(self):
        return (not self.online, self.name.casefold())


class UsersModel(QAbstractListModel):
    """Every account, online ones first, then by name."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[Person] = []

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        person = self.rows[index.row()]
        if role == ItemRole:
            return person
        if role == KeyRole:
            return person.name
        if role == Qt.ItemDataRole.DisplayRole:
            return person.name
        return None

    def find(self, name: str) -> int:
        folded = name.casefold()
        for row, person in enumerate(self.rows):
            if person.name.casefold() == folded:
                return row
        return -1

    def get(self, name: str) -> Optional[Person]:
        row = self.find(name)
        return self.rows[row] if row >= 0 else None

    def online_count(self) -> int:
        return sum(1 for p in self.rows if p.online)

    def reset(self, people: list[Person]) -> None:
        self.beginResetModel()
        self.rows = sorted(people, key=Person.sort_key)
        self.endResetModel()

    def discard(self, name: str) -> None:
        """Take a person off the list (a guest who left: nobody of that name any more)."""
        row = self.find(name)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()

    def update(self, name: str, **changes) -> Person:
        """Change (or add) one person and keep the order."""
        row = self.find(name)
        if row < 0:
            person = Person(name, **changes)
        else:
            person = self.rows[row]
            for key, value in changes.items():
                setattr(person, key, value)
            self.beginRemoveRows(QModelIndex(), row, row)
            del self.rows[row]
            self.endRemoveRows()
        keys = [p.sort_key() for p in self.rows]
        new_row = 0
        while new_row < len(keys) and keys[new_row] < person.sort_key():
            new_row += 1
        self.beginInsertRows(QModelIndex(), new_row, new_row)
        self.rows.insert(new_row, person)
        self.endInsertRows()
        return person

    def refresh(self, name: str) -> None:
        row = self.find(name)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index)


class TransfersModel(QAbstractListModel):
    """The file transfers of this session, newest last (the client core's Transfer objects)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        transfer = self.rows[index.row()]
        if role == ItemRole:
            return transfer
        if role == Qt.ItemDataRole.DisplayRole:
            return transfer.name
        return None

    def update(self, transfer) -> None:
        for row, t in enumerate(self.rows):
            if t is transfer:
                index = self.index(row)
                self.dataChanged.emit(index, index)
                return
        row = len(self.rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self.rows.append(transfer)
        self.endInsertRows()

    def for_file(self, file_id: int, direction: str = None):
        """The latest transfer of file ``file_id`` (in ``direction`` if given)."""
        for t in reversed(self.rows):
            if t.file_id == file_id and (direction is None or t.direction == direction):
                return t
        return None
