"""The list of one conversation's messages, its scrolling, clicks, selected text and dropped
files.

Clicks are hit-tested on the delegate's :class:`~.layout.RowLayout`, the very layout that was
painted, so what is drawn and what is clicked never disagree. Every action (retry, download,
cancel, open, show in folder, view an image, open a link) leaves the view as a signal:
nothing here calls the session or touches the network.

Text is selected with the mouse as in a web page: from where the button goes down to where it
is let go, across messages (a double click takes a word); Ctrl+C (or the context menu) copies
it. The view takes the keyboard focus while it holds a selection; any other key typed goes to
the input bar (``typing_target``), so that typing never gets lost.
"""

import time
from typing import Optional

from PyQt6.QtCore import QEvent, QPoint, QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QClipboard, QGuiApplication, QKeyEvent, QKeySequence, QTextCursor
from PyQt6.QtWidgets import QAbstractItemView, QApplication, QListView, QMenu, QToolTip

from chat.qtclient.models import ItemKind, ItemRole, local_time

from .delegate import MessageDelegate
from .files import local_files, local_image
from .layout import RowLayout


class MessageView(QListView):
    """The messages of one conversation (see the module docstring).

    It follows new rows only when the user is at the bottom already, keeps what the user
    looks at in place when older rows arrive at the top, and says ``nearTop`` when the user
    scrolls within a screen of the top (time to load older messages)."""

    retryRequested = pyqtSignal(object)          # ChatItem: a failed message or upload
    downloadRequested = pyqtSignal(object)       # ChatItem with a file
    cancelRequested = pyqtSignal(object)         # ChatItem whose transfer runs
    openRequested = pyqtSignal(str)              # path of a received or sent file
    showInFolderRequested = pyqtSignal(str)      # path of a received or sent file
    imageClicked = pyqtSignal(str)               # path of the picture
    linkClicked = pyqtSignal(str)                # a web address in a message
    nearTop = pyqtSignal()
    filesDropped = pyqtSignal(list)              # local paths dropped onto the view

    FOLLOW_SLACK = 4
    HIGHLIGHT_MS = 4000
    """Pixels from the bottom that still count as "at the bottom"."""

    def __init__(self, translator, avatar_for=lambda name: None, parent=None, clock=None):
        """``clock`` is the burn countdowns' clock (``time.monotonic`` unless a test says)."""
        super().__init__(parent)
        # set first: the setters below already lay the (empty) view out
        self._follow = True          # at the bottom: new rows scroll into view
        self._keep_from_bottom = None  # older rows arrived: keep this distance to the bottom
        self._restoring = False
        self._pressed = ("", None)
        self._pressed_link = ""
        self._selection = None       # (anchor row, position, end row, position) of the text
        self._selecting = False
        self.hovered_row = -1        # the delegate shows a grouped message's time on hover
        self.typing_target = None    # where keys typed here go (the input bar)
        self._top_checked_rows = -1
        self.translator = translator
        self.clock = clock or time.monotonic
        self.delegate = MessageDelegate(self, translator, avatar_for)
        self.setItemDelegate(self.delegate)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformItemSizes(False)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.verticalScrollBar().setSingleStep(24)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        # nearTop from inside a layout pass goes out a moment later, from the event loop
        self._ask_older = QTimer(self, singleShot=True, interval=0)
        self._ask_older.timeout.connect(self.nearTop)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.highlighted = None          # the message id shown highlighted, for a while
        self._unhighlight = QTimer(self, singleShot=True)
        self._unhighlight.timeout.connect(self._end_highlight)
        translator.languageChanged.connect(self.retranslate)

    # ------------------------------------------------------------------ model
    def setModel(self, model) -> None:
        old = self.model()
        if old is not None:
            for signal, slot in self._model_slots(old):
                try:
                    signal.disconnect(slot)
                except TypeError:
                    pass
        super().setModel(model)
        self._follow, self._keep_from_bottom, self._top_checked_rows = True, None, -1
        if model is not None:
            for signal, slot in self._model_slots(model):
                signal.connect(slot)
        self.scrollToBottom()

    def _model_slots(self, model):
        return [(model.rowsAboutToBeInserted, self._rows_coming),
                (model.dataChanged, self._rows_changed),
                (model.rowsAboutToBeRemoved, self._rows_going),
                (model.modelAboutToBeReset, self.clear_selection)]

    def _rows_going(self, parent, first, last) -> None:
        # rows move under the selection: it would mark other text
        if self._selection is not None and first <= max(self._selection[0],
                                                        self._selection[2]):
            self.clear_selection()

    def _rows_coming(self, parent, first, last) -> None:
        if self._selection is not None and first <= max(self._selection[0],
                                                        self._selection[2]):
            self.clear_selection()
        if first == 0 and self.model().rowCount() > 0:
            bar = self.verticalScrollBar()
            # applied once the list is laid out with the new rows (the maximum moves then)
            self._keep_from_bottom = (bar.maximum() - bar.value(), bar.maximum())

    def _rows_changed(self, top, bottom, roles=()) -> None:
        """A row's content changed: if its height did too, the list must be laid out anew
        (QListView keeps row heights until told)."""
        # the row after may join or leave its group (a message of ours acked, say)
        last = min(bottom.row() + 1, self.model().rowCount() - 1)
        for row in range(top.row(), last + 1):
            index = self.model().index(row, 0)
            height = self.delegate.sizeHint(None, index).height()
            if height != self.visualRect(index).height():
                self.delegate.sizeHintChanged.emit(index)

    # ------------------------------------------------------------------ scrolling
    def updateGeometries(self) -> None:
        super().updateGeometries()
        bar = self.verticalScrollBar()
        restored = False
        self._restoring = True
        try:
            if self._keep_from_bottom is not None:
                distance, old_maximum = self._keep_from_bottom
                if bar.maximum() != old_maximum:
                    bar.setValue(bar.maximum() - distance)
                    self._keep_from_bottom, restored = None, True
            elif self._follow:
                bar.setValue(bar.maximum())
        finally:
            self._restoring = False
        self._follow = bar.value() >= bar.maximum() - self.FOLLOW_SLACK
        rows = self.model().rowCount() if self.model() is not None else 0
        if bar.maximum() == 0 and rows and rows != self._top_checked_rows:
            # everything fits: no scrolling will ever ask for more, so ask now (once per
            # number of rows, so that an exhausted history does not ask forever)
            self._top_checked_rows = rows
            self._ask_older.start()
        elif restored and bar.value() <= self.viewport().height():
            # the older page was short: the user is still near the top, so go on
            self._ask_older.start()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            # row heights depend on the width (text wraps): QListView would keep the old ones
            self.scheduleDelayedItemsLayout()

    def _scrolled(self, value: int) -> None:
        if self._restoring:
            return
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - self.FOLLOW_SLACK
        if value <= self.viewport().height() and self.model() is not None \
                and self.model().rowCount():
            self.nearTop.emit()

    def highlight(self, row: int) -> None:
        """Scroll message ``row`` to the middle and mark it for HIGHLIGHT_MS (a history search
        result opened here)."""
        index = self.model().index(row, 0)
        item = index.data(ItemRole)
        if item is None:
            return
        self.highlighted = item.msg_id
        self._follow, self._keep_from_bottom = False, None
        self.doItemsLayout()
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._unhighlight.start(self.HIGHLIGHT_MS)
        self.viewport().update()

    def _end_highlight(self) -> None:
        self.highlighted = None
        self.viewport().update()

    def at_bottom(self) -> bool:
        return self._follow

    def scrollToBottom(self) -> None:
        self._follow = True
        super().scrollToBottom()

    # ------------------------------------------------------------------ clicks
    def row_layout(self, row: int) -> RowLayout:
        """The layout of ``row`` where it is now (viewport coordinates): tests click on it."""
        index = self.model().index(row, 0)
        return self.delegate.layout(self.visualRect(index), index)

    def action_rect(self, row: int, action: str) -> Optional[QRect]:
        """Where the link ``action`` ("retry", "download", "cancel", "open", "show",
        "image", "retry_upload") of ``row`` is, or None."""
        return self.row_layout(row).actions.get(action)

    def _action_at(self, pos: QPoint):
        index = self.indexAt(pos)
        if not index.isValid():
            return "", None
        lay = self.delegate.layout(self.visualRect(index), index)
        return lay.action_at(pos), index.data(ItemRole)

    def link_at(self, pos: QPoint) -> str:
        """The web address under ``pos`` (viewport coordinates), or ""."""
        index = self.indexAt(pos)
        if not index.isValid():
            return ""
        return self.delegate.layout(self.visualRect(index), index).link_at(pos)

    def mousePressEvent(self, event):
        pos = event.position().toPoint()
        self._pressed = self._action_at(pos)
        self._pressed_link = self.link_at(pos)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clear_selection()
            spot = self._text_spot(pos)
            if spot is not None and not self._pressed[0] and not self._pressed_link:
                self._selection = spot + spot
                self._selecting = True
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        pos = event.position().toPoint()
        action, item = self._action_at(pos)
        pressed, self._pressed = self._pressed, ("", None)
        pressed_link, self._pressed_link = self._pressed_link, ""
        self._selecting = False
        super().mouseReleaseEvent(event)
        if self._selection is not None and not self.selected_text():
            self._selection = None           # a click, not a selection
        if self._selection is not None:
            self.setFocus(Qt.FocusReason.MouseFocusReason)    # Ctrl+C comes here
            self._to_selection_clipboard()
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if action and pressed == (action, item):
            self._trigger(action, item)
        elif pressed_link and pressed_link == self.link_at(pos):
            self.linkClicked.emit(pressed_link)

    def mouseDoubleClickEvent(self, event):
        pos = event.position().toPoint()
        spot = self._text_spot(pos)
        if event.button() != Qt.MouseButton.LeftButton or spot is None \
                or self._action_at(pos)[0] or self.link_at(pos):
            super().mouseDoubleClickEvent(event)
            return
        row, at = spot
        doc = self.row_layout(row).doc
        if doc is None:
            return
        cursor = QTextCursor(doc)
        cursor.setPosition(at)
        cursor.select(QTextCursor.SelectionType.WordUnderCursor)
        if cursor.hasSelection():
            self._selection = (row, cursor.selectionStart(), row, cursor.selectionEnd())
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._to_selection_clipboard()
            self.viewport().update()

    def mouseMoveEvent(self, event):
        pos = event.position().toPoint()
        if self._selecting and event.buttons() & Qt.MouseButton.LeftButton:
            spot = self._text_spot(pos)
            if spot is not None and self._selection is not None:
                self._selection = self._selection[:2] + spot
                self.viewport().update()
        action, _ = self._action_at(pos)
        link = self.link_at(pos) if not action else ""
        lay = self._layout_at(pos)
        over_text = lay is not None and lay.doc_rect() is not None \
            and lay.doc_rect().contains(pos)
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if action or link
                                  else Qt.CursorShape.IBeamCursor if over_text
                                  else Qt.CursorShape.ArrowCursor)
        index = self.indexAt(pos)
        self._hover(index.row() if index.isValid() else -1)
        super().mouseMoveEvent(event)

    def leaveEvent(self, event):
        self._hover(-1)
        super().leaveEvent(event)

    def _hover(self, row: int) -> None:
        if row != self.hovered_row:
            old, self.hovered_row = self.hovered_row, row
            for r in (old, row):
                if r >= 0 and self.model() is not None and r < self.model().rowCount():
                    self.viewport().update(self.visualRect(self.model().index(r, 0)))

    def _layout_at(self, pos: QPoint):
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        return self.delegate.layout(self.visualRect(index), index)

    def viewportEvent(self, event):
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()
            index = self.indexAt(pos)
            item = index.data(ItemRole) if index.isValid() else None
            link = self.link_at(pos)
            when = local_time(item.ts) if item is not None else None
            if link:
                QToolTip.showText(event.globalPos(), link, self.viewport())
            elif item is not None and len(item.users) > 3:
                # "alice, bob and 3 others came online": the others by name
                QToolTip.showText(event.globalPos(), ", ".join(item.users), self.viewport())
            elif when is not None and item.kind is ItemKind.MESSAGE:
                # the whole date and time of a message (grouped ones show no time of their own)
                QToolTip.showText(event.globalPos(), f"{when:%Y-%m-%d %H:%M:%S}",
                                  self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    # ------------------------------------------------------------------ selected text
    def _text_spot(self, pos: QPoint):
        """(row, place in its text) nearest ``pos``; below the last row, the end of it."""
        model = self.model()
        if model is None or not model.rowCount():
            return None
        index = self.indexAt(pos)
        if not index.isValid():
            last = model.index(model.rowCount() - 1, 0)
            if pos.y() < self.visualRect(model.index(0, 0)).top():
                return (0, 0)
            if pos.y() <= self.visualRect(last).bottom():
                return None
            lay = self.delegate.layout(self.visualRect(last), last)
            return (last.row(), lay.doc.characterCount() - 1 if lay.doc is not None else 0)
        lay = self.delegate.layout(self.visualRect(index), index)
        return (index.row(), lay.text_position(pos))

    def _ordered(self):
        r1, p1, r2, p2 = self._selection
        return (r1, p1, r2, p2) if (r1, p1) <= (r2, p2) else (r2, p2, r1, p1)

    def selection_in(self, row: int, doc):
        """The selected part (start, end) of row ``row``'s text ``doc``, or None."""
        if self._selection is None:
            return None
        r1, p1, r2, p2 = self._ordered()
        if not r1 <= row <= r2:
            return None
        start = p1 if row == r1 else 0
        end = p2 if row == r2 else doc.characterCount() - 1
        return (start, end) if start < end else None

    def select_text(self, row: int, start: int, end_row: int, end: int) -> None:
        """Select from place ``start`` of row ``row`` to ``end`` of ``end_row``."""
        self._selection = (row, start, end_row, end)
        self.viewport().update()

    def clear_selection(self, *_) -> None:
        if self._selection is not None:
            self._selection = None
            self.viewport().update()

    def selected_text(self) -> str:
        """The selected text, a line per message."""
        if self._selection is None or self.model() is None:
            return ""
        r1, _, r2, _ = self._ordered()
        parts = []
        for row in range(r1, min(r2, self.model().rowCount() - 1) + 1):
            doc = self.row_layout(row).doc
            if doc is None:
                continue
            span = self.selection_in(row, doc)
            if span is not None:
                parts.append(doc.toPlainText()[span[0]:span[1]])
        return "\n".join(parts)

    def copy(self) -> bool:
        """Put the selected text on the clipboard; False if nothing is selected."""
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)
        return bool(text)

    def _to_selection_clipboard(self) -> None:
        # X11 and Wayland: what is selected can be pasted with the middle button
        clipboard = QGuiApplication.clipboard()
        if clipboard.supportsSelection():
            clipboard.setText(self.selected_text(), QClipboard.Mode.Selection)

    def keyPressEvent(self, event):
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll):
            rows = self.model().rowCount() if self.model() is not None else 0
            if rows:
                doc = self.row_layout(rows - 1).doc
                self.select_text(0, 0, rows - 1, doc.characterCount() - 1 if doc else 0)
            return
        target = self.typing_target
        if event.key() == Qt.Key.Key_Escape:
            self.clear_selection()
            if target is not None:
                target.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        typed = event.text()
        if target is not None and typed and typed.isprintable() and not (
                event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                     | Qt.KeyboardModifier.AltModifier
                                     | Qt.KeyboardModifier.MetaModifier)):
            # typing while the messages have the focus: it goes into the input bar
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            receiver = target.focusProxy() or target
            QApplication.sendEvent(receiver, QKeyEvent(
                event.type(), event.key(), event.modifiers(), typed, event.isAutoRepeat(),
                event.count()))
            return
        super().keyPressEvent(event)

    def _trigger(self, action: str, item) -> None:
        path = getattr(item.transfer, "path", None) or ""
        if action in ("retry", "retry_upload"):
            self.retryRequested.emit(item)
        elif action == "download":
            self.downloadRequested.emit(item)
        elif action == "cancel":
            self.cancelRequested.emit(item)
        elif action == "open":
            self.openRequested.emit(path)
        elif action == "show":
            self.showInFolderRequested.emit(path)
        elif action == "image":
            self.imageClicked.emit(local_image(item) or path)

    def contextMenuEvent(self, event):
        menu = self.context_menu(event.pos())
        if menu is not None:
            menu.exec(event.globalPos())

    def context_menu(self, pos: QPoint):
        """The menu of the row at ``pos``: copy the selection, the message, the link."""
        index = self.indexAt(pos)
        item = index.data(ItemRole) if index.isValid() else None
        tr = self.translator.tr
        clipboard = QGuiApplication.clipboard()
        menu = QMenu(self)
        selected = self.selected_text()
        if selected:
            menu.addAction(tr("msg_copy_selection"), lambda: clipboard.setText(selected))
        link = self.link_at(pos)
        if link:
            menu.addAction(tr("msg_open_link"), lambda: self.linkClicked.emit(link))
            menu.addAction(tr("msg_copy_link"), lambda: clipboard.setText(link))
        if item is not None and item.text and not item.burned:
            text = item.text
            if item.kind is not ItemKind.MESSAGE:
                text = item.shown_text(self.translator)
            menu.addAction(tr("msg_copy"), lambda: clipboard.setText(text))
        if menu.isEmpty():
            menu.deleteLater()
            return None
        return menu

    # ------------------------------------------------------------------ files dropped
    def dragEnterEvent(self, event):
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        paths = local_files(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        """Texts change length with the language: lay the rows out again."""
        self.doItemsLayout()
        self.viewport().update()
