"""A picture in a window of its own: :class:`ImageViewer`, and :func:`show_image` to open one.

It opens fitted to the window (a big photo whole, a small picture at 1:1, never blown up),
with no scroll bars; the wheel (or a pinch on a touchpad, or + and -) zooms, 0 fits again
and 1 shows it at 1:1. Once zoomed in, the picture scrolls and can be dragged.
"""

import os

from PyQt6.QtCore import QEvent, QPoint, QSize, Qt
from PyQt6.QtGui import QGuiApplication, QImageReader, QPixmap
from PyQt6.QtWidgets import QDialog, QLabel, QScrollArea, QStyle, QVBoxLayout

ZOOM_STEP = 1.25
ZOOM_MIN, ZOOM_MAX = 0.05, 16.0


class ImageViewer(QDialog):
    """See the module docstring. ``zoom`` is the scale shown; ``fitted`` whether the picture
    follows the window's size."""

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
        self.pixmap = None
        if image.isNull():
            # the file went away or is no picture after all: say which one, without words
            icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            self.label.setPixmap(icon.pixmap(48, 48))
            self.setWindowTitle(name)
        else:
            self.pixmap = QPixmap.fromImage(image)
            self.setWindowTitle(f"{name} ({image.width()}×{image.height()})")
        self.zoom = 1.0
        self.fitted = True
        self._drag_from = None
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.label)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.viewport().installEventFilter(self)
        self.scroll.viewport().grabGesture(Qt.GestureType.PinchGesture)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        screen = (parent.screen() if parent is not None else QGuiApplication.primaryScreen())
        room = screen.availableSize() * 0.85 if screen is not None else QSize(1200, 900)
        wanted = self.pixmap.size() if self.pixmap is not None else QSize(240, 160)
        self.resize(max(320, min(wanted.width(), room.width())),
                    max(240, min(wanted.height(), room.height())))
        self._render()

    # ------------------------------------------------------------------ zoom
    def fit_zoom(self) -> float:
        """The scale at which the whole picture fits the window (at most 1:1)."""
        if self.pixmap is None or self.pixmap.isNull():
            return 1.0
        area = self.scroll.viewport().size()
        return min(1.0, area.width() / self.pixmap.width(), area.height() / self.pixmap.height())

    def fit(self) -> None:
        self.fitted = True
        self._render()

    def set_zoom(self, zoom: float) -> None:
        self.fitted = False
        self.zoom = max(ZOOM_MIN, min(ZOOM_MAX, zoom))
        self._render()

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom * factor)

    def _render(self) -> None:
        if self.pixmap is None:
            return
        if self.fitted:
            self.zoom = self.fit_zoom()
        size = self.pixmap.size() * self.zoom
        size = QSize(max(1, size.width()), max(1, size.height()))
        self.label.setPixmap(self.pixmap.scaled(
            size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        # fitted: never a scroll bar (the picture is no larger than the viewport)
        policy = (Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self.fitted
                  else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.scroll.setHorizontalScrollBarPolicy(policy)
        self.scroll.setVerticalScrollBarPolicy(policy)

    # ------------------------------------------------------------------ events
    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.set_zoom(1.0)
        else:
            super().keyPressEvent(event)

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Resize and self.fitted:
            self._render()                  # the viewport's size is what the picture fits
            return False
        if kind == QEvent.Type.Wheel:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.zoom_by(ZOOM_STEP ** steps)
            return True
        if kind == QEvent.Type.NativeGesture and \
                event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            self.zoom_by(1.0 + event.value())          # a touchpad pinch (macOS, Wayland)
            return True
        if kind == QEvent.Type.Gesture:
            pinch = event.gesture(Qt.GestureType.PinchGesture)
            if pinch is not None:
                self.zoom_by(pinch.scaleFactor())      # a touch screen's pinch
                return True
        if kind == QEvent.Type.MouseButtonDblClick:
            if self.fitted:
                self.set_zoom(1.0)
            else:
                self.fit()
            return True
        if kind == QEvent.Type.MouseButtonPress and not self.fitted:
            self._drag_from = event.position().toPoint()
            return True
        if kind == QEvent.Type.MouseMove and self._drag_from is not None:
            now = event.position().toPoint()
            moved: QPoint = now - self._drag_from
            self._drag_from = now
            h, v = self.scroll.horizontalScrollBar(), self.scroll.verticalScrollBar()
            h.setValue(h.value() - moved.x())
            v.setValue(v.value() - moved.y())
            return True
        if kind == QEvent.Type.MouseButtonRelease:
            self._drag_from = None
        return super().eventFilter(watched, event)


def show_image(parent, path: str) -> ImageViewer:
    """Open a (non-modal) viewer of the picture at ``path``; it deletes itself when closed."""
    viewer = ImageViewer(path, parent)
    viewer.show()
    viewer.raise_()
    return viewer
