"""Placing a popup panel (the emoji picker, the sticker panel) beside the button that opened it."""

from PyQt6.QtCore import QPoint
from PyQt6.QtWidgets import QWidget


def show_above(popup: QWidget, anchor: QWidget) -> None:
    """Show ``popup`` just above ``anchor``, kept inside the screen; below it when there is
    no room above."""
    at = anchor.mapToGlobal(QPoint(0, 0)) - QPoint(0, popup.height() + 4)
    screen = anchor.screen()
    if screen is not None:
        area = screen.availableGeometry()
        at.setX(max(area.left(), min(at.x(), area.right() - popup.width())))
        if at.y() < area.top():
            at.setY(anchor.mapToGlobal(QPoint(0, anchor.height())).y() + 4)
    popup.move(at)
    popup.show()
