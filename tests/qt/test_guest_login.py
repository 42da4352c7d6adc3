"""The login window's guest choice (servers started with --allow-guests): what it hides,
what it submits, its words in English and Chinese, and a guest joining a real server
through the window."""

import os

from PyQt6.QtCore import Qt
from twisted.internet import reactor

from chat.client.connection import RequestFailed
from chat.qtclient.i18n import Translator
from chat.qtclient.widgets.login import describe_login_error
from tests.qt.support import wait_deferred
from tests.qt.test_app import close, make_app, type_and_send


def test_guest_mode_needs_no_password(qtbot, window):
    assert window.guest.text() == "Join as a guest (no account)"
    assert not window.guest_mode
    window.register.setChecked(True)
    window.guest.setChecked(True)
    assert window.guest_mode and not window.register.isChecked()
    for field in (window.password, window.password2, window.register, window.avatar_box):
        assert not field.isVisibleTo(window)
    assert window.submit_button.text() == "Join as guest"
    window.host.setText("127.0.0.1")
    window.user.setText("visitor")
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        qtbot.keyClick(window.user, Qt.Key.Key_Return)
    assert blocker.args == ["127.0.0.1", 5000, "visitor", "", False, None]
    window.translator.set_language("zh")
    assert window.guest.text() == "以访客身份加入（无需账号）"
    assert window.submit_button.text() == "以访客身份进入"
    window.guest.setChecked(False)
    assert window.password.isVisibleTo(window) and window.register.isVisibleTo(window)
    assert window.submit_button.text() == "登录"


def test_guest_name_rules_still_apply(qtbot, window):
    window.guest.setChecked(True)
    window.user.setText("a b")
    assert not window.submit()
    assert "letters" in window.error.text()


def test_guest_refusals_in_both_languages():
    off = RequestFailed("forbidden", "this server does not allow guests: log in with an account")
    account = RequestFailed("name_taken", "alice is the name of an account: log in with its "
                            "password, or choose another name")
    guest = RequestFailed("name_taken", "the name visitor is taken by a guest online")
    en, zh = Translator("en"), Translator("zh")
    assert describe_login_error(zh, off, "h", 1).endswith("此服务器不接受访客，请用账号登录。")
    assert "this server does not allow guests" in describe_login_error(en, off, "h", 1)
    assert describe_login_error(en, account, "h", 1) == (
        "alice is the name of an account: log in with its password, or choose another name.")
    assert describe_login_error(zh, account, "h", 1) == (
        "alice 是一个账号的名字：请用它的密码登录，或换一个名字。")
    assert "visitor" in describe_login_error(zh, guest, "h", 1)


def test_a_guest_joins_through_the_window(qtbot, tmp_dir):
    from tests.support.server_process import ServerProcess
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--allow-guests", "--hash-time", "1", "--hash-memory", "8"],
                         reactor=reactor)
    wait_deferred(qtbot, proc.start(), timeout=30000)
    app = make_app(tmp_dir, "visitor", proc.port)
    try:
        window = app.login
        window.user.setText("visitor")
        window.guest.setChecked(True)
        qtbot.keyClick(window.user, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=10000)
        qtbot.waitUntil(lambda: app.state.current == "#lobby", timeout=5000)
        type_and_send(qtbot, app.main, "hello from a guest window")
        qtbot.waitUntil(lambda: any(i.text == "hello from a guest window"
                                    for i in app.state.log("#lobby").items), timeout=5000)
        assert app.session.client.model.me == "visitor"
    finally:
        close(app)
        wait_deferred(qtbot, proc.stop(), timeout=30000)


def test_guests_in_the_people_list(qtbot, tmp_dir):
    """An account's window shows a guest marked as one, and drops it when it leaves."""
    from tests.support.server_process import ServerProcess
    from tests.qt.test_app import log_in
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--allow-guests", "--hash-time", "1", "--hash-memory", "8"],
                         reactor=reactor)
    wait_deferred(qtbot, proc.start(), timeout=30000)
    alice = make_app(tmp_dir, "alice", proc.port)
    visitor = make_app(tmp_dir, "visitor", proc.port, lang="zh")
    try:
        log_in(qtbot, alice, "alice")
        visitor.login.user.setText("visitor")
        visitor.login.guest.setChecked(True)
        qtbot.keyClick(visitor.login.user, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: visitor.main is not None and visitor.main.isVisible(),
                        timeout=10000)
        people = alice.state.users
        qtbot.waitUntil(lambda: people.get("visitor") is not None, timeout=5000)
        assert people.get("visitor").guest and people.get("visitor").online
        assert not people.get("alice").guest
        assert alice.translator.tr("side_guest") == "(guest)"
        assert visitor.translator.tr("side_guest") == "（访客）"
        visitor.session.close()
        qtbot.waitUntil(lambda: people.get("visitor") is None, timeout=10000)
    finally:
        close(alice, visitor)
        wait_deferred(qtbot, proc.stop(), timeout=30000)
