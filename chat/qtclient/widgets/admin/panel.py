"""The admin panel itself: its pages in tabs, the status line, and locking when unattended.

Every action goes through the session (``session.request`` for the admin requests of
docs/PROTOCOL.md "Administration", ``send_file``, ``rooms``, ``members``); the panel never
touches the network itself. A failed request is shown in the panel's status line, never
raised: every public action returns a Deferred that fires (with None on failure) once its
outcome is on screen, which is also what the tests wait for.

An admin's unattended screen is a way into everybody's accounts, so the panel locks itself
after ``settings.lock_minutes`` without a key press or mouse click inside it, and asks for
the admin's password again. The password is checked against a
:class:`chat.qtclient.lock.PasswordCheck` (a salted digest; the panel never sees the
password of the login).
"""

import time

from PyQt6 import sip
from PyQt6.QtCore import QEvent, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QApplication, QHBoxLayout, QLabel, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout,
    QWidget)
from twisted.internet import defer

from .files import FilesTab
from .lock_screen import LockScreen
from .monitor import MonitorTab
from .notices import NoticeTab
from .rooms import RoomsTab
from .sessions import SessionsTab
from .styles import ERROR_STYLE, OK_STYLE, set_bold
from .wording import describe_error

IDLE_CHECK_MS = 5000
"""How often the idle time is compared with the lock delay."""
PRESENCE_REFRESH_MS = 500
"""A burst of presence events refreshes the online list once, this long after the first."""

# what counts as the admin using the panel: not mere repaints or a pointer passing over it
_ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                       QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel})


class AdminPanel(QWidget):
    """See the module docstring. ``clock`` (seconds, monotonic) is injectable for tests.

    ``lockChanged(locked)`` tells the app when the panel locks or unlocks.
    """

    lockChanged = pyqtSignal(bool)

    def __init__(self, session, translator, settings, parent=None, clock=time.monotonic):
        super().__init__(parent)
        self.session = session
        self.translator = translator
        self.settings = settings
        self.clock = clock
        self._check = None
        self._locked = False
        self._last_activity = clock()

        self.title = QLabel()
        set_bold(self.title, 1.2)
        self.lock_button = QPushButton()
        self.lock_button.clicked.connect(self.lock_now)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.lock_button)

        self.sessions_tab = SessionsTab(self)
        self.rooms_tab = RoomsTab(self)
        self.notice_tab = NoticeTab(self)
        self.files_tab = FilesTab(self)
        self.monitor_tab = MonitorTab(self)
        self.tabs = QTabWidget()
        for tab in (self.sessions_tab, self.rooms_tab, self.notice_tab, self.files_tab,
                    self.monitor_tab):
            self.tabs.addTab(tab, "")
        self.status = QLabel()
        self._status = ("", False)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.content = QWidget()
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.status)
        self.lock_screen = LockScreen(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.lock_screen)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.resize(860, 600)

        # a burst of presence events (users coming back after a restart) refreshes once
        self._presence_timer = QTimer(self)
        self._presence_timer.setSingleShot(True)
        self._presence_timer.setInterval(PRESENCE_REFRESH_MS)
        self._presence_timer.timeout.connect(self._presence_refresh)
        # bound methods, not lambdas: Qt drops those connections when the panel is deleted,
        # while the session lives on
        session.presenceChanged.connect(self._presence_changed)
        session.loggedIn.connect(self._logged_in)
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_CHECK_MS)
        self._idle_timer.timeout.connect(self.check_idle)
        self._idle_timer.start()
        # the panel's children get the clicks and keys, so the filter sits on the application
        # and keeps those aimed at a widget inside the panel
        QApplication.instance().installEventFilter(self)

        translator.languageChanged.connect(self.retranslate)
        self.retranslate()
        if session.is_online:
            self.refresh()

    # ------------------------------------------------------------------ running requests
    def run(self, d, done):
        """``done(result)`` once ``d`` fires; a failure is shown, not raised (fires None).
        An answer that comes after the panel was closed (its widgets deleted) is dropped."""
        def succeeded(result):
            return None if sip.isdeleted(self.status) else done(result)

        def failed(failure):
            exc = failure.value              # not the Failure: its traceback would stay alive
            if not sip.isdeleted(self.status):
                self.report(lambda: describe_error(self.translator, exc), error=True)
            return None
        return d.addCallbacks(succeeded, failed)

    def report(self, text, error: bool = False) -> None:
        """Show the outcome of the last action in the status line: ``text()`` gives it in
        the current language (asked again on a language switch); a plain string is shown
        as it is."""
        self._status = (text, error)
        self._render_status()

    def _render_status(self) -> None:
        text, error = self._status
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.status.setText(text() if callable(text) else text)

    # ------------------------------------------------------------------ actions
    def refresh(self):
        """Refresh the online users and the rooms; a Deferred fired once both are shown."""
        return defer.gatherResults([self.sessions_tab.refresh(), self.rooms_tab.refresh()])

    def _presence_changed(self, event: dict) -> None:
        if not self._presence_timer.isActive():
            self._presence_timer.start()

    def _logged_in(self, data: dict, first: bool) -> None:
        self.refresh()

    def _presence_refresh(self) -> None:
        if not self._locked and self.session.is_online:
            self.sessions_tab.refresh()

    def refresh_sessions(self):
        return self.sessions_tab.refresh()

    def show_user(self, name: str):
        return self.sessions_tab.show_user(name)

    def kick(self, user: str, reason: str = ""):
        return self.sessions_tab.kick(user, reason)

    def ban(self, user: str, reason: str = ""):
        return self.sessions_tab.ban(user, reason)

    def unban(self, user: str):
        return self.sessions_tab.unban(user)

    def refresh_rooms(self):
        return self.rooms_tab.refresh()

    def load_members(self, room: str):
        return self.rooms_tab.load_members(room)

    def send_notice(self, text: str, to: str = None):
        return self.notice_tab.send(text, to)

    def send_file(self, path: str, target: str = "@all"):
        return self.files_tab.send(path, target)

    def set_monitoring(self, on: bool):
        return self.monitor_tab.set_monitoring(on)

    # ------------------------------------------------------------------ locking
    def set_password_check(self, check) -> None:
        """The :class:`chat.qtclient.lock.PasswordCheck` made from the login's password."""
        self._check = check
        self.lock_screen.password.setEnabled(check is not None)

    @property
    def is_locked(self) -> bool:
        return self._locked

    def lock_now(self) -> None:
        """Cover the panel until the admin's password is typed again."""
        if self._locked:
            return
        self._locked = True
        self.lock_screen.reset()
        if self._check is None:
            # without a check nothing can unlock: say so instead of waiting for a password
            self.lock_screen.show_error("admin_lock_no_check")
        self.stack.setCurrentWidget(self.lock_screen)
        self.lock_screen.password.setFocus()
        self.lockChanged.emit(True)

    def unlock(self, password: str) -> bool:
        """Unlock if ``password`` is the admin's; else say it is wrong and stay locked."""
        if not self._locked:
            return True
        screen = self.lock_screen
        screen.password.clear()
        if self._check is None:
            screen.show_error("admin_lock_no_check")
            return False
        if not self._check.check(password):
            screen.show_error("admin_wrong_password")
            return False
        self._locked = False
        self._last_activity = self.clock()
        screen.reset()
        self.stack.setCurrentWidget(self.content)
        self.lockChanged.emit(False)
        return True

    def check_idle(self) -> bool:
        """Lock if the panel was not used for ``settings.lock_minutes``; True if it locked."""
        if self._locked:
            return False
        # read each time: the settings dialog may have changed it since
        if self.clock() - self._last_activity >= self.settings.lock_minutes * 60:
            self.lock_now()
            return True
        return False

    def note_activity(self) -> None:
        """The admin used the panel now (what the event filter records)."""
        self._last_activity = self.clock()

    def eventFilter(self, obj, event) -> bool:
        if (event.type() in _ACTIVITY and not self._locked and isinstance(obj, QWidget)
                and (obj is self or self.isAncestorOf(obj))):
            self.note_activity()
        return False

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        """Re-read every text in the translator's language (on ``languageChanged``)."""
        tr = self.translator.tr
        self.setWindowTitle(tr("admin_title"))
        self.title.setText(tr("admin_title"))
        self.lock_button.setText(tr("admin_lock_now"))
        for index, key in enumerate(("admin_tab_sessions", "admin_tab_rooms",
                                     "admin_tab_notices", "admin_tab_files",
                                     "admin_tab_monitor")):
            self.tabs.setTabText(index, tr(key))
        for tab in (self.sessions_tab, self.rooms_tab, self.notice_tab, self.files_tab,
                    self.monitor_tab, self.lock_screen):
            tab.retranslate()
        self._render_status()
