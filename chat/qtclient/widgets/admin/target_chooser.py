"""Who a notice or a file goes to: everyone, or one user named in a field."""

from PyQt6.QtWidgets import QButtonGroup, QHBoxLayout, QLineEdit, QRadioButton, QWidget


class TargetChooser(QWidget):
    """"Everyone" or "One user: [name]", for notices and files."""

    def __init__(self, translator):
        super().__init__()
        self.translator = translator
        self.everyone = QRadioButton()
        self.one = QRadioButton()
        self.user = QLineEdit()
        group = QButtonGroup(self)
        group.addButton(self.everyone)
        group.addButton(self.one)
        self.everyone.setChecked(True)
        self.user.setEnabled(False)
        self.one.toggled.connect(self.user.setEnabled)
        # typing a name means "this user"
        self.user.textEdited.connect(lambda text: self.one.setChecked(True) if text else None)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.everyone)
        row.addWidget(self.one)
        row.addWidget(self.user, 1)

    def user_name(self):
        """None for everyone, else the user's name ("" if it is still to be typed)."""
        return None if self.everyone.isChecked() else self.user.text().strip()

    def set_user(self, name) -> None:
        if name is None:
            self.everyone.setChecked(True)
        else:
            self.one.setChecked(True)
            self.user.setText(name)

    def retranslate(self) -> None:
        self.everyone.setText(self.translator.tr("admin_everyone"))
        self.one.setText(self.translator.tr("admin_one_user"))
