"""The main window's sidebar: conversations with unread badges, and the people list.

Both are list views over the models of :mod:`chat.qtclient.models`, painted by small
delegates; choosing a row emits the conversation key, and nothing here talks to the network.
A conversation's row shows its newest message under its name ("bob: see you at 3") with its
time, or the draft left in it.
"""

import datetime

from PyQt6.QtCore import QRect, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen
from PyQt6.QtWidgets import (
    QHBoxLayout, QLabel, QListView, QStyle, QStyledItemDelegate, QToolButton, QVBoxLayout,
    QWidget)

from chat.qtclient import theme
from chat.qtclient.models import ItemRole, local_time

AVATAR = 32
MIN_WIDTH = 170
"""Narrowest sidebar: an avatar and a few letters of a name."""
BADGE = QColor("#e5484d")
ONLINE = QColor("#30a46c")
OFFLINE = QColor("#a0a0a0")
PALETTE = ["#3e63dd", "#30a46c", "#e5484d", "#f76b15", "#8e4ec6", "#12a594", "#d6409f"]


def initial_avatar(name: str, size: int = AVATAR):
    """A coloured disc with the name's first letter: the avatar of someone without one."""
    from PyQt6.QtGui import QPixmap
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor(PALETTE[sum(map(ord, name)) % len(PALETTE)]))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(0, 0, size, size)
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.45))
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRect(0, 0, size, size), Qt.AlignmentFlag.AlignCenter,
                     (name[:1] or "?").upper())
    painter.end()
    return pixmap


def draw_avatar(painter: QPainter, rect: QRect, pixmap) -> None:
    """``pixmap`` clipped to a circle in ``rect``."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addEllipse(rect.toRectF())
    painter.setClipPath(path)
    painter.drawPixmap(rect, pixmap.scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                                           Qt.TransformationMode.SmoothTransformation))
    painter.restore()


def fill_row_background(painter: QPainter, option) -> None:
    """The selected or hovered row's background (both lists look alike)."""
    if option.state & QStyle.StateFlag.State_Selected:
        painter.fillRect(option.rect, theme.colour("side_selected"))
    elif option.state & QStyle.StateFlag.State_MouseOver:
        painter.fillRect(option.rect, theme.colour("side_hover"))


def draw_two_lines(painter: QPainter, option, left: int, top: int, width: int,
                   title: str, title_colour: QColor, subtitle: str, subtitle_colour: QColor,
                   bold: bool = False, subtitle_width: int = None) -> None:
    """A row's name over a smaller grey second line, both cut with "..." to ``width`` (the
    second line to ``subtitle_width`` if given)."""
    elide = Qt.TextElideMode.ElideRight
    font = QFont(option.font)
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(title_colour)
    painter.drawText(QRect(left, top, width, 18), Qt.AlignmentFlag.AlignVCenter,
                     painter.fontMetrics().elidedText(title, elide, width))
    small = QFont(option.font)
    small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
    painter.setFont(small)
    painter.setPen(subtitle_colour)
    sub_w = width if subtitle_width is None else subtitle_width
    painter.drawText(QRect(left, top + 18, sub_w, 16), Qt.AlignmentFlag.AlignVCenter,
                     painter.fontMetrics().elidedText(subtitle, elide, sub_w))


def short_time(tr, ts) -> str:
    """When a conversation's newest message came, as short as it can be said: the time
    today, "Yesterday", the weekday within a week, else the date."""
    moment = local_time(ts)
    if moment is None:
        return ""
    today = datetime.datetime.now().astimezone().date()
    days = (today - moment.date()).days
    if days <= 0:
        return moment.strftime("%H:%M")
    if days == 1:
        return tr("msg_yesterday")
    if days < 7:
        return tr(f"msg_weekday_{moment.weekday()}")
    return moment.date().isoformat()


def preview_text(tr, conv) -> str:
    """The line under a conversation's name: its newest message, one line, with who wrote it
    in a room ("bob: ..."), "You: ..." for ours; a file or picture by its kind; a message that
    burns after reading without its text."""
    item = conv.last
    if item is None:
        return ""
    if item.burn or item.burned:
        text = tr("side_burning")
    elif item.is_sticker:
        text = tr("side_sticker")
    elif item.is_image:
        text = tr("side_photo")
    elif item.file:
        text = tr("side_file", name=item.file.get("name", ""))
    else:
        text = " ".join(item.text.split())
    if item.own:
        return tr("side_you", text=text)
    if conv.is_room and item.sender:
        return tr("side_from", user=item.sender, text=text)
    return text


class ConversationDelegate(QStyledItemDelegate):
    """A conversation row: its icon, name, the newest message and its time (or the draft,
    or the topic of a quiet room) and a red unread badge."""

    def __init__(self, translator, avatar_for, parent=None):
        super().__init__(parent)
        self.translator = translator
        self.avatar_for = avatar_for

    def sizeHint(self, option, index):
        # no width of its own: the row is as wide as the list (a width here would make a
        # horizontal scroll bar once the vertical one takes its share)
        return QSize(0, 46)

    def paint(self, painter, option, index):
        conv = index.data(ItemRole)
        if conv is None:
            return
        painter.save()
        fill_row_background(painter, option)
        r = option.rect
        icon = QRect(r.left() + 8, r.top() + 7, AVATAR, AVATAR)
        if conv.is_room:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(QColor("#5b6b8c"))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(icon, 8, 8)
            font = QFont(option.font)
            font.setBold(True)
            font.setPixelSize(18)
            painter.setFont(font)
            painter.setPen(QColor("white"))
            painter.drawText(icon, Qt.AlignmentFlag.AlignCenter, "#")
        else:
            draw_avatar(painter, icon, self.avatar_for(conv.name) or initial_avatar(conv.name))
        tr = self.translator.tr
        left = icon.right() + 10
        # the time of the newest message, at the right of the name
        when = short_time(tr, conv.last.ts) if conv.last is not None else ""
        time_w = 0
        if when:
            small = QFont(option.font)
            small.setPointSizeF(max(7.0, option.font.pointSizeF() * 0.85))
            painter.setFont(small)
            time_w = painter.fontMetrics().horizontalAdvance(when) + 6
            painter.setPen(BADGE if conv.unread else theme.colour("muted"))
            painter.drawText(QRect(r.right() - time_w - 6, r.top() + 5, time_w, 18),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, when)
        badge_w = 0
        if conv.unread:
            text = str(conv.unread) if conv.unread < 100 else "99+"
            font = QFont(option.font)
            font.setBold(True)
            font.setPixelSize(11)
            painter.setFont(font)
            badge_w = max(20, painter.fontMetrics().horizontalAdvance(text) + 10)
            # under the time when there is one (the name keeps the top line), else centred
            badge = QRect(r.right() - badge_w - 8, r.top() + (23 if when else 14), badge_w, 18)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setBrush(BADGE)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawRoundedRect(badge, 9, 9)
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            badge_w += 8
        title_w = r.right() - left - max(time_w, 0 if when else badge_w) - 6
        width = r.right() - left - badge_w - 6
        # the newest message (or the draft left here); a room without one shows its topic, a
        # private chat says what it is; a room with neither is one line
        title = conv.key if conv.is_room else conv.name
        subtitle, colour = preview_text(tr, conv), theme.colour("muted")
        if conv.draft.strip():
            subtitle = tr("side_draft", text=" ".join(conv.draft.split()))
            colour = theme.colour("error")
        elif not subtitle:
            subtitle = conv.topic if conv.is_room else tr("side_private")
        if subtitle:
            draw_two_lines(painter, option, left, r.top() + 5, title_w, title,
                           theme.colour("ink"), subtitle, colour, bold=bool(conv.unread),
                           subtitle_width=width)
        else:
            font = QFont(option.font)
            font.setBold(bool(conv.unread))
            painter.setFont(font)
            painter.setPen(theme.colour("ink"))
            painter.drawText(QRect(left, r.top(), width, r.height()),
                             Qt.AlignmentFlag.AlignVCenter, painter.fontMetrics().elidedText(
                                 title, Qt.TextElideMode.ElideRight, width))
        painter.restore()


class PersonDelegate(QStyledItemDelegate):
    """A person: avatar with an online dot, name, and "online" or when last seen."""

    def __init__(self, translator, parent=None):
        super().__init__(parent)
        self.translator = translator

    def sizeHint(self, option, index):
        return QSize(0, 42)

    def last_seen_text(self, person) -> str:
        tr = self.translator.tr
        if person.online:
            return tr("state_online")
        seen = local_time(person.last_seen)
        if seen is None:
            return tr("side_offline")
        import datetime
        today = datetime.datetime.now().astimezone().date()
        if seen.date() == today:
            when = seen.strftime("%H:%M")
        elif (today - seen.date()).days == 1:
            when = tr("side_yesterday", time=seen.strftime("%H:%M"))
        else:
            when = seen.strftime("%Y-%m-%d")
        return tr("state_last_seen", when=when)

    def paint(self, painter, option, index):
        person = index.data(ItemRole)
        if person is None:
            return
        painter.save()
        fill_row_background(painter, option)
        r = option.rect
        icon = QRect(r.left() + 8, r.top() + 5, AVATAR, AVATAR)
        pixmap = person.avatar or initial_avatar(person.name)
        if not person.online:
            painter.setOpacity(0.55)
        draw_avatar(painter, icon, pixmap)
        painter.setOpacity(1.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dot = QRect(icon.right() - 9, icon.bottom() - 9, 11, 11)
        painter.setBrush(QBrush(ONLINE if person.online else OFFLINE))
        painter.setPen(QPen(QColor("white"), 2))
        painter.drawEllipse(dot)
        left = icon.right() + 10
        width = r.right() - left - 6
        name = person.name + ("  ★" if person.admin else "")
        if getattr(person, "guest", False):
            name += " " + self.translator.tr("side_guest")
        draw_two_lines(painter, option, left, r.top() + 4, width,
                       name, theme.colour("ink") if person.online else theme.colour("muted"),
                       self.last_seen_text(person),
                       ONLINE if person.online else theme.colour("side_muted"))
        painter.restore()


class Sidebar(QWidget):
    """Conversations on top, people below. ``conversationChosen`` carries ``#room``/``@user``;
    ``newRoomRequested`` asks the window for a room to join or create."""

    conversationChosen = pyqtSignal(str)
    newRoomRequested = pyqtSignal()

    def __init__(self, state, translator, avatar_for, parent=None):
        super().__init__(parent)
        self.state = state
        self.translator = translator
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(10, 8, 6, 4)
        self.chats_label = QLabel()
        theme.style(self.chats_label, "font-weight: bold; color: {side_heading};")
        self.new_room = QToolButton()
        self.new_room.setText("+")
        self.new_room.clicked.connect(self.newRoomRequested)
        head.addWidget(self.chats_label)
        head.addStretch(1)
        head.addWidget(self.new_room)
        layout.addLayout(head)
        self.conversations = QListView()
        self.conversations.setModel(state.conversations)
        self.conversations.setItemDelegate(ConversationDelegate(translator, avatar_for, self))
        self.conversations.setMouseTracking(True)
        self.conversations.setFrameShape(QListView.Shape.NoFrame)
        self.conversations.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversations.clicked.connect(self._chosen)
        self.conversations.activated.connect(self._chosen)
        layout.addWidget(self.conversations, 3)
        self.people_label = QLabel()
        theme.style(self.people_label,
                    "font-weight: bold; color: {side_heading}; padding: 8px 10px 4px;")
        layout.addWidget(self.people_label)
        self.people = QListView()
        self.people.setModel(state.users)
        self.people.setItemDelegate(PersonDelegate(translator, self))
        self.people.setMouseTracking(True)
        self.people.setFrameShape(QListView.Shape.NoFrame)
        self.people.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.people.doubleClicked.connect(self._person_chosen)
        self.people.activated.connect(self._person_chosen)
        layout.addWidget(self.people, 2)
        theme.style(self, "QListView {{ background: {side_bg}; }} "
                          "Sidebar {{ background: {side_bg}; }}")
        # names and topics are elided to the width: the sidebar can be narrow (640x480)
        self.setMinimumWidth(MIN_WIDTH)
        state.users.modelReset.connect(self._count)
        state.users.rowsInserted.connect(self._count)
        state.users.rowsRemoved.connect(self._count)
        state.currentChanged.connect(self._select)
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    def retranslate(self, *_):
        tr = self.translator.tr
        self.chats_label.setText(tr("side_chats"))
        self.new_room.setToolTip(tr("side_new_room"))
        self._count()
        self.conversations.viewport().update()
        self.people.viewport().update()

    def _count(self, *_):
        self.people_label.setText(self.translator.tr(
            "side_people", online=self.state.users.online_count(),
            total=self.state.users.rowCount()))

    def _chosen(self, index):
        key = index.data(Qt.ItemDataRole.UserRole + 2)
        if key:
            self.conversationChosen.emit(key)

    def _person_chosen(self, index):
        name = index.data(Qt.ItemDataRole.UserRole + 2)
        if name and name != self.state.session.me:
            self.conversationChosen.emit("@" + name)

    def _select(self, conv: str):
        row = self.state.conversations.find(conv)
        if row >= 0:
            self.conversations.setCurrentIndex(self.state.conversations.index(row))
