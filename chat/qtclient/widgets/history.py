"""The history window of one conversation: search its past messages, clear the local copy.

It fetches the conversation's history from the server a page at a time (newest first, up
to :attr:`HistoryWindow.MAX_PAGES` pages of :attr:`HistoryWindow.PAGE`), through the session's
Deferreds on the Qt reactor, never blocking; matches are filtered locally by text, sender and
an optional date range, and listed newest first. Messages the user cleared locally
(``ChatState.cleared_up_to``) are not shown here either.

Pictures (and stickers) show as thumbnails beside their names, fetched like inline images when
this computer has no copy yet. Double-clicking a result (or Enter on it) emits
``messageChosen(conv, id)``: the main window shows the conversation at that message,
highlighted.
"""

import collections
import os

from PyQt6 import sip
from PyQt6.QtCore import QAbstractTableModel, QDate, QModelIndex, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QImageReader, QPixmap
from PyQt6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QDialog, QGridLayout, QHBoxLayout,
    QHeaderView, QLabel, QLineEdit, QMessageBox, QPushButton, QTableView, QVBoxLayout)

from chat.cli.format import human_size
from chat.qtclient.models import local_time
from chat.qtclient.stickers import is_sticker

COLUMNS = ("hist_col_time", "hist_col_sender", "hist_col_text")
THUMB = 64
"""The largest side of a picture's thumbnail in the list."""
THUMBS_KEPT = 200
FETCH_AT_ONCE = 30
"""Pictures fetched for one search at most (the newest first)."""


def is_picture(msg: dict) -> bool:
    info = msg.get("file") or {}
    return str(info.get("mime", "")).startswith("image/") and not msg.get("burned")


class HistoryModel(QAbstractTableModel):
    """Found messages (the server's message dicts): time, sender, text; a picture's thumbnail
    beside its text, once ``picture_for(file view)`` knows where it is."""

    def __init__(self, translator, parent=None, picture_for=lambda view: None):
        super().__init__(parent)
        self.translator = translator
        self.picture_for = picture_for
        self.rows: list[dict] = []
        self._thumbs = collections.OrderedDict()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        msg = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            if index.column() == 0:
                when = local_time(msg.get("ts"))
                return f"{when:%Y-%m-%d %H:%M:%S}" if when else ""
            if index.column() == 1:
                return msg.get("from", "")
            # one line per message: the whole text is in the tooltip
            return " ".join(self.text_of(msg).split("\n"))
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2:
            return self.text_of(msg)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.translator.tr("hist_open_tip")
        if role == Qt.ItemDataRole.DecorationRole and index.column() == 2 and is_picture(msg):
            return self.thumbnail(msg)
        return None

    def thumbnail(self, msg: dict):
        """The picture of ``msg`` scaled to THUMB (cached), or None while it is not here."""
        path = self.picture_for(msg.get("file"))
        if not path:
            return None
        try:
            key = (path, os.path.getmtime(path))
        except OSError:
            return None
        hit = self._thumbs.get(key)
        if hit is None:
            reader = QImageReader(path)
            reader.setAutoTransform(True)
            size = reader.size()
            if size.isValid():
                # decoded at thumbnail size: a big photo would cost its full size otherwise
                reader.setScaledSize(size.scaled(THUMB, THUMB,
                                                 Qt.AspectRatioMode.KeepAspectRatio))
            image = reader.read()
            if image.isNull():
                return None
            hit = self._thumbs[key] = QPixmap.fromImage(image)
            if len(self._thumbs) > THUMBS_KEPT:
                self._thumbs.popitem(last=False)
        return hit

    def refresh_file(self, file_id: int) -> None:
        """A picture arrived: redraw the rows that show it."""
        for row, msg in enumerate(self.rows):
            if (msg.get("file") or {}).get("id") == file_id:
                index = self.index(row, 2)
                self.dataChanged.emit(index, index)

    def refresh_picture(self, sha256: str) -> None:
        """A picture was found here (or arrived): redraw the rows that show its content."""
        for row, msg in enumerate(self.rows):
            if (msg.get("file") or {}).get("sha256") == sha256:
                index = self.index(row, 2)
                self.dataChanged.emit(index, index)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.translator.tr(COLUMNS[section])
        return None

    def text_of(self, msg: dict) -> str:
        if msg.get("burned"):
            return self.translator.tr("burned_text")
        if msg.get("file"):
            info = msg["file"]
            if is_sticker(info):
                return self.translator.tr("hist_sticker")
            return self.translator.tr("hist_file", name=info.get("name", ""),
                                      size=human_size(info.get("size", 0)))
        return msg.get("text", "")

    def set_rows(self, rows: list) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        if self.rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.rows) - 1, 2))


class HistoryWindow(QDialog):
    """Search the history of ``conv`` (see the module docstring). It (re)loads each time it
    is shown; ``loaded`` is true once loading has ended, well or not."""

    PAGE = 200
    MAX_PAGES = 20
    messageChosen = pyqtSignal(str, int)      # conv, message id: show it in the conversation

    def __init__(self, state, conv: str, translator, parent=None):
        super().__init__(parent)
        self.state = state
        self.conv = conv
        self.translator = translator
        self.messages: list[dict] = []      # everything fetched, oldest first
        self.loaded = False
        self.capped = False                 # stopped at MAX_PAGES with more on the server
        self.error = ""
        self._generation = 0                # answers to an older load are dropped
        self._pages = 0

        self.text_label = QLabel()
        self.text_edit = QLineEdit()
        self.text_edit.setClearButtonEnabled(True)
        self.sender_label = QLabel()
        self.sender_box = QComboBox()
        self.sender_box.setEditable(True)
        self.sender_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.sender_box.setMinimumContentsLength(14)
        self.dates_check = QCheckBox()
        today = QDate.currentDate()
        self.date_from = self._date_edit(today.addDays(-7))
        self.date_to = self._date_edit(today)
        self.and_label = QLabel()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.model = HistoryModel(translator, self, picture_for=state.picture_for)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setIconSize(QSize(THUMB, THUMB))
        self.table.doubleClicked.connect(self._chosen)
        self.table.activated.connect(self._chosen)
        state.transfers.dataChanged.connect(self._transfer_changed)
        state.transfers.rowsInserted.connect(self._transfer_changed)
        state.pictureReady.connect(self.model.refresh_picture)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.clear_button = QPushButton()
        self.close_button = QPushButton()

        filters = QGridLayout()
        filters.addWidget(self.text_label, 0, 0)
        filters.addWidget(self.text_edit, 0, 1, 1, 4)
        filters.addWidget(self.sender_label, 1, 0)
        filters.addWidget(self.sender_box, 1, 1)
        dates = QHBoxLayout()
        for widget in (self.dates_check, self.date_from, self.and_label, self.date_to):
            dates.addWidget(widget)
        dates.addStretch(1)
        filters.addLayout(dates, 1, 2, 1, 3)
        filters.setColumnStretch(4, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        column = QVBoxLayout(self)
        column.addLayout(filters)
        column.addWidget(self.status)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)

        self.text_edit.textChanged.connect(self.apply_filter)
        self.sender_box.editTextChanged.connect(self.apply_filter)
        self.dates_check.toggled.connect(self._dates_toggled)
        self.date_from.dateChanged.connect(self.apply_filter)
        self.date_to.dateChanged.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_local)
        self.close_button.clicked.connect(self.close)
        translator.languageChanged.connect(self.retranslate)
        self._dates_toggled(False)
        self.resize(780, 560)
        self.retranslate()

    @staticmethod
    def _date_edit(date: QDate) -> QDateEdit:
        edit = QDateEdit(date)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    # ------------------------------------------------------------------ loading
    def showEvent(self, event):
        super().showEvent(event)
        if not event.spontaneous():          # opened, not merely restored from minimised
            self.reload()

    def reload(self) -> None:
        """Fetch the history again from the newest message back."""
        self._generation += 1
        self.messages, self._pages = [], 0
        self.loaded, self.capped, self.error = False, False, ""
        self._fetch(None, self._generation)
        self.apply_filter()

    def _fetch(self, before, generation: int) -> None:
        d = self.state.session.history(self.conv, before, self.PAGE)
        d.addCallbacks(self._page, self._failed, callbackArgs=(generation,),
                       errbackArgs=(generation,))

    def _stale(self, generation: int) -> bool:
        # the window may be gone, or reloaded/cleared since this request left
        return sip.isdeleted(self) or generation != self._generation

    def _page(self, data: dict, generation: int) -> None:
        if self._stale(generation):
            return
        page = data.get("messages", [])
        floor = self.state.cleared_up_to(self.conv)
        kept = [m for m in page if m.get("id", 0) > floor]
        self.messages[0:0] = kept
        self._pages += 1
        more = bool(data.get("more")) and bool(page) and len(kept) == len(page)
        if more and self._pages < self.MAX_PAGES:
            self._fetch(page[0]["id"], generation)
        else:
            self.loaded = True
            self.capped = more
        self._update_senders()
        self.apply_filter()

    def _failed(self, failure, generation: int) -> None:
        if self._stale(generation):
            return
        self.loaded = True
        self.error = getattr(failure.value, "message", None) or str(failure.value)
        self.apply_filter()

    def _update_senders(self) -> None:
        current = self.sender_box.currentText()
        names = sorted({m.get("from", "") for m in self.messages if m.get("from")},
                       key=str.casefold)
        self.sender_box.blockSignals(True)
        self.sender_box.clear()
        self.sender_box.addItems([""] + names)
        self.sender_box.setEditText(current)
        self.sender_box.blockSignals(False)

    # ------------------------------------------------------------------ searching
    def matches(self, msg: dict) -> bool:
        """Whether ``msg`` passes the text, sender and date filters."""
        needle = self.text_edit.text().strip().casefold()
        if needle:
            haystack = msg.get("text", "") or ""
            if msg.get("file"):
                haystack += " " + msg["file"].get("name", "")
            if msg.get("burned") or needle not in haystack.casefold():
                return False
        sender = self.sender_box.currentText().strip().casefold()
        if sender and msg.get("from", "").casefold() != sender:
            return False
        if self.dates_check.isChecked():
            when = local_time(msg.get("ts"))
            if when is None:
                return False
            first, last = sorted((self.date_from.date().toPyDate(),
                                  self.date_to.date().toPyDate()))
            if not first <= when.date() <= last:
                return False
        return True

    def apply_filter(self, *_) -> None:
        found = [m for m in reversed(self.messages) if self.matches(m)]
        self.model.set_rows(found)
        # rows with a picture are as tall as its thumbnail; the rest keep one line
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.verticalHeader().minimumSectionSize() + 8)
        fetches = 0
        for row, msg in enumerate(found):
            if is_picture(msg):
                self.table.setRowHeight(row, THUMB + 6)
                # the newest few are fetched now; the rest when a narrower search shows them
                if fetches < FETCH_AT_ONCE and self.state.fetch_picture(msg["file"]):
                    fetches += 1
        self._show_status()

    def _transfer_changed(self, top, *_) -> None:
        if sip.isdeleted(self):
            return
        transfers = self.state.transfers.rows
        rows = range(top.row(), top.row() + 1) if isinstance(top, QModelIndex) and \
            top.isValid() else range(len(transfers))
        for row in rows:
            if 0 <= row < len(transfers) and transfers[row].file_id is not None:
                self.model.refresh_file(transfers[row].file_id)

    def _chosen(self, index) -> None:
        if not index.isValid() or not 0 <= index.row() < len(self.model.rows):
            return
        msg = self.model.rows[index.row()]
        if msg.get("id") is not None and not msg.get("burned"):
            self.messageChosen.emit(self.conv, msg["id"])

    def _dates_toggled(self, on: bool) -> None:
        self.date_from.setEnabled(on)
        self.date_to.setEnabled(on)
        self.apply_filter()

    def _show_status(self) -> None:
        tr = self.translator.tr
        total, found = len(self.messages), self.model.rowCount()
        if self.error:
            text = tr("hist_failed", error=self.error, n=total)
        elif not self.loaded:
            text = tr("hist_loading", n=total)
        elif self.capped:
            text = tr("hist_capped", n=total, matches=found)
        else:
            text = tr("hist_matches", n=found, total=total)
        self.status.setText(text)

    # ------------------------------------------------------------------ clearing
    def confirm_clear(self) -> bool:
        tr = self.translator.tr
        answer = QMessageBox.question(
            self, tr("hist_confirm_title"), tr("hist_confirm_text", conv=self.conv),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def clear_local(self) -> None:
        """Ask, then forget this conversation's messages on this computer (ChatState
        remembers up to where, so that they stay hidden after a restart)."""
        if not self.confirm_clear():
            return
        self._generation += 1               # a load still running would bring them back
        self.state.clear_local(self.conv)
        self.messages = []
        self.loaded, self.capped, self.error = True, False, ""
        self._update_senders()
        self.apply_filter()
        self.status.setText(self.translator.tr("hist_cleared"))

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        tr = self.translator.tr
        self.setWindowTitle(tr("hist_title", conv=self.conv))
        self.text_label.setText(tr("hist_text"))
        self.text_edit.setPlaceholderText(tr("hist_text_hint"))
        self.sender_label.setText(tr("hist_sender"))
        self.sender_box.lineEdit().setPlaceholderText(tr("hist_anyone"))
        self.dates_check.setText(tr("hist_dates"))
        self.and_label.setText(tr("hist_and"))
        self.clear_button.setText(tr("hist_clear"))
        self.close_button.setText(tr("hist_close"))
        self.model.retranslate()
        self._show_status()
