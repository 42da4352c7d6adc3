"""The whole desktop client against a real server: two ChatApp instances (alice and bob) log in
through their login windows, talk in a room and privately through the input bar, and the
tests look at the windows: unread badges, title, status bar, files, images, privacy mode,
language switch, and a reconnect after the server restarts."""

import hashlib
import os

from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QColor, QImage

from chat.qtclient.app import ChatApp
from chat.qtclient.models import Delivery
from chat.qtclient.settings import Settings
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred


def make_app(tmp_dir, name, port, lang="en"):
    settings = Settings(os.path.join(tmp_dir, f"{name}.ini"))
    settings.language = lang
    settings.host, settings.port = "127.0.0.1", port
    settings.download_dir = os.path.join(tmp_dir, f"downloads-{name}")
    app = ChatApp(qt_reactor(), settings, ask_language=False,
                  image_dir=os.path.join(tmp_dir, f"images-{name}"))
    app.start()
    return app


def log_in(qtbot, app, name, register=True):
    window = app.login
    window.user.setText(name)
    window.password.setText(PASSWORD)
    if register:
        window.register.setChecked(True)
        window.password2.setText(PASSWORD)
    qtbot.keyClick(window.password, Qt.Key.Key_Return)        # Enter submits
    qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=10000)
    qtbot.waitUntil(lambda: app.state.current == "#lobby", timeout=5000)
    app.state.set_active(True)
    return app.main


def type_and_send(qtbot, main, text):
    main.input.editor.setPlainText(text)
    qtbot.keyClick(main.input.editor, Qt.Key.Key_Return)


def texts(state, conv):
    return [i.text for i in state.log(conv).items]


def close(*apps):
    for app in apps:
        if app.session is not None:
            app.session.close()
        if app.main is not None:
            app.main.close()
        app.login.close()


def test_login_room_private_unread_and_title(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        assert "Connected to" in a_main.link_text()
        assert not alice.login.isVisible()
        type_and_send(qtbot, a_main, "hello everyone 你好 👋")
        assert a_main.input.editor.toPlainText() == ""            # the input was sent
        qtbot.waitUntil(lambda: "hello everyone 你好 👋" in texts(bob.state, "#lobby"),
                        timeout=5000)
        mine = [i for i in alice.state.log("#lobby").items if i.own][-1]
        qtbot.waitUntil(lambda: mine.delivery is Delivery.STORED, timeout=5000)
        # Shift+Enter is a new line, not a send
        b_main.input.editor.setPlainText("line one")
        qtbot.keyClick(b_main.input.editor, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ShiftModifier)
        assert "line one" in b_main.input.editor.toPlainText()
        assert b_main.input.editor.toPlainText() != "line one"
        b_main.input.editor.clear()
        # bob looks at the lobby; alice writes privately: badge, title and notification
        a_main.activateWindow()                       # alice's window has the focus now
        qtbot.waitUntil(lambda: not b_main.isActiveWindow(), timeout=3000)
        assert bob.state.active is False
        alice.state.select("@bob")
        assert a_main.header.text().count("bob") == 1
        type_and_send(qtbot, a_main, "a secret for bob")
        qtbot.waitUntil(lambda: bob.state.conversations.get("@alice") is not None
                        and bob.state.conversations.get("@alice").unread == 1, timeout=5000)
        assert b_main.windowTitle().startswith("(1)")
        assert bob.notifier.shown and "alice" in " ".join(bob.notifier.shown[-1])
        # bob opens the private chat: badge gone, alice sees the read mark
        b_main.activateWindow()
        qtbot.waitUntil(lambda: bob.state.active, timeout=3000)
        bob.state.select("@alice")
        assert bob.state.conversations.get("@alice").unread == 0
        assert not b_main.windowTitle().startswith("(")
        secret = [i for i in alice.state.log("@bob").items if i.text == "a secret for bob"][0]
        qtbot.waitUntil(lambda: secret.read_by_peer, timeout=5000)
        assert [i.private for i in bob.state.log("@alice").items] == [True]
    finally:
        close(alice, bob)


def test_file_with_progress_and_image_inline(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        data = os.urandom(3 * 1024 * 1024 + 17)
        path = os.path.join(tmp_dir, "notes.bin")
        with open(path, "wb") as f:
            f.write(data)
        percents = []
        alice.session.transferChanged.connect(lambda t: percents.append(t.percent))
        a_main.input.sendFiles.emit([path])           # what the file button and a drop emit
        qtbot.waitUntil(lambda: any(i.file and i.file["name"] == "notes.bin"
                                    for i in bob.state.log("#lobby").items), timeout=10000)
        # alice's last progress report comes with the server's reply to her upload, which
        # may arrive a moment after bob got the message: wait for it rather than race it
        qtbot.waitUntil(lambda: bool(percents) and percents[-1] == 100.0, timeout=5000)
        item = [i for i in bob.state.log("#lobby").items if i.file][0]
        row = bob.state.log("#lobby").row_of_id(item.msg_id)
        b_main.view.scrollToBottom()
        download = b_main.view.action_rect(row, "download")
        assert download is not None                    # the card offers a download
        qtbot.mouseClick(b_main.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=download.center())
        qtbot.waitUntil(lambda: item.transfer is not None
                        and item.transfer.state.value == "done", timeout=15000)
        with open(item.transfer.path, "rb") as f:
            assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()
        assert b_main.view.action_rect(row, "open") is not None
        # an image is fetched at once and drawn inline
        image_path = os.path.join(tmp_dir, "photo.png")
        image = QImage(320, 200, QImage.Format.Format_RGB32)
        image.fill(QColor("#3e63dd"))
        image.save(image_path)
        a_main.input.sendFiles.emit([image_path])
        qtbot.waitUntil(lambda: any(i.is_image and i.transfer is not None
                                    and i.transfer.state.value == "done"
                                    for i in bob.state.log("#lobby").items), timeout=10000)
        picture = [i for i in bob.state.log("#lobby").items if i.is_image][0]
        row = bob.state.log("#lobby").row_of_id(picture.msg_id)
        b_main.view.scrollToBottom()
        qtbot.waitUntil(lambda: (b_main.view.action_rect(row, "image") or QRect()).height()
                        > 50, timeout=5000)                   # laid out, on the screen
        rect = b_main.view.action_rect(row, "image")
        grabbed = b_main.view.viewport().grab().toImage()
        centre = grabbed.pixelColor(rect.center())
        assert centre.blue() > 150 and centre.red() < 120    # the picture itself is painted
        opened = []
        b_main.view.imageClicked.disconnect()            # not the full-size window here
        b_main.view.imageClicked.connect(opened.append)
        qtbot.mouseClick(b_main.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert opened == [picture.transfer.path]
    finally:
        close(alice, bob)


def test_privacy_mode_message_vanishes_on_both_sides(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        alice.state.select("@bob")
        a_main.input.set_burn_seconds(1)
        a_main.input.burn_button.setChecked(True)           # the privacy toggle
        type_and_send(qtbot, a_main, "this burns")
        qtbot.waitUntil(lambda: "this burns" in texts(bob.state, "@alice"), timeout=5000)
        burning = [i for i in bob.state.log("@alice").items if i.text == "this burns"][0]
        assert burning.burn == 1
        bob.state.select("@alice")                          # bob reads it: countdown
        assert burning.burn_at is not None
        shown = b_main.view.model()
        assert shown is bob.state.log("@alice") and shown.rowCount() == 1
        qtbot.waitUntil(lambda: "this burns" not in texts(bob.state, "@alice"), timeout=8000)
        assert shown.rowCount() == 0                         # gone from bob's window
        qtbot.waitUntil(lambda: "this burns" not in texts(alice.state, "@bob"), timeout=8000)
    finally:
        close(alice, bob)


def test_language_switch_changes_visible_text(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    try:
        main = log_in(qtbot, alice, "alice")
        assert "Connected" in main.link_text()
        english_menu = main.menu.title()
        english_placeholder = main.input.editor.placeholder()
        alice.translator.set_language("zh")
        assert "已连接" in main.link_text()
        assert main.menu.title() != english_menu
        assert alice.settings.language == "zh"             # remembered
        chinese_placeholder = main.input.editor.placeholder()
        assert chinese_placeholder != english_placeholder
        assert "#lobby" in chinese_placeholder and "消息" in chinese_placeholder
    finally:
        close(alice)


def test_reconnect_after_server_restart_delivers_the_queued_message(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        wait_deferred(qtbot, server.stop(), timeout=30000)
        qtbot.waitUntil(lambda: alice.session.state == "reconnecting", timeout=10000)
        assert "Reconnecting in" in a_main.link_text()
        type_and_send(qtbot, a_main, "typed while offline")
        pending = [i for i in alice.state.log("#lobby").items if i.text == "typed while offline"]
        assert pending and pending[0].delivery is Delivery.PENDING
        wait_deferred(qtbot, server.start(), timeout=30000)
        qtbot.waitUntil(lambda: alice.session.state == "online", timeout=40000)
        qtbot.waitUntil(lambda: pending[0].delivery is Delivery.STORED, timeout=10000)
        qtbot.waitUntil(lambda: "typed while offline" in texts(bob.state, "#lobby"),
                        timeout=40000)
        assert texts(bob.state, "#lobby").count("typed while offline") == 1
    finally:
        close(alice, bob)


def test_entry_points():
    import shutil
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "chat.qtclient", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "chat-qt" in out.stdout
    script = os.path.join(os.path.dirname(sys.executable), "chat-qt")
    assert os.path.exists(script) or shutil.which("chat-qt")
