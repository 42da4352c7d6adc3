"""The input bar under the conversation: typing, emoji, files and privacy mode.

Enter sends, Shift+Enter starts a new line. Files arrive three ways, all ending in
``sendFiles(paths)``: the file button, dragging files onto the bar, and pasting (a copied
file, or a picture from the clipboard, which is saved as a PNG in a temporary folder first).
The bar only emits signals; what is sent where is the main window's business.
"""

import datetime
import math
import os

from PyQt6.QtCore import QPointF, QRectF, QSize, QStandardPaths, Qt, pyqtSignal
from PyQt6.QtGui import (
    QAbstractTextDocumentLayout, QColor, QIcon, QImage, QPainter, QPainterPath, QPalette, QPen,
    QPixmap, QTextDocument)
from PyQt6.QtWidgets import (
    QFileDialog, QHBoxLayout, QPushButton, QTextEdit, QToolButton, QWidget)

from chat.qtclient import theme
from chat.qtclient.widgets.emoji import EmojiPicker
from chat.qtclient.widgets.messages import local_files, paint_flame

MAX_LINES = 6
"""The editor grows with its text up to this many lines, then scrolls."""
NARROW = 560
"""Below this width (pixels) the privacy toggle drops its text."""


def save_pasted_image(image: QImage, folder: str = None) -> str:
    """Save a pasted picture as ``pasted-YYYYMMDD-HHMMSS.png`` (``-2``, ``-3``... if that
    name is taken) in ``folder`` (a ``chat-pasted`` folder in the system's temporary place
    by default); returns the path. Raises OSError if it cannot be written."""
    if folder is None:
        temp = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.TempLocation)
        folder = os.path.join(temp, "chat-pasted")
    os.makedirs(folder, exist_ok=True)
    stem = datetime.datetime.now().strftime("pasted-%Y%m%d-%H%M%S")
    path, n = os.path.join(folder, stem + ".png"), 1
    while os.path.exists(path):
        n += 1
        path = os.path.join(folder, f"{stem}-{n}.png")
    if not image.save(path, "PNG"):
        raise OSError(f"cannot write {path}")
    return path


class MessageEdit(QTextEdit):
    """The text field: plain text only, Enter submits, pasted files and pictures become
    ``filesPasted`` instead of text, and the field grows with its text."""

    submitted = pyqtSignal()
    filesPasted = pyqtSignal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAcceptRichText(False)
        self.setTabChangesFocus(True)
        self._probe = (None, 0.0)
        self._placeholder = ""
        self.document().contentsChanged.connect(self._fit)
        self._fit()

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                # a real new paragraph: Qt's own Shift+Enter inserts U+2028 instead
                self.textCursor().insertText("\n")
            else:
                self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source) -> bool:
        return bool(local_files(source)) or source.hasImage() or \
            super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source) -> None:
        """Paste and drop: files and pictures are sent, text is inserted as plain text."""
        files = local_files(source)
        if files:
            self.filesPasted.emit(files)
            return
        if source.hasImage():
            data = source.imageData()
            image = data.toImage() if isinstance(data, QPixmap) else QImage(data)
            if not image.isNull():
                self.filesPasted.emit([save_pasted_image(image)])
                return
        if source.hasText():
            self.insertPlainText(source.text())

    def set_placeholder(self, text: str) -> None:
        """The grey hint in the empty field. Drawn here and not by setPlaceholderText: Qt's
        own clips the descenders of Latin letters that follow Chinese ones."""
        self._placeholder = text
        self.viewport().update()

    def placeholder(self) -> str:
        return self._placeholder

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self._placeholder or not self.document().isEmpty():
            return
        hint = QTextDocument()
        hint.setDefaultFont(self.document().defaultFont())
        hint.setDocumentMargin(self.document().documentMargin())
        hint.setPlainText(self._placeholder)
        hint.setTextWidth(self.viewport().width())
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text,
                                 self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter = QPainter(self.viewport())
        painter.setClipRect(self.viewport().rect())
        hint.documentLayout().draw(painter, context)
        painter.end()

    def _fit(self) -> None:
        margin = self.document().documentMargin() * 2
        one_line = self._one_line_height()
        line = one_line - margin
        height = min(max(self.document().size().height(), one_line),
                     one_line + line * (MAX_LINES - 1))
        self.setFixedHeight(math.ceil(height) + self.frameWidth() * 2 + 2)

    def _one_line_height(self) -> float:
        """A line's height with Latin and CJK text in it: CJK fonts have taller lines than
        fontMetrics() (the Latin font) says, and the placeholder must not be cut off."""
        key = self.document().defaultFont().key()
        if self._probe[0] != key:
            probe = QTextDocument()
            probe.setDefaultFont(self.document().defaultFont())
            probe.setDocumentMargin(self.document().documentMargin())
            probe.setPlainText("Ag中文")
            self._probe = (key, probe.size().height())
        return self._probe[1]

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()                   # a narrower field wraps into more lines


def _icon(paint) -> QIcon:
    """An icon drawn by ``paint(painter)`` on a 20x20 canvas (crisp on HiDPI screens)."""
    ratio = 2.0
    pixmap = QPixmap(QSize(40, 40))
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    paint(painter)
    painter.end()
    return QIcon(pixmap)


def _smiley(painter: QPainter) -> None:
    painter.setPen(QPen(QColor("#b07d00"), 1.3))
    painter.setBrush(QColor("#ffd43b"))
    painter.drawEllipse(QRectF(2, 2, 16, 16))
    painter.setBrush(QColor("#5c4000"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(6.5, 7, 2.2, 2.6))
    painter.drawEllipse(QRectF(11.3, 7, 2.2, 2.6))
    painter.setPen(QPen(QColor("#5c4000"), 1.4))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(6, 8, 8, 6.5), 200 * 16, 140 * 16)


def _sticker(painter: QPainter) -> None:
    """A square sticker with its lower right corner peeled up."""
    page = QPainterPath(QPointF(3, 3))
    page.lineTo(17, 3)
    page.lineTo(17, 11)
    page.lineTo(11, 17)
    page.lineTo(3, 17)
    page.closeSubpath()
    painter.setPen(QPen(theme.colour("icon"), 1.4))
    painter.setBrush(QColor("#9bd0ff"))
    painter.drawPath(page)
    curl = QPainterPath(QPointF(17, 11))
    curl.lineTo(11, 11)
    curl.lineTo(11, 17)
    curl.closeSubpath()
    painter.setBrush(QColor("#ffffff"))
    painter.drawPath(curl)
    painter.setPen(QPen(theme.colour("icon"), 1.3))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(QRectF(6.5, 6, 6, 5), 200 * 16, 140 * 16)


def _paperclip(painter: QPainter) -> None:
    path = QPainterPath(QPointF(12.5, 7))
    path.lineTo(12.5, 13.5)
    path.arcTo(QRectF(8.5, 11.5, 4, 4), 0, -180)
    path.lineTo(8.5, 5)
    path.arcTo(QRectF(8.5, 1.5, 7, 7), 180, -180)
    path.lineTo(15.5, 14)
    path.arcTo(QRectF(5.5, 9.5, 10, 9), 0, -180)
    path.lineTo(5.5, 7)
    painter.setPen(QPen(theme.colour("icon"), 1.5, cap=Qt.PenCapStyle.RoundCap))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(path)


def _flame(painter: QPainter) -> None:
    paint_flame(painter, QRectF(3, 1, 14, 18))


class InputBar(QWidget):
    """See the module docstring. ``sendText(text, burn)``: the typed text without trailing
    whitespace, ``burn`` true in privacy mode; ``sendFiles(paths)``."""

    sendText = pyqtSignal(str, bool)
    sendFiles = pyqtSignal(list)
    sendSticker = pyqtSignal(str)        # the sticker's picture, one click in the panel

    def __init__(self, translator, parent=None):
        super().__init__(parent)
        self.translator = translator
        self.conversation = ""
        self.burn_seconds = 5
        self.setAcceptDrops(True)
        self.editor = MessageEdit()
        self.editor.submitted.connect(self.send)
        self.editor.filesPasted.connect(self.sendFiles)
        self.setFocusProxy(self.editor)      # focusing the bar means typing into it
        self.emoji_button = QToolButton()
        self.emoji_button.setIcon(_icon(_smiley))
        self.emoji_button.setAutoRaise(True)
        self.emoji_button.clicked.connect(self.open_emoji)
        self.sticker_button = QToolButton()
        self.sticker_button.setIcon(_icon(_sticker))
        self.sticker_button.setAutoRaise(True)
        self.sticker_button.clicked.connect(self.open_stickers)
        self.sticker_dir = None              # the user's own stickers (the data dir's default)
        self.sticker_panel = None
        self.file_button = QToolButton()
        self.file_button.setIcon(_icon(_paperclip))
        self.file_button.setAutoRaise(True)
        self.file_button.clicked.connect(self.choose_files)
        self.burn_button = QToolButton()
        self.burn_button.setIcon(_icon(_flame))
        self.burn_button.setCheckable(True)
        self.burn_button.setAutoRaise(True)
        self.burn_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.burn_button.toggled.connect(self._privacy_changed)
        self.send_button = QPushButton()
        self.send_button.clicked.connect(self.send)
        self.picker = None
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 8)
        row.setSpacing(4)
        for widget in (self.emoji_button, self.sticker_button, self.file_button):
            row.addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.editor, 1)
        for widget in (self.burn_button, self.send_button):
            row.addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)
        translator.languageChanged.connect(self.retranslate)
        theme.notifier().changed.connect(self._theme_changed)
        self.set_enabled_for("")

    def _theme_changed(self, *_) -> None:
        # the line icons are drawn in the theme's icon colour: draw them again
        self.sticker_button.setIcon(_icon(_sticker))
        self.file_button.setIcon(_icon(_paperclip))

    # ------------------------------------------------------------------ state
    def set_enabled_for(self, conv: str) -> None:
        """Type into ``conv`` ("#room", "@user"); an empty one disables the bar."""
        self.conversation = conv or ""
        for widget in (self.editor, self.emoji_button, self.sticker_button, self.file_button,
                       self.burn_button, self.send_button):
            widget.setEnabled(bool(conv))
        self.retranslate()

    set_conversation = set_enabled_for     # the name the main window uses

    def set_burn_seconds(self, seconds) -> None:
        """The server's default time to burn (for the privacy toggle's tooltip)."""
        self.burn_seconds = seconds
        self.retranslate()

    def privacy_mode(self) -> bool:
        return self.burn_button.isChecked()

    def text(self) -> str:
        return self.editor.toPlainText()

    # ------------------------------------------------------------------ actions
    def send(self) -> None:
        text = self.editor.toPlainText().rstrip()
        if not text.strip() or not self.conversation:
            return
        self.sendText.emit(text, self.privacy_mode())
        self.editor.clear()

    def insert_emoji(self, emoji: str) -> None:
        self.editor.textCursor().insertText(emoji)
        self.editor.setFocus()

    def open_emoji(self) -> None:
        if self.picker is None:
            self.picker = EmojiPicker(self.translator, self)
            self.picker.picked.connect(self.insert_emoji)
        self.picker.popup_above(self.emoji_button)

    def open_stickers(self) -> None:
        if self.sticker_panel is None:
            from chat.qtclient.stickers import default_own_dir
            from chat.qtclient.widgets.sticker_panel import StickerPanel
            self.sticker_panel = StickerPanel(self.translator,
                                              self.sticker_dir or default_own_dir(), self)
            self.sticker_panel.picked.connect(self._sticker_picked)
        self.sticker_panel.popup_above(self.sticker_button)

    def _sticker_picked(self, path: str) -> None:
        if self.conversation:
            self.sendSticker.emit(path)
        self.editor.setFocus()

    def choose_files(self) -> None:
        tr = self.translator.tr
        paths, _ = QFileDialog.getOpenFileNames(self, tr("input_choose_files"), "",
                                                tr("input_all_files"))
        if paths:
            self.sendFiles.emit(paths)

    def _privacy_changed(self, on: bool) -> None:
        # an orange frame while privacy mode is on: what is typed now will burn
        self.editor.setStyleSheet("QTextEdit { border: 2px solid #f76b15; border-radius: 3px; }"
                                  if on else "")
        self.editor.setFocus()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # a narrow bar keeps room to type: the privacy toggle shows its flame only (its tool
        # tip and the orange frame still say what it does)
        style = (Qt.ToolButtonStyle.ToolButtonIconOnly if event.size().width() < NARROW
                 else Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        if self.burn_button.toolButtonStyle() != style:
            self.burn_button.setToolButtonStyle(style)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event):
        if local_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        files = local_files(event.mimeData())
        if files and self.conversation:
            event.acceptProposedAction()
            self.sendFiles.emit(files)
        else:
            event.ignore()

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        tr = self.translator.tr
        conv = self.conversation
        if conv.startswith("#"):
            placeholder = tr("input_placeholder_room", room=conv[1:])
        elif conv.startswith("@"):
            placeholder = tr("input_placeholder_user", user=conv[1:])
        else:
            placeholder = tr("input_placeholder_none")
        self.editor.set_placeholder(placeholder)
        self.emoji_button.setToolTip(tr("input_emoji_tip"))
        self.file_button.setToolTip(tr("input_file_tip"))
        self.sticker_button.setToolTip(tr("input_sticker_tip"))
        self.burn_button.setText(tr("input_burn"))
        self.burn_button.setToolTip(tr("input_burn_tip", seconds=self.burn_seconds))
        self.send_button.setText(tr("input_send"))
