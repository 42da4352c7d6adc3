"""The sticker panel: a popup with a tab per built-in set and one of the user's own stickers.

One click on a sticker emits ``picked(path)`` and closes the panel; the input bar sends it.
"Add your own..." copies chosen pictures into the user's sticker folder (in a thread, see
:func:`chat.qtclient.stickers.import_picture`); a right click on one of them removes it.
"""

import os

from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QIcon, QPixmap
from PyQt6.QtWidgets import (
    QFileDialog, QFrame, QGridLayout, QLabel, QMenu, QPushButton, QScrollArea, QTabWidget,
    QToolButton, QVBoxLayout, QWidget)
from twisted.internet import defer, threads

from chat.qtclient import stickers, theme
from chat.qtclient.widgets.popup import show_above

COLUMNS = 4
CELL = 84              # a sticker's button
ICON = 72


def _icon(path: str) -> QIcon:
    pixmap = QPixmap(path)
    if pixmap.isNull():
        return QIcon()
    return QIcon(pixmap.scaled(ICON * 2, ICON * 2, Qt.AspectRatioMode.KeepAspectRatio,
                               Qt.TransformationMode.SmoothTransformation))


class StickerPanel(QFrame):
    """See the module docstring; ``own_dir`` is where the user's own stickers are kept."""

    picked = pyqtSignal(str)

    def __init__(self, translator, own_dir: str, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.translator = translator
        self.own_dir = own_dir
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.buttons = {}                       # path -> button, every tab
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setUsesScrollButtons(False)
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.sets = stickers.builtin_sets()
        for sticker_set in self.sets:
            page = QWidget()
            grid = QGridLayout(page)
            self._fill(grid, sticker_set.stickers)
            self.tabs.addTab(self._scroll(page), "")
        self.own_page = QWidget()
        self.own_grid = QGridLayout(self.own_page)
        self.add_button = QPushButton()
        self.add_button.clicked.connect(self.choose_pictures)
        self.own_hint = QLabel()
        self.own_hint.setWordWrap(True)
        theme.style(self.own_hint, "color: {muted};")
        own = QWidget()
        own_column = QVBoxLayout(own)
        own_column.setContentsMargins(4, 4, 4, 4)
        own_column.addWidget(self._scroll(self.own_page), 1)
        own_column.addWidget(self.own_hint)
        own_column.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.tabs.addTab(own, "")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        self.own = []
        self.reload_own()        # a directory listing: small, and only when the panel opens
        self.setFixedSize(COLUMNS * (CELL + 4) + 40, 2 * (CELL + 4) + 150)
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    @staticmethod
    def _scroll(page: QWidget) -> QScrollArea:
        area = QScrollArea()
        area.setWidget(page)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        return area

    def _fill(self, grid: QGridLayout, items, own: bool = False) -> None:
        grid.setSpacing(4)
        grid.setContentsMargins(4, 4, 4, 4)
        for i, sticker in enumerate(items):
            button = QToolButton()
            button.setIcon(_icon(sticker.path))
            button.setIconSize(QSize(ICON, ICON))
            button.setFixedSize(CELL, CELL)
            button.setAutoRaise(True)
            button.clicked.connect(lambda _=False, p=sticker.path: self._choose(p))
            if own:
                button.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
                button.customContextMenuRequested.connect(
                    lambda at, b=button, p=sticker.path: self._own_menu(b, at, p))
            grid.addWidget(button, i // COLUMNS, i % COLUMNS)
            self.buttons[sticker.path] = button
        grid.setRowStretch(grid.rowCount(), 1)
        grid.setColumnStretch(COLUMNS, 1)

    # ------------------------------------------------------------------ own stickers
    def reload_own(self) -> None:
        for sticker in self.own:
            self.buttons.pop(sticker.path, None)
        while self.own_grid.count():
            widget = self.own_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.own = stickers.own_stickers(self.own_dir)
        self._fill(self.own_grid, self.own, own=True)
        self.own_hint.setVisible(not self.own)

    def choose_pictures(self) -> None:
        tr = self.translator.tr
        paths, _ = QFileDialog.getOpenFileNames(self, tr("sticker_add_title"), "",
                                                tr("sticker_images"))
        if paths:
            self.add_pictures(paths)

    def add_pictures(self, paths) -> defer.Deferred:
        """Copy ``paths`` into the sticker folder (in a thread); fires with the new paths once
        the "My stickers" tab shows them. A file that is no picture is named in the panel."""
        errors = []

        def one(path):
            d = threads.deferToThread(stickers.import_picture, path, self.own_dir)
            return d.addErrback(lambda f: errors.append(os.path.basename(path)))

        d = defer.gatherResults([one(p) for p in paths])

        def shown(results):
            self.reload_own()
            if errors:
                self.own_hint.setText(self.translator.tr("sticker_not_added",
                                                         name=", ".join(errors)))
                self.own_hint.show()
            self.tabs.setCurrentIndex(self.tabs.count() - 1)
            return [r for r in results if isinstance(r, str)]
        return d.addCallback(shown)

    def remove_own(self, path: str) -> None:
        try:
            os.remove(path)              # a small file of our own folder
        except OSError:
            pass
        self.reload_own()

    def _own_menu(self, button, at, path) -> None:
        menu = QMenu(self)
        menu.addAction(self.translator.tr("sticker_remove"), lambda: self.remove_own(path))
        menu.exec(button.mapToGlobal(at))

    # ------------------------------------------------------------------ showing, choosing
    def retranslate(self, *_) -> None:
        tr = self.translator.tr
        for i, sticker_set in enumerate(self.sets):
            self.tabs.setTabText(i, tr(sticker_set.title_key))
        self.tabs.setTabText(len(self.sets), tr("sticker_mine"))
        self.add_button.setText(tr("sticker_add"))
        if not self.own:
            self.own_hint.setText(tr("sticker_mine_empty"))

    def popup_above(self, anchor: QWidget) -> None:
        """Show the panel just above ``anchor`` (the sticker button), inside the screen."""
        show_above(self, anchor)

    def _choose(self, path: str) -> None:
        self.picked.emit(path)
        self.hide()
