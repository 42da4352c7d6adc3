"""The panel's "monitor" page: a live copy of every new message, where the server allows it."""

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QListWidget, QPushButton, QStackedWidget, QVBoxLayout,
    QWidget)

from chat.cli.format import human_size
from chat.protocol import commands as C

from .styles import ERROR_STYLE
from .tab import Tab
from .wording import local_time

MONITOR_KEEP = 2000
"""Monitor lines kept on screen; older ones scroll away for good."""


class MonitorTab(Tab):
    """The live copy of every new message (only where the server allows it)."""

    def __init__(self, panel):
        super().__init__(panel)
        self.wanted = False                    # the admin turned it on (kept over reconnects)
        self.events: list[dict] = []           # the monitored messages shown, oldest first
        self.pages = QStackedWidget()

        allowed = QWidget()
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.toggle = QCheckBox()
        self.toggle.toggled.connect(self._toggled)
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.clear)
        self.paused = QLabel()
        self.paused.setWordWrap(True)
        self.paused.setStyleSheet(ERROR_STYLE)
        self.paused.hide()
        row = QHBoxLayout()
        row.addWidget(self.toggle, 1)
        row.addWidget(self.clear_button)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        column = QVBoxLayout(allowed)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.warning)
        column.addLayout(row)
        column.addWidget(self.paused)
        column.addWidget(self.list, 1)

        self.forbidden = QLabel()
        self.forbidden.setWordWrap(True)
        self.forbidden.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.forbidden.setMargin(12)
        self.pages.addWidget(allowed)
        self.pages.addWidget(self.forbidden)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        self.session.monitorEvent.connect(self._event)
        self.session.stateChanged.connect(self._link)
        self.session.loggedIn.connect(self._logged_in)
        self._show_policy()

    @property
    def allowed(self) -> bool:
        """Whether the server allows monitoring (``policy.monitoring`` of its hello)."""
        if self.session.client is None:          # not logged in yet: nothing is known
            return False
        return bool(self.session.model.policy.get("monitoring"))

    def _show_policy(self) -> None:
        self.pages.setCurrentIndex(0 if self.allowed else 1)

    def set_monitoring(self, on: bool):
        """Ask the server to start (or stop) the copies; a Deferred fired once the answer is
        shown. On failure the switch goes back."""
        self.wanted = on
        self._set_toggle(on)

        def done(data):
            self.paused.hide()
            self.panel.report(lambda: self.translator.tr("monitor_on" if on else "monitor_off"))
            return data

        def failed(failure):
            self.wanted = not on
            self._set_toggle(not on)
            return failure
        d = self.session.request(C.Monitor(on=on))
        d.addErrback(failed)
        return self.panel.run(d, done)

    def _set_toggle(self, on: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        self.set_monitoring(on)

    def _link(self, state: str, reason: str, retry_in: float) -> None:
        # the server ends monitoring with the connection; say so until it is back on
        if state != "online" and self.wanted:
            self.paused.show()

    def _logged_in(self, data: dict, first: bool) -> None:
        self._show_policy()
        if self.wanted and not first:
            self.set_monitoring(True)

    def _event(self, event: dict) -> None:
        msg = event.get("msg", {})
        self.events.append(msg)
        self.list.addItem(self.line(msg))
        if self.list.count() > MONITOR_KEEP:
            self.list.takeItem(0)
            del self.events[0]
        self.list.scrollToBottom()

    def line(self, msg: dict) -> str:
        """``[12:00:00] bob -> @carol: text`` for a monitored message."""
        tr = self.translator.tr
        if msg.get("file"):
            f = msg["file"]
            text = tr("admin_monitor_file", name=f.get("name", ""), size=human_size(f.get("size")))
        else:
            text = msg.get("text", "")
            if msg.get("burn"):
                text += "  " + tr("burn_marker", seconds=f"{msg['burn']:g}")
        # one line per message: a newline in the text must not fake a line of its own
        text = " ".join(text.splitlines())
        return tr("admin_monitor_line", time=local_time(msg.get("ts"), "%H:%M:%S"),
                  sender=msg.get("from", ""), to=msg.get("to") or msg.get("conv", ""),
                  text=text)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def clear(self) -> None:
        self.list.clear()
        self.events.clear()

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.warning.setText(tr("admin_monitor_warning"))
        self.toggle.setText(tr("admin_monitor_toggle"))
        self.clear_button.setText(tr("admin_monitor_clear"))
        self.paused.setText(tr("admin_monitor_paused"))
        self.forbidden.setText(tr("admin_monitor_forbidden"))
        for i, msg in enumerate(self.events):
            self.list.item(i).setText(self.line(msg))
