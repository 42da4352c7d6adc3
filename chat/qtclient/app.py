"""The desktop application: which window shows when, from first start to logout.

First start asks for the language (then remembered); the login window comes next; a
successful login opens the main window with a fresh :class:`ChatState`; logging out (or a
refusal for good: kicked, banned) goes back to the login window. Notifications, settings,
history and the admin panel are opened from here so that the main window stays a view.
"""

import os

from PyQt6.QtCore import QEvent, QObject, QStandardPaths, QTimer
from PyQt6.QtWidgets import QApplication

from chat.qtclient import icon as app_icon, theme
from chat.qtclient.errors import describe_bye, describe_reason
from chat.qtclient.i18n import Translator, use_qt_translation
from chat.qtclient.settings import Settings
from chat.qtclient.widgets.language import LanguageDialog
from chat.qtclient.widgets.login import LoginWindow, describe_login_error
# The session (the client core, Twisted's TCP and TLS), the main window and what it holds
# are imported when first needed, not here: the login window shows without them, sooner
# (bench/qt_startup.py), and main() installs the reactor once that window is up.


class _FirstPaint(QObject):
    """Calls back once, in the loop's next turn after ``widget`` is first painted."""

    def __init__(self, widget, callback):
        super().__init__(widget)
        self.callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.callback is not None:
            callback, self.callback = self.callback, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, callback)
        return False


class ChatApp(QObject):
    """Owns the windows, the session and the settings of one running client."""

    def __init__(self, reactor, settings: Settings = None, ask_language: bool = True,
                 image_dir: str = None, parent=None):
        """``reactor`` is the Qt reactor, or a function that installs and returns it (called
        when the first login needs it, or by :meth:`ensure_reactor`)."""
        super().__init__(parent)
        self._reactor = reactor
        self.settings = settings or Settings()
        app_icon.install(QApplication.instance())      # taskbar, windows and tray
        theme.apply(self.settings.theme)                # before any window is made
        self.translator = Translator(self.settings.language)
        self.image_dir = image_dir or os.path.join(
            QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
            or os.path.expanduser("~/.cache/chat-qt"), "images")
        self.session = None
        self.state = None
        self.main = None
        self.notifier = None
        self.history_windows = {}
        self.admin_panel = None
        self.password_check = None
        if ask_language and self.settings.language is None:
            # no window exists yet: the dialog has no parent; it preselects the language the
            # translator took from the system locale
            self.language_dialog = LanguageDialog(preselected=self.translator.lang)
            if self.language_dialog.exec():
                self.translator.set_language(self.language_dialog.chosen)
            self.language_dialog.deleteLater()
            self.language_dialog = None
        if self.settings.language is None:
            self.settings.language = self.translator.lang
        use_qt_translation(self.translator.lang)      # Qt's own buttons and menus too
        self.translator.languageChanged.connect(self._language_changed)
        self.login = LoginWindow(self.translator, self.settings)
        self.login.submitted.connect(self._submit)

    def start(self) -> None:
        self.login.show()

    @property
    def reactor(self):
        if callable(self._reactor) and not hasattr(self._reactor, "callLater"):
            self._reactor = self._reactor()
        return self._reactor

    def after_first_paint(self, callback, at_latest_ms: int = 1000) -> None:
        """Call ``callback`` once the login window has been painted (the user sees it), or
        after ``at_latest_ms`` if it never is (a minimised start)."""
        _FirstPaint(self.login, callback)
        QTimer.singleShot(at_latest_ms, callback)

    def ensure_reactor(self) -> None:
        """Install the reactor now (main() calls it once the login window is up) and load
        what a login needs, so that the first submit does not wait for it."""
        self.reactor
        from chat.qtclient import session, state  # noqa: F401

    def _language_changed(self, lang: str) -> None:
        self.settings.language = lang
        use_qt_translation(lang)

    # ------------------------------------------------------------------ login
    def _submit(self, host, port, user, password, register, avatar) -> None:
        self.login.set_busy(True)
        from chat.qtclient.session import Session
        session = Session(self.reactor)
        tls = self.login.tls_options()
        kwargs = {"guest": True} if self.login.guest_mode else {}
        d = session.login(host, port, user, password, register=register, avatar=avatar,
                          tls=tls, servers=self.login.servers() or None, **kwargs)
        d.addCallbacks(self._logged_in, self._login_failed, callbackArgs=(session, password),
                       errbackArgs=(session, host, port))

    def _login_failed(self, failure, session, host, port) -> None:
        session.close()
        self.login.set_busy(False)
        self.login.show_error(describe_login_error(self.translator, failure.value, host, port))

    def _logged_in(self, data, session, password) -> None:
        from chat.qtclient.lock import PasswordCheck
        from chat.qtclient.state import ChatState
        from chat.qtclient.widgets.main_window import MainWindow
        from chat.qtclient.widgets.notifier import Notifier
        self.login.set_busy(False)
        self.session = session
        self.password_check = PasswordCheck(password)
        os.makedirs(self.image_dir, exist_ok=True)
        self.state = ChatState(session, self.translator, self.settings, image_dir=self.image_dir)
        self.main = MainWindow(self.state, self.translator, self.settings)
        self.notifier = Notifier(self.translator, self.settings, self.main,
                                 icon=app_icon.app_icon())
        self.notifier.activated.connect(self._notification_clicked)
        self.state.incoming.connect(self._incoming)
        self.state.unreadChanged.connect(self.notifier.set_unread)
        self.main.logoutRequested.connect(self.logout)
        self.main.quitRequested.connect(self.quit)
        self.main.settingsRequested.connect(self.open_settings)
        self.main.historyRequested.connect(self.open_history)
        self.main.adminRequested.connect(self.open_admin)
        session.stateChanged.connect(self._link_state)
        session.byeReceived.connect(self._thrown_out)
        # the login reply came before the state existed: replay it
        self.state.logged_in(data, True)
        self.login.hide()
        self.main.show()
        self.main.activateWindow()

    def _link_state(self, state: str, reason: str, retry_in: float) -> None:
        # the client core gave up for good (not the user's choice): back to the login window
        if state == "offline" and self.session is not None and self.session.client.gave_up \
                and self.main is not None and reason != "logged out" and reason != "closed":
            session = self.session
            self._close_windows()
            session.close()
            self.login.reset_after_logout(describe_reason(self.translator.tr, reason))
            self.login.show()

    def _incoming(self, conv: str, msg: dict) -> None:
        text = msg.get("text") or (msg.get("file") or {}).get("name", "")
        self.notifier.message(conv, msg.get("from", ""), text)

    def _notification_clicked(self, conv: str) -> None:
        self.main.showNormal()
        self.main.raise_()
        self.main.activateWindow()
        self.state.select(conv)

    # ------------------------------------------------------------------ other windows
    def open_settings(self) -> None:
        from chat.qtclient.widgets.settings_dialog import SettingsDialog
        # an admin also sets the admin panel's lock delay there
        self.settings_dialog = SettingsDialog(self.translator, self.settings, self.main,
                                              admin=bool(self.session and self.session.is_admin))
        try:
            self.settings_dialog.exec()
        finally:
            self.settings_dialog.deleteLater()
            self.settings_dialog = None

    def open_history(self, conv: str) -> None:
        from chat.qtclient.widgets.history import HistoryWindow
        window = self.history_windows.get(conv.casefold())
        if window is None:
            window = HistoryWindow(self.state, conv, self.translator, self.main)
            window.messageChosen.connect(self.show_message)
            self.history_windows[conv.casefold()] = window
        window.show()
        window.raise_()

    def show_message(self, conv: str, msg_id: int):
        """Show message ``msg_id`` of ``conv`` in the main window, highlighted (a history
        result chosen); older pages are loaded until it is there. Fires with its row."""
        if self.main is None:
            return None
        main, state = self.main, self.state
        main.showNormal()
        main.raise_()
        main.activateWindow()

        def found(row):
            if row >= 0 and self.main is main and state.current.casefold() == conv.casefold():
                main.view.highlight(row)
            return row
        return state.reveal(conv, msg_id).addCallback(found)

    def open_admin(self) -> None:
        if not self.session.is_admin:
            return
        if self.admin_panel is None:
            from chat.qtclient.widgets.admin import AdminPanel
            self.admin_panel = AdminPanel(self.session, self.translator, self.settings)
            self.admin_panel.set_password_check(self.password_check)
        self.admin_panel.show()
        self.admin_panel.raise_()

    # ------------------------------------------------------------------ the end
    def logout(self) -> None:
        if self.session is not None:
            self.session.logout()
        self._close_windows()
        self.login.reset_after_logout()
        self.login.show()

    def _thrown_out(self, code: str, message: str) -> None:
        """Kicked or banned by an admin: the main window goes, the login window says why."""
        if code not in ("kicked", "banned") or self.main is None:
            return
        session = self.session
        self._close_windows()
        if session is not None:
            session.close()
        self.login.reset_after_logout(describe_bye(self.translator, code, message))
        self.login.show()
        self.login.raise_()
        self.login.activateWindow()

    def _close_windows(self) -> None:
        if self.state is not None:
            # the old session's last events (a logout's presence, unread counts) would still
            # reach the main window's slots after it is deleted: the old state falls silent
            self.state.blockSignals(True)
        for window in list(self.history_windows.values()) + [self.admin_panel, self.main]:
            if window is not None:
                window.close()
                window.deleteLater()
        self.history_windows = {}
        self.admin_panel = None
        self.main = None
        self.state = None
        self.session = None
        self.password_check = None

    def quit(self) -> None:
        if self.session is not None:
            self.session.close()
        QApplication.instance().quit()
