"""How a session ends, in the whole app against a real server: logging out leaves nothing of
the password in the login form (issue 14, defect 4); a kicked or banned user is taken back to
the login window, which says why in their language (defect 6); the login window shrinks back
once an error has gone (defect 10)."""

import pytest
from PyQt6 import sip
from PyQt6.QtCore import Qt

from chat.protocol import commands as C
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred
from tests.qt.test_app import close, log_in, make_app


def root_session(qtbot, server):
    from chat.qtclient.session import Session
    root = Session(qt_reactor())
    wait_deferred(qtbot, root.login("127.0.0.1", server.port, "root", PASSWORD, register=True))
    return root


def test_logout_clears_the_password_and_unticks_register(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    try:
        log_in(qtbot, alice, "alice", register=True)
        assert not alice.login.isVisible()
        alice.main.logoutRequested.emit()                 # Chat > Log out
        qtbot.waitUntil(lambda: alice.login.isVisible(), timeout=5000)
        form = alice.login
        assert form.password.text() == "" and form.password2.text() == ""
        assert not form.register.isChecked()
        assert not form.password2.isVisibleTo(form)        # the new account's rows are gone
        assert form.avatar is None
        assert form.user.text() == "alice"                 # the name stays
        assert form.submit_button.text() == "Log in"
        assert alice.main is None and alice.session is None
        # and logging in again works from that form
        form.password.setText(PASSWORD)
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: alice.main is not None and alice.main.isVisible(),
                        timeout=10000)
    finally:
        close(alice)


@pytest.mark.parametrize("lang,kick_words,ban_words", [
    ("en", "An admin (root) disconnected you. Reason: spam",
     "An admin (root) banned this account. Reason: flood"),
    ("zh", "管理员（root）已将你断开连接。原因：spam", "管理员（root）已封禁此账号。原因：flood"),
])
def test_kicked_then_banned_user_is_back_at_the_login_window(qtbot, server, tmp_dir, lang,
                                                              kick_words, ban_words):
    root = root_session(qtbot, server)
    bob = make_app(tmp_dir, "bob", server.port, lang=lang)
    try:
        log_in(qtbot, bob, "bob", register=True)
        stale = bob.main
        wait_deferred(qtbot, root.request(C.Kick(user="bob", reason="spam")))
        qtbot.waitUntil(lambda: bob.login.isVisible(), timeout=5000)
        assert bob.main is None and (sip.isdeleted(stale) or not stale.isVisible())
        assert bob.login.error.isVisible() and bob.login.error.text() == kick_words
        assert bob.login.password.text() == ""
        # a kicked user may come back; a banned one is refused at the next login too
        log_in(qtbot, bob, "bob", register=False)
        wait_deferred(qtbot, root.request(C.Ban(user="bob", reason="flood")))
        qtbot.waitUntil(lambda: bob.login.isVisible(), timeout=5000)
        assert bob.main is None
        assert bob.login.error.text() == ban_words
        bob.login.password.setText(PASSWORD)
        qtbot.keyClick(bob.login.password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not bob.login.busy and bob.login.error.isVisible(),
                        timeout=10000)
        assert bob.main is None
        assert ("banned" in bob.login.error.text()) == (lang == "en")
        assert ("封禁" in bob.login.error.text()) == (lang == "zh")
    finally:
        root.close()
        close(bob)


def test_login_window_shrinks_back_when_the_error_goes(qtbot, window):
    window.show()
    qtbot.waitExposed(window)
    window.resize(window.width(), 400)      # taller than the form needs
    before = window.height()
    window.show_error("a long error message that wraps over several lines " * 30)
    assert window.height() > before + 40                 # it grew to show the error
    window.set_busy(True)                                # a new attempt: the error goes
    assert not window.error.isVisible()
    assert window.height() == before
    # the new account's rows grow it too, and unticking shrinks it back
    window.set_busy(False)
    window.resize(window.width(), window.minimumSizeHint().height())
    short = window.height()
    window.register.setChecked(True)
    assert window.height() > short
    window.register.setChecked(False)
    assert window.height() == short
    # a height the user chose is theirs: an error coming and going does not take it away
    window.resize(window.width(), before + 200)
    window.show_error("short")
    window.set_busy(True)
    assert window.height() == before + 200
