"""The list of one conversation's messages, its scrolling, clicks and dropped files.

Clicks are hit-tested on the delegate's :class:`~.layout.RowLayout`, the very layout that was
painted, so what is drawn and what is clicked never disagree. Every action (retry, download,
cancel, open, show in folder, view an image) leaves the view as a signal: nothing here calls
the session or touches the network.
"""

import time
from typing import Optional

from PyQt6.QtCore import QPoint, QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QAbstractItemView, QListView, QMenu

from chat.qtclient.models import ItemRole

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
                (model.dataChanged, self._rows_changed)]

    def _rows_coming(self, parent, first, last) -> None:
        if first == 0 and self.model().rowCount() > 0:
            bar = self.verticalScrollBar()
            # applied once the list is laid out with the new rows (the maximum moves then)
            self._keep_from_bottom = (bar.maximum() - bar.value(), bar.maximum())

    def _rows_changed(self, top, bottom, roles=()) -> None:
        """A row's content changed: if its height did too, the list must be laid out anew
        (QListView keeps row heights until told)."""
        for row in range(top.row(), bottom.row() + 1):
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

    def mousePressEvent(self, event):
        self._pressed = self._action_at(event.position().toPoint())
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        action, item = self._action_at(event.position().toPoint())
        pressed, self._pressed = self._pressed, ("", None)
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and action and \
                pressed == (action, item):
            self._trigger(action, item)

    def mouseMoveEvent(self, event):
        action, _ = self._action_at(event.position().toPoint())
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if action
                                  else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

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
        index = self.indexAt(event.pos())
        item = index.data(ItemRole) if index.isValid() else None
        if item is None or not item.text or item.burned:
            return
        menu = QMenu(self)
        menu.addAction(self.translator.tr("msg_copy"),
                       lambda: QGuiApplication.clipboard().setText(item.text))
        menu.exec(event.globalPos())

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
