"""The panel's "notices" page: a notice to everyone logged in or to one user."""

from PyQt6.QtWidgets import (
    QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout)
from twisted.internet import defer

from chat.protocol import commands as C

from .tab import Tab
from .target_chooser import TargetChooser


class NoticeTab(Tab):
    """A notice to everyone logged in, or to one user's connections."""

    def __init__(self, panel):
        super().__init__(panel)
        self.text = QPlainTextEdit()
        self.text_label = QLabel()
        self.text_label.setBuddy(self.text)
        self.target = TargetChooser(self.translator)
        self.target_label = QLabel()
        self.send_button = QPushButton()
        self.send_button.clicked.connect(
            lambda: self.send(self.text.toPlainText(), self.target.user_name()))
        form = QFormLayout()
        form.addRow(self.text_label, self.text)
        form.addRow(self.target_label, self.target)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(bottom)

    def send(self, text: str, to: str = None):
        """Send ``text`` to everyone (``to`` None) or to user ``to``; a Deferred fired once
        the outcome ("delivered to N") is shown."""
        tr = self.translator.tr
        if not text.strip():
            self.panel.report(lambda: tr("admin_notice_empty"), error=True)
            return defer.succeed(None)
        if to is not None and not to:
            self.panel.report(lambda: tr("admin_target_empty"), error=True)
            return defer.succeed(None)
        def done(data):
            delivered = data.get("delivered", 0)
            self.panel.report(lambda: tr("notice_sent", n=delivered))
            self.text.clear()
            return data
        return self.panel.run(self.session.request(C.SendNotice(text=text, to=to)), done)

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.text_label.setText(tr("admin_notice_text"))
        self.text.setPlaceholderText(tr("admin_notice_placeholder"))
        self.target_label.setText(tr("admin_target"))
        self.target.retranslate()
        self.send_button.setText(tr("admin_send"))
