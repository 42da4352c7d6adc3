"""What covers the admin panel while it is locked: the admin's password and Unlock."""

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from .styles import ERROR_STYLE, set_bold


class LockScreen(QWidget):
    """What covers the panel while it is locked: the admin's password, and Unlock."""

    def __init__(self, panel):
        super().__init__()
        self.panel = panel
        self._error_key = None       # what the error line says, re-worded on a switch
        self.title = QLabel()
        set_bold(self.title, 1.4)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self._unlock_clicked)
        self.unlock_button = QPushButton()
        self.unlock_button.clicked.connect(self._unlock_clicked)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.unlock_button)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMinimumWidth(380)
        box.setMaximumWidth(480)
        column = QVBoxLayout(box)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(12)
        column.addWidget(self.title)
        column.addWidget(self.prompt)
        column.addLayout(row)
        column.addWidget(self.error)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def _unlock_clicked(self) -> None:
        self.panel.unlock(self.password.text())

    def reset(self) -> None:
        self.password.clear()
        self._error_key = None
        self.error.clear()
        self.error.hide()
        self.password.setFocus()

    def show_error(self, key: str) -> None:
        """Say what is wrong (a catalogue key: re-worded when the language changes)."""
        self._error_key = key
        self.error.setText(self.panel.translator.tr(key))
        self.error.show()

    def retranslate(self) -> None:
        tr = self.panel.translator.tr
        self.title.setText(tr("admin_locked"))
        self.prompt.setText(tr("admin_lock_prompt", user=self.panel.session.me))
        self.unlock_button.setText(tr("admin_unlock"))
        if getattr(self, "_error_key", None):
            self.error.setText(tr(self._error_key))
