"""Desktop notifications for new messages, and the tray icon with the unread count.

A notification is shown only when the user wants them (``settings.notifications``) and is
not looking at the chat already (the main window is not the active window). Where the
desktop has no system tray (and offscreen in the tests) nothing pops up, but the taskbar
entry is still flagged and ``shown`` still records what would have been shown.
"""

from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QIcon, QPainter, QPixmap
from PyQt6.QtWidgets import QApplication, QSystemTrayIcon

TEXT_MAX = 200
"""Characters of a message shown in a notification (bubbles cut long texts badly)."""

SHOW_MS = 8000
UNREAD_SHOWN_MAX = 999


def _fallback_icon() -> QIcon:
    # a tray icon without an image is invisible on most desktops (and Qt warns about it)
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#2f6fdf"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(2, 2, 28, 28)
    painter.end()
    return QIcon(pixmap)


def shorten(text: str, limit: int = TEXT_MAX) -> str:
    """``text`` on one line and at most ``limit`` characters (with an ellipsis if cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


class Notifier(QObject):
    """See the module docstring.

    ``activated(conv)``: the user clicked a notification (``conv`` is the conversation of the
    last one shown) or the tray icon (``conv`` is ``""``: just show the window).
    """

    activated = pyqtSignal(str)

    def __init__(self, translator, settings, window, icon: QIcon = None):
        super().__init__(window)
        self.translator = translator
        self.settings = settings
        self.window = window
        self.shown: list[tuple[str, str]] = []     # (title, text) of every notification
        self.unread = 0
        self.tooltip = ""
        self._last_conv = ""
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            if icon is None or icon.isNull():
                icon = window.windowIcon()
            if icon.isNull():
                icon = _fallback_icon()
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.messageClicked.connect(lambda: self.activated.emit(self._last_conv))
            self.tray.activated.connect(self._tray_activated)
            self.tray.show()
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    def message(self, conv: str, sender: str, text: str) -> bool:
        """Notify of ``sender``'s message in ``conv`` (``#room``/``@user``) if the user wants
        it and is not in the window; True if a notification was shown."""
        if not self.settings.notifications or self.window.isActiveWindow():
            return False
        tr = self.translator.tr
        if conv.startswith("@"):
            title = tr("notify_private_title", user=sender)
        else:
            title = tr("notify_room_title", user=sender, room=conv)
        body = shorten(text)
        self.shown.append((title, body))
        self._last_conv = conv
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, body, self.tray.icon(), SHOW_MS)
        # flags the taskbar entry too: the only sign where there is no tray
        QApplication.alert(self.window)
        return True

    def set_unread(self, n: int) -> None:
        """Show the total of unread messages in the tray icon's tooltip."""
        self.unread = max(0, int(n))
        self.retranslate()

    def _tray_activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            self.activated.emit("")

    def retranslate(self, *_) -> None:
        """Re-word the tooltip in the translator's language (on ``languageChanged``)."""
        tr = self.translator.tr
        app = tr("app_title")
        if self.unread:
            n = f"{UNREAD_SHOWN_MAX}+" if self.unread > UNREAD_SHOWN_MAX else self.unread
            self.tooltip = tr("notify_tooltip_unread", app=app, n=n)
        else:
            self.tooltip = app
        if self.tray is not None:
            self.tray.setToolTip(self.tooltip)
