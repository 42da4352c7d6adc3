"""The admin panel's look: the colours of its status and error lines, bold titles."""

from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QWidget

ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #1b5e20;"


def set_bold(widget: QWidget, scale: float = 1.0) -> None:
    font = QFont(widget.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    widget.setFont(font)
