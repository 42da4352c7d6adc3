"""The quick switcher (Ctrl+K): type a few letters of a room or a person, Enter goes there.

:class:`QuickSwitcher` lists the conversations of the sidebar and everybody in the people
list (a person opens the private chat with them), best match first: names that start with
what was typed, then names with a word that does, then names that hold it anywhere, then
names that hold its letters in order ("bb" finds "bob_b"). Up and Down move in the list while
typing, Enter (or a click) emits ``chosen(key)``, Esc closes it. It reads the models only.
"""

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon, QPixmap, QPainter, QColor, QFont
from PyQt6.QtWidgets import (
    QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout)

from chat.qtclient import theme
from chat.qtclient.widgets.sidebar import initial_avatar

KeyRole = Qt.ItemDataRole.UserRole + 2
SHOWN = 50
"""Rows listed at most (the best ones)."""
VISIBLE = 8
"""Rows tall at most: the list is as tall as its rows up to this, then it scrolls."""


def match_rank(name: str, query: str):
    """How well ``name`` matches ``query`` (smaller is better), or None if it does not."""
    name, query = name.casefold(), query.casefold().strip().lstrip("#@")
    if not query:
        return 0
    if name.startswith(query):
        return 0
    words = name.replace("-", " ").replace("_", " ").replace(".", " ").split()
    if any(word.startswith(query) for word in words[1:]):
        return 1
    if query in name:
        return 2
    at = 0
    for ch in query:
        at = name.find(ch, at)
        if at < 0:
            return None
        at += 1
    return 3


def _room_icon(size: int = 24) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#5b6b8c"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawRoundedRect(0, 0, size, size, 6, 6)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(size * 2 // 3)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "#")
    painter.end()
    return QIcon(pixmap)


class QuickSwitcher(QDialog):
    """See the module docstring. ``state`` is the :class:`~chat.qtclient.state.ChatState`
    whose conversations and users are listed."""

    chosen = pyqtSignal(str)

    def __init__(self, state, translator, parent=None):
        super().__init__(parent)
        self.state = state
        self.translator = translator
        self.setObjectName("QuickSwitcher")
        self.setModal(True)
        self.query = QLineEdit()
        self.query.setClearButtonEnabled(True)
        self.query.textChanged.connect(self.refresh)
        self.query.returnPressed.connect(self.accept_current)
        self.query.installEventFilter(self)
        self.results = QListWidget()
        self.results.setIconSize(QSize(24, 24))
        self.results.setUniformItemSizes(True)
        self.results.itemActivated.connect(self._picked)
        self.results.itemClicked.connect(self._picked)
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)      # typing stays in the field
        self.empty = QLabel()
        theme.style(self.empty, "color: {muted}; padding: 6px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.query)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.empty)
        self.setFixedWidth(420)
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    def retranslate(self, *_) -> None:
        tr = self.translator.tr
        self.setWindowTitle(tr("switch_title"))
        self.query.setPlaceholderText(tr("switch_hint"))
        self.empty.setText(tr("switch_none"))
        self.refresh()

    # ------------------------------------------------------------------ the list
    def candidates(self) -> list:
        """(key, shown name, second words) of every conversation and person, in the
        sidebar's order, people without a private chat yet after them."""
        tr = self.translator.tr
        me = (self.state.session.me or "").casefold()
        seen, out = set(), []
        for conv in self.state.conversations.rows:
            seen.add(conv.key.casefold())
            detail = conv.topic if conv.is_room else tr("switch_person")
            out.append((conv.key, conv.key if conv.is_room else conv.name, detail))
        for person in self.state.users.rows:
            key = "@" + person.name
            if key.casefold() in seen or person.name.casefold() == me:
                continue
            out.append((key, person.name, tr("switch_person")))
        return out

    def matches(self, query: str) -> list:
        """The keys that match ``query``, best first (ties keep the sidebar's order)."""
        ranked = []
        for order, (key, name, detail) in enumerate(self.candidates()):
            rank = match_rank(name.lstrip("#"), query)
            if rank is not None:
                ranked.append((rank, order, key, name, detail))
        ranked.sort()
        return [(key, name, detail) for _, _, key, name, detail in ranked[:SHOWN]]

    def refresh(self, *_) -> None:
        self.results.clear()
        room_icon = _room_icon()
        for key, name, detail in self.matches(self.query.text()):
            row = QListWidgetItem(f"{name}   ·   {detail}" if detail else name)
            row.setData(KeyRole, key)
            if key.startswith("#"):
                row.setIcon(room_icon)
            else:
                person = self.state.users.get(key[1:])
                avatar = person.avatar if person is not None and person.avatar else None
                row.setIcon(QIcon(avatar or initial_avatar(key[1:], 24)))
            self.results.addItem(row)
        if self.results.count():
            self.results.setCurrentRow(0)
        self.empty.setVisible(self.results.count() == 0)
        # as tall as what it lists (no empty box under three names)
        rows = max(1, min(VISIBLE, self.results.count()))
        row_h = self.results.sizeHintForRow(0) if self.results.count() else 28
        self.results.setFixedHeight(rows * row_h + 2 * self.results.frameWidth() + 2)
        self.results.setVisible(self.results.count() > 0)
        self.adjustSize()

    def shown_keys(self) -> list:
        return [self.results.item(i).data(KeyRole) for i in range(self.results.count())]

    # ------------------------------------------------------------------ keys
    def open(self) -> None:
        """Show it empty, over the window, ready for typing."""
        self.query.clear()
        self.refresh()
        parent = self.parentWidget()
        if parent is not None:
            top = parent.mapToGlobal(parent.rect().topLeft())
            self.move(top.x() + (parent.width() - self.width()) // 2, top.y() + 60)
        self.show()
        self.raise_()
        self.activateWindow()
        self.query.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def eventFilter(self, watched, event) -> bool:
        from PyQt6.QtCore import QEvent
        if watched is self.query and event.type() == QEvent.Type.KeyPress \
                and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp,
                                    Qt.Key.Key_PageDown):
            # the arrows move in the list while the text keeps the focus
            step = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -5,
                    Qt.Key.Key_PageDown: 5}[event.key()]
            count = self.results.count()
            if count:
                row = max(0, min(count - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
            return True
        return super().eventFilter(watched, event)

    def accept_current(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._picked(item)

    def _picked(self, item) -> None:
        key = item.data(KeyRole)
        self.accept()
        if key:
            self.chosen.emit(key)
