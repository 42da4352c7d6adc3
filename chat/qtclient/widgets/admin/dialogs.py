"""The confirmation asked before a kick, a ban or an unban."""

from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout

REASON_MAX = 500


class ConfirmDialog(QDialog):
    """"Really kick/ban/unban bob?", with a reason field for kick and ban."""

    def __init__(self, translator, title: str, question: str, with_reason: bool, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.question = QLabel(question)
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(REASON_MAX)
        if with_reason:
            label = QLabel(translator.tr("admin_reason"))
            label.setBuddy(self.reason_edit)
            layout.addWidget(label)
            layout.addWidget(self.reason_edit)
        else:
            self.reason_edit.hide()
        buttons = QDialogButtonBox()
        buttons.addButton(translator.tr("admin_confirm"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(translator.tr("admin_cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    @classmethod
    def ask(cls, translator, title: str, question: str, with_reason: bool,
            parent=None) -> tuple:
        """Show the dialog; ``(confirmed, reason)``."""
        dialog = cls(translator, title, question, with_reason, parent)
        confirmed = dialog.exec() == QDialog.DialogCode.Accepted
        return confirmed, dialog.reason
