"""Defect 7 of issue 14: every string a user can see in the Chinese UI is Chinese.

Two desktop clients (root, an admin, and bob) in Chinese against a real server; the test
walks every window and dialog (login, its errors "connection refused" and a wrong password,
main window in a room, a private chat and a refused message, emoji and sticker panels,
history and its confirmation, settings, admin panel and its lock screen with a wrong
password, image viewer, the new-room question, the error box, the file dialog, the text
fields' context menus) and reads every text off the widgets (tests/qt/visible_text.py). Any
English word fails the test, named with the widget it was found in.
"""

import os

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QColor, QImage
from PyQt6.QtWidgets import QApplication, QFileDialog

from chat.qtclient.app import ChatApp
from chat.qtclient.settings import Settings
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred
from tests.qt.visible_text import english_in_window, english_words, widget_texts
from tests.support.server_process import free_port


def make_app(tmp_dir, name, port, lang="zh"):
    settings = Settings(os.path.join(tmp_dir, f"{name}.ini"))
    settings.language = lang
    settings.host, settings.port = "127.0.0.1", port
    settings.download_dir = os.path.join(tmp_dir, f"downloads-{name}")
    app = ChatApp(qt_reactor(), settings, ask_language=False,
                  image_dir=os.path.join(tmp_dir, f"images-{name}"))
    app.start()
    return app


def submit(qtbot, app, name, password=PASSWORD, register=True, port=None):
    login = app.login
    if port is not None:
        login.port.setText(str(port))
    login.user.setText(name)
    login.password.setText(password)
    login.register.setChecked(register)
    if register:
        login.password2.setText(password)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)


def log_in(qtbot, app, name):
    submit(qtbot, app, name)
    qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: app.state.current == "#lobby", timeout=5000)
    app.state.set_active(True)
    return app.main


class Findings:
    """English found, by window; the test fails listing all of it at once."""

    def __init__(self):
        self.found = []
        self.windows = []

    def walk(self, label, widget, translator=None):
        texts = widget_texts(widget, translator)
        assert texts, f"{label}: no texts read (the walk is broken)"
        self.windows.append(label)
        for where, text, words in english_in_window(widget, translator):
            self.found.append(f"{label} / {where}: {text!r} {words}")

    def walk_modal(self, qtbot, label, open_it):
        """Open a modal dialog with ``open_it()``, walk it once shown, then close it."""
        walked = []

        def look():
            dialog = QApplication.activeModalWidget()
            if dialog is None or not dialog.isVisible():
                QTimer.singleShot(20, look)
                return
            self.walk(label, dialog)
            walked.append(dialog)
            dialog.reject()
        QTimer.singleShot(0, look)
        open_it()
        qtbot.waitUntil(lambda: bool(walked), timeout=5000)


def close(*apps):
    for app in apps:
        if app.session is not None:
            app.session.close()
        if app.main is not None:
            app.main.close()
        app.login.close()


def test_every_window_in_chinese_shows_no_english(qtbot, server, tmp_dir):
    f = Findings()
    root = make_app(tmp_dir, "root", server.port)
    bob = make_app(tmp_dir, "bob", server.port)
    stranger = make_app(tmp_dir, "carol", free_port())
    try:
        # the login window: empty, registering, and its errors
        f.walk("login", root.login)
        root.login.register.setChecked(True)
        f.walk("login (register)", root.login)
        root.login.register.setChecked(False)
        submit(qtbot, stranger, "carol", register=False)
        qtbot.waitUntil(lambda: stranger.login.error.isVisible()
                        and not stranger.login.busy, timeout=10000)
        assert "连接被拒绝" in stranger.login.error.text()
        f.walk("login (connection refused)", stranger.login)
        stranger.login.port.setText(str(server.port))
        submit(qtbot, stranger, "carol", password="wrong password", register=False)
        qtbot.waitUntil(lambda: stranger.login.error.isVisible()
                        and not stranger.login.busy, timeout=10000)
        f.walk("login (wrong password)", stranger.login)

        main = log_in(qtbot, root, "root")
        b_main = log_in(qtbot, bob, "bob")
        b_state, state = bob.state, root.state
        b_state.send("大家好")
        photo = os.path.join(tmp_dir, "photo.png")
        image = QImage(200, 120, QImage.Format.Format_RGB32)
        image.fill(QColor("#3e63dd"))
        image.save(photo)
        notes = os.path.join(tmp_dir, "notes.bin")
        with open(notes, "wb") as out:
            out.write(os.urandom(50000))
        bob.session.send_file("#lobby", photo)
        bob.session.send_file("#lobby", notes)
        qtbot.waitUntil(lambda: any(i.is_image and i.transfer is not None
                                    and i.transfer.state.value == "done"
                                    for i in state.log("#lobby").items), timeout=10000)
        qtbot.waitUntil(lambda: any(i.file and i.file["name"] == "notes.bin"
                                    for i in state.log("#lobby").items), timeout=10000)
        state.send("收到")
        qtbot.waitUntil(lambda: all(i.msg_id for i in state.log("#lobby").items if i.own),
                        timeout=5000)
        main.view.scrollToBottom()
        f.walk("main window (room)", main, root.translator)

        # a private chat with a burning message and read marks; a refused message
        b_state.send("悄悄话", conv="@root", burn=300)
        qtbot.waitUntil(lambda: "悄悄话" in [i.text for i in state.log("@root").items]
                        or "悄悄话" in [i.text for i in state.log("@bob").items],
                        timeout=5000)
        state.select("@bob")
        state.send("好的")
        b_state.select("@root")
        qtbot.waitUntil(lambda: any(i.read_by_peer for i in state.log("@bob").items),
                        timeout=5000)
        f.walk("main window (private)", main, root.translator)
        # notifications and the tray icon's tool tip
        notes = [text for pair in root.notifier.shown for text in pair]
        for text in notes + [root.notifier.tooltip]:
            if english_words(text):
                f.found.append(f"notification: {text!r}")
        state.select("@路人甲")
        state.send("有人吗")
        qtbot.waitUntil(lambda: any(i.error for i in state.log("@路人甲").items),
                        timeout=5000)
        f.walk("main window (refused message)", main, root.translator)
        state.select("#lobby")

        # the emoji picker and the sticker panel
        main.input.open_emoji()
        f.walk("emoji picker", main.input.picker)
        main.input.picker.hide()
        main.input.open_stickers()
        f.walk("sticker panel", main.input.sticker_panel)
        main.input.sticker_panel.hide()

        # history, and its question before clearing
        root.open_history("#lobby")
        history = root.history_windows["#lobby"]
        qtbot.waitUntil(lambda: history.loaded, timeout=5000)
        f.walk("history", history)
        f.walk_modal(qtbot, "history (clear?)", history.confirm_clear)
        history.hide()

        # settings (an admin's), the admin panel and its lock screen
        root.open_settings_later = None
        from chat.qtclient.widgets.settings_dialog import SettingsDialog
        dialog = SettingsDialog(root.translator, root.settings, main, admin=True)
        dialog.show()
        f.walk("settings", dialog)
        dialog.close()
        root.open_admin()
        panel = root.admin_panel
        if panel.is_locked:
            assert panel.unlock(PASSWORD)
        qtbot.waitUntil(lambda: bool(panel.sessions.rowCount()
                                     if hasattr(panel, "sessions") and
                                     hasattr(panel.sessions, "rowCount") else True),
                        timeout=5000)
        f.walk("admin panel", panel)
        panel.lock_now()
        assert not panel.unlock("not the password")
        f.walk("admin panel (locked, wrong password)", panel)
        assert panel.unlock(PASSWORD)
        panel.hide()

        # the image viewer, the new-room question, an error box, the file dialog
        from chat.qtclient.widgets.messages import show_image
        viewer = show_image(main, photo)
        f.walk("image viewer", viewer)
        viewer.close()
        f.walk_modal(qtbot, "new room", main._new_room)

        from twisted.python.failure import Failure
        from chat.client.connection import RequestFailed
        f.walk_modal(qtbot, "error box", lambda: main._show_error(
            Failure(RequestFailed("forbidden", "only admins may do that"))))
        files = QFileDialog(main, root.translator.tr("input_choose_files"))
        files.setOption(QFileDialog.Option.DontUseNativeDialog)
        files.show()
        f.walk("file dialog", files)
        files.close()
    finally:
        close(root, bob, stranger)
    assert len(f.windows) >= 15, f.windows
    assert not f.found, "English in the Chinese UI:\n" + "\n".join(f.found)


def test_the_walk_finds_english():
    """The detector itself: English words are found, names and units are not."""
    assert english_words("Wrong password.") == ["Wrong", "password"]
    assert english_words("连接被拒绝 (connection refused)") == ["connection", "refused"]
    assert english_words("alice: 你好 notes.bin 3.2 MiB SHA-256") == []
    assert english_words("已连接到 vm") == []
