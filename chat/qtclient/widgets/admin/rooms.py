"""The panel's "rooms" page: every room with its topic and members, fetched page by page."""

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QHBoxLayout, QHeaderView, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout)
from twisted.internet import defer

from chat.protocol import commands as C

from .tab import Tab

PAGES_MAX = 20
"""Pages of rooms or members fetched per refresh (500 names each)."""


@defer.inlineCallbacks
def _all_pages(first, following, key: str):
    """Items of a paged list (see PROTOCOL "Pages"): ``first()`` and ``following(after)``
    return Deferreds of one page; ``(items, more)`` with more=True if PAGES_MAX cut it."""
    data = yield first()
    items = list(data[key])
    for _ in range(PAGES_MAX - 1):
        if not (data.get("more") and items):
            break
        data = yield following(items[-1]["name"])
        items.extend(data[key])
    return items, bool(data.get("more"))


class RoomsTab(Tab):
    """Every room with its topic and member count; a room's members when it is opened."""

    def __init__(self, panel):
        super().__init__(panel)
        self.rooms: list[dict] = []
        self.members: dict[str, list] = {}     # room name -> member dicts, once loaded
        self._more = False                     # PAGES_MAX cut the list
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.count = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.count, 1)
        top.addWidget(self.refresh_button)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemExpanded.connect(self._expanded)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree)

    def refresh(self):
        """Ask for every room and show them; a Deferred fired once they are shown."""
        d = _all_pages(self.session.rooms,
                       lambda after: self.session.request(C.Rooms(after=after)), "rooms")
        return self.panel.run(d, self._fill)

    def _fill(self, result) -> None:
        self.rooms, more = result
        self.members.clear()
        self.tree.clear()
        for room in self.rooms:
            # the topic last: it is the one column that may be long
            item = QTreeWidgetItem(["#" + room["name"], str(room.get("members", "")),
                                    room.get("topic", "")])
            item.setData(0, Qt.ItemDataRole.UserRole, room["name"])
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.tree.addTopLevelItem(item)
        self._more = more
        self._render_count()

    def _render_count(self) -> None:
        text = self.translator.tr("admin_rooms_count", n=len(self.rooms))
        if self._more:
            text += " " + self.translator.tr("list_more")
        self.count.setText(text)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        room = item.data(0, Qt.ItemDataRole.UserRole)
        if room is not None and room not in self.members:
            self.load_members(room)

    def _item(self, room: str):
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == room:
                return item
        return None

    def load_members(self, room: str):
        """Fetch ``room``'s members under its row; a Deferred fired once they are shown."""
        d = _all_pages(lambda: self.session.members(room),
                       lambda after: self.session.request(C.Members(room=room, after=after)),
                       "members")

        def shown(result):
            self.members[room] = result[0]
            item = self._item(room)
            if item is not None:
                item.takeChildren()
                for member in result[0]:
                    child = QTreeWidgetItem([member["name"], ""])
                    child.setData(0, Qt.ItemDataRole.UserRole + 1, member.get("online"))
                    item.addChild(child)
                item.setChildIndicatorPolicy(
                    QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless)
                self._render_members(item)
        return self.panel.run(d, shown)

    def _render_members(self, item: QTreeWidgetItem) -> None:
        tr = self.translator.tr
        for i in range(item.childCount()):
            child = item.child(i)
            online = child.data(0, Qt.ItemDataRole.UserRole + 1)
            child.setText(1, tr("admin_member_online") if online else tr("admin_member_offline"))

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.refresh_button.setText(tr("admin_refresh"))
        self.tree.setHeaderLabels([tr("admin_col_room"), tr("admin_col_members"),
                                   tr("admin_col_topic")])
        self._render_count()
        for i in range(self.tree.topLevelItemCount()):
            self._render_members(self.tree.topLevelItem(i))
