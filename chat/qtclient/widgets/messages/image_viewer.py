"""A picture at its full size: :class:`ImageViewer`, and :func:`show_image` to open one."""

import os

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QGuiApplication, QImageReader, QPixmap
from PyQt6.QtWidgets import QDialog, QLabel, QScrollArea, QStyle, QVBoxLayout


class ImageViewer(QDialog):
    """A picture at its full size, scrollable when larger than the screen."""

    def __init__(self, path: str, parent=None):
        super().__init__(parent)
        self.path = path
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        reader = QImageReader(path)
        reader.setAutoTransform(True)
        image = reader.read()
        self.label = QLabel()
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        name = os.path.basename(path)
        if image.isNull():
            # the file went away or is no picture after all: say which one, without words
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.label.setPixmap(icon.pixmap(48, 48))
            self.setWindowTitle(name)
        else:
            self.label.setPixmap(QPixmap.fromImage(image))
            self.setWindowTitle(f"{name} ({image.width()}×{image.height()})")
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        wanted = self.label.sizeHint() + QSize(4, 4)
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen())
        room = screen.availableSize() * 0.9 if screen is not None else QSize(1200, 900)
        self.resize(max(240, min(wanted.width(), room.width())),
                    max(160, min(wanted.height(), room.height())))


def show_image(parent, path: str) -> ImageViewer:
    """Open a (non-modal) viewer of the picture at ``path``; it deletes itself when closed."""
    viewer = ImageViewer(path, parent)
    viewer.show()
    viewer.raise_()
    return viewer
