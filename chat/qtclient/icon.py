"""The application's icon, drawn here (no image file to ship or lose): a blue speech bubble
with three dots, at the sizes desktops ask for. Windows, the taskbar and the tray use it."""

from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPixmap

SIZES = (16, 24, 32, 48, 64, 128, 256)
BLUE = QColor("#2f6fdf")

_icon = None


def _draw(size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 64.0
    bubble = QPainterPath()
    bubble.addRoundedRect(QRectF(4 * s, 6 * s, 56 * s, 40 * s), 14 * s, 14 * s)
    tail = QPainterPath()
    tail.moveTo(14 * s, 40 * s)
    tail.lineTo(10 * s, 58 * s)
    tail.lineTo(30 * s, 44 * s)
    tail.closeSubpath()
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(BLUE)
    p.drawPath(bubble.united(tail))
    p.setBrush(QColor("white"))
    for x in (18, 32, 46):
        p.drawEllipse(QRectF((x - 4.5) * s, 21.5 * s, 9 * s, 9 * s))
    p.end()
    return pixmap


def app_icon() -> QIcon:
    """The icon (made once, after the QApplication exists)."""
    global _icon
    if _icon is None:
        _icon = QIcon()
        for size in SIZES:
            _icon.addPixmap(_draw(size))
    return _icon


def install(app) -> None:
    """Give ``app`` (the QApplication) the icon: every window without its own shows it."""
    app.setWindowIcon(app_icon())
    # Wayland and some X11 taskbars find the icon through the .desktop file of this name
    app.setDesktopFileName("chat-qt")
