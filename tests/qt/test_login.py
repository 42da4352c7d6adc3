"""The login window: Enter submits, register mode, checks in English and Chinese, the
avatar picker, and describe_login_error against a real server."""

import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QColor, QImage
from PyQt6.QtWidgets import QFileDialog

from chat.client.connection import RequestFailed
from chat.client.core import CannotConnect
from chat.qtclient.i18n import Translator
from chat.qtclient.session import Session
from chat.qtclient.widgets.login import LoginWindow, describe_login_error, image_type
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred



def fill(w, host="127.0.0.1", port="5001", user="alice", password=PASSWORD, again=None):
    w.host.setText(host)
    w.port.setText(port)
    w.user.setText(user)
    w.password.setText(password)
    w.password2.setText(password if again is None else again)


def small_png(path, size=(20, 12)) -> bytes:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    assert image.save(str(path), "PNG")
    with open(path, "rb") as f:
        return f.read()


def test_enter_in_any_field_submits_and_remembers_the_server(qtbot, window, settings):
    fill(window, host=" chat.example.org ", port="6000", user="alice")
    for field in (window.password, window.user, window.host):
        with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
            qtbot.keyClick(field, Qt.Key.Key_Return)
        assert blocker.args == ["chat.example.org", 6000, "alice", PASSWORD, False, None]
    assert (settings.host, settings.port, settings.user) == ("chat.example.org", 6000, "alice")
    assert window.error.isHidden()
    # the next window starts with what was remembered, the password field empty
    again = LoginWindow(Translator("en"), settings)
    qtbot.addWidget(again)
    assert (again.host.text(), again.port.text(), again.user.text()) == \
        ("chat.example.org", "6000", "alice")
    assert again.password.text() == ""


def test_register_mode_shows_the_confirmation_and_the_avatar(qtbot, window):
    # isVisibleTo: what would show; showing a window offscreen makes Qt warn
    assert not window.password2.isVisibleTo(window)
    assert not window.avatar_box.isVisibleTo(window)
    assert window.submit_button.text() == "Log in"
    # on the box itself: the check box's row is wider than its text
    qtbot.mouseClick(window.register, Qt.MouseButton.LeftButton,
                     pos=QPoint(8, window.register.height() // 2))
    assert window.register.isChecked()
    assert window.password2.isVisibleTo(window) and window.avatar_box.isVisibleTo(window)
    assert window.submit_button.text() == "Register and log in"
    fill(window)
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        qtbot.keyClick(window.password2, Qt.Key.Key_Enter)
    assert blocker.args[4] is True and blocker.args[5] is None
    window.set_register(False)
    assert not window.password2.isVisibleTo(window)


def test_checks_in_english_then_in_chinese(qtbot, window):
    window.set_register(True)
    cases = [
        (dict(user=""), "Please enter a user name.", "请输入用户名。"),
        (dict(password="short"), "The password is too short (at least 8 characters).",
         "密码太短（至少 8 个字符）。"),
        (dict(again="correct horsE"), "The passwords differ; please try again.",
         "两次输入的密码不一致，请重试。"),
        (dict(port="70000"), "The port must be a whole number from 1 to 65535.",
         "端口必须是 1 到 65535 之间的整数。"),
        (dict(port="abc"), "The port must be a whole number from 1 to 65535.",
         "端口必须是 1 到 65535 之间的整数。"),
        (dict(user="no spaces"), "A user name has 1 to 32 characters: letters, digits, "
         "'_', '-' and '.'.", "用户名为 1 到 32 个字符，只能包含字母、数字以及“_”“-”“.”。"),
        (dict(host="  "), "Please enter the server's address.", "请输入服务器地址。"),
    ]
    with qtbot.assertNotEmitted(window.submitted):
        for values, english, chinese in cases:
            window.translator.set_language("en")
            fill(window, **values)
            assert window.submit() is False
            assert window.error.text() == english
            assert not window.error.isHidden()
            # the message on screen follows a language switch at once
            window.translator.set_language("zh")
            assert window.error.text() == chinese
            fill(window, **values)
            assert window.submit() is False
            assert window.error.text() == chinese
    assert window.windowTitle() == "聊天：登录"
    assert window.submit_button.text() == "注册并登录"
    assert window.user_label.text() == "用户名"


def test_the_language_box_switches_at_once_and_is_saved(qtbot, window, settings):
    translator = window.translator
    with qtbot.waitSignal(translator.languageChanged, timeout=1000):
        window.language.setCurrentIndex(window.language.findData("zh"))
    assert translator.lang == "zh" and settings.language == "zh"
    assert window.heading.text() == "登录聊天服务器"
    assert window.register.text() == "注册新账号"
    # switched elsewhere (the settings dialog): the box follows without a loop
    translator.set_language("en")
    assert window.language.currentData() == "en"
    assert window.heading.text() == "Log in to a chat server"


def test_busy_disables_the_form(qtbot, window):
    fill(window)
    window.show_error("old problem")
    window.set_busy(True)
    assert not window.form_box.isEnabled() and not window.submit_button.isEnabled()
    assert window.busy_label.text() == "Connecting..." and not window.busy_label.isHidden()
    assert window.error.isHidden()
    with qtbot.assertNotEmitted(window.submitted):
        qtbot.keyClick(window, Qt.Key.Key_Return)
    window.set_busy(False)
    window.show_error("Wrong user name or password.")
    assert window.error.text() == "Wrong user name or password."
    assert window.error.wordWrap() and window.form_box.isEnabled()


def test_avatar_from_a_file_is_previewed_and_submitted(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "me.png"
    data = small_png(path)
    asked = []

    def fake_dialog(parent, title, folder, filters):
        asked.append((title, filters))
        return str(path), filters
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_dialog))
    window.set_register(True)
    fill(window)
    qtbot.mouseClick(window.avatar_choose, Qt.MouseButton.LeftButton)
    assert asked and "*.png" in asked[0][1] and "*.webp" in asked[0][1]
    preview = window.avatar_preview.pixmap()
    assert not preview.isNull() and preview.width() == 64 and preview.height() == 64
    assert window.avatar == ("image/png", data)
    assert window.avatar_remove.isEnabled()
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        window.submit()
    assert blocker.args[5] == ("image/png", data)
    # logging in (not registering) never sends the picture
    window.set_register(False)
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        window.submit()
    assert blocker.args[5] is None
    window.set_register(True)
    qtbot.mouseClick(window.avatar_remove, Qt.MouseButton.LeftButton)
    assert window.avatar is None and window.avatar_preview.text() == "none"
    # a cancelled dialog changes nothing
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a: ("", "")))
    assert window.choose_avatar() is False and window.avatar is None


def test_avatar_too_big_or_not_a_picture_is_refused(qtbot, window, tmp_path):
    window.set_register(True)
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (300 * 1024))
    assert window.load_avatar(str(big)) is False
    assert window.avatar is None
    assert window.error.text() == ("big.png is 300 KiB; the server takes pictures of at most "
                                   "256 KiB. Please choose a smaller one.")
    text = tmp_path / "notes.png"
    text.write_bytes(b"just some text")
    assert window.load_avatar(str(text)) is False
    assert window.error.text() == "notes.png is not a PNG, JPEG, GIF or WebP picture."
    window.translator.set_language("zh")
    assert window.error.text() == "notes.png 不是 PNG、JPEG、GIF 或 WebP 图片。"
    assert window.load_avatar(str(tmp_path / "missing.png")) is False
    assert window.error.text().startswith("无法读取 missing.png：")


def test_image_type_from_the_first_bytes():
    assert image_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert image_type(b"GIF89a...") == "image/gif"
    assert image_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert image_type(b"<svg>") is None


def failure_of(qtbot, d):
    with pytest.raises(Exception) as err:
        wait_deferred(qtbot, d)
    return err.value


def test_describe_login_error_against_a_real_server(qtbot, server):
    en, zh = Translator("en"), Translator("zh")
    port = server.port
    first = Session(qt_reactor())
    wait_deferred(qtbot, first.login("127.0.0.1", port, "alice", PASSWORD, register=True))
    first.close()

    wrong = failure_of(qtbot, Session(qt_reactor()).login("127.0.0.1", port, "alice", "wrong pass"))
    assert isinstance(wrong, RequestFailed) and wrong.code == "bad_credentials"
    assert describe_login_error(en, wrong, "127.0.0.1", port) == "Wrong user name or password."
    assert describe_login_error(zh, wrong, "127.0.0.1", port) == "用户名或密码错误。"

    taken = failure_of(qtbot, Session(qt_reactor()).login("127.0.0.1", port, "ALICE", PASSWORD,
                                                     register=True))
    assert taken.code == "name_taken"
    assert describe_login_error(en, taken, "127.0.0.1", port) == \
        "The name ALICE is taken; please choose another."
    assert describe_login_error(en, taken, "127.0.0.1", port, user="ALICE") == \
        "The name ALICE is taken; please choose another."

    # what the server says when the window's own checks are bypassed
    short = failure_of(qtbot, Session(qt_reactor()).login("127.0.0.1", port, "carol", "short",
                                                     register=True))
    assert short.code == "bad_request" and short.message.startswith("password must be")
    assert describe_login_error(en, short, "127.0.0.1", port) == \
        "A password has 8 to 1024 characters."
    assert describe_login_error(zh, short, "127.0.0.1", port) == "密码长度为 8 到 1024 个字符。"
    bad_name = failure_of(qtbot, Session(qt_reactor()).login("127.0.0.1", port, "two words",
                                                        PASSWORD, register=True))
    assert bad_name.code == "bad_request"
    assert describe_login_error(en, bad_name, "127.0.0.1", port) == \
        "A user name has 1 to 32 characters: letters, digits, '_', '-' and '.'."

    wait_deferred(qtbot, server.stop(), timeout=30000)
    gone = failure_of(qtbot, Session(qt_reactor()).login("127.0.0.1", port, "alice", PASSWORD))
    assert isinstance(gone, CannotConnect)
    assert describe_login_error(en, gone, "127.0.0.1", port) == (
        f"Cannot reach the server 127.0.0.1:{port} (connection refused). "
        "Is it running, and are the address and port right?")
    assert describe_login_error(zh, gone, "127.0.0.1", port).startswith(
        f"无法连接服务器 127.0.0.1:{port}（连接被拒绝）")


def test_describe_login_error_banned_and_unknown():
    en = Translator("en")
    banned = RequestFailed("banned", "this account is banned: spam")
    assert describe_login_error(en, banned, "h", 1) == "This account is banned. Reason: spam"
    plain = RequestFailed("banned", "this account is banned")
    assert describe_login_error(en, plain, "h", 1) == "This account is banned."
    assert describe_login_error(Translator("zh"), banned, "h", 1) == "此账号已被封禁。原因：spam"
    odd = RequestFailed("server_error", "database is locked")
    assert describe_login_error(en, odd, "h", 1) == "Login failed: database is locked"
    assert describe_login_error(en, ConnectionError("reset"), "h", 1) == "Login failed: reset"


def test_register_through_the_window_with_an_avatar(qtbot, server, tmp_path, settings):
    """The whole path the app takes: the form's values go to Session.login unchanged."""
    path = tmp_path / "face.png"
    data = small_png(path, (80, 80))
    window = LoginWindow(Translator("en"), settings)
    qtbot.addWidget(window)
    window.set_register(True)
    fill(window, port=str(server.port), user="dora")
    assert window.load_avatar(str(path))
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        window.submit()
    host, port, user, password, register, avatar = blocker.args
    session = Session(qt_reactor())
    try:
        wait_deferred(qtbot, session.login(host, port, user, password, register, avatar))
        assert session.me == "dora"
        mime, body = wait_deferred(qtbot, session.get_avatar("dora"))
        assert (mime, body) == ("image/png", data)
    finally:
        session.close()
