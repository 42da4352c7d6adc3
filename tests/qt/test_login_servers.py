"""The login window's list of other servers (nodes of the same chat, tried in turn): its
labels in English and Chinese, what it submits and saves, its checks, and a login through
the whole app when the first server is down."""

from PyQt6.QtCore import Qt

from chat.client.servers import Server
from chat.qtclient.i18n import Translator
from chat.qtclient.widgets.login import LoginWindow, describe_login_error
from chat.qtclient.session import Session
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred
from tests.qt.test_app import close, log_in, make_app
from tests.support.server_process import free_port


def test_the_list_is_labelled_in_both_languages(qtbot, settings):
    translator = Translator("en")
    window = LoginWindow(translator, settings)
    qtbot.addWidget(window)
    assert window.other_servers.isVisibleTo(window)
    assert window.other_servers_label.text() == "Other servers"
    assert window.other_servers.placeholderText() == "optional: host:port, host:port"
    assert "tried in turn" in window.other_servers.toolTip()
    translator.set_language("zh")
    assert window.other_servers_label.text() == "其他服务器"
    assert window.other_servers.placeholderText() == "可选：主机:端口, 主机:端口"
    assert "依次尝试" in window.other_servers.toolTip()


def test_the_list_is_submitted_in_turn_and_saved(qtbot, window, settings):
    window.host.setText("node1.example")
    window.port.setText("6000")
    window.other_servers.setText(" node2.example, node3.example:6001 , [::1], node1.example")
    window.user.setText("alice")
    window.password.setText(PASSWORD)
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        qtbot.keyClick(window.other_servers, Qt.Key.Key_Return)
    assert blocker.args[:2] == ["node1.example", 6000]
    assert window.servers() == [Server("node1.example", 6000), Server("node2.example", 6000),
                                Server("node3.example", 6001), Server("::1", 6000)]
    assert settings.other_servers == "node2.example, node3.example:6001 , [::1], node1.example"
    again = LoginWindow(Translator("en"), settings)
    qtbot.addWidget(again)
    assert again.other_servers.text() == settings.other_servers


def test_no_other_servers_is_the_one_server(qtbot, window):
    window.host.setText("127.0.0.1")
    window.port.setText("5000")
    window.user.setText("alice")
    window.password.setText(PASSWORD)
    assert window.submit()
    assert window.servers() == [Server("127.0.0.1", 5000)]


def test_a_bad_entry_is_named_in_english_then_in_chinese(qtbot, settings):
    translator = Translator("en")
    window = LoginWindow(translator, settings)
    qtbot.addWidget(window)
    window.user.setText("alice")
    window.password.setText(PASSWORD)
    window.other_servers.setText("node2, node3:99999")
    with qtbot.assertNotEmitted(window.submitted):
        assert not window.submit()
    assert window.error.text() == ('Cannot read "node3:99999" in the other servers: write host '
                                   'or host:port (port 1 to 65535), separated by commas.')
    assert window.other_servers.hasFocus() or not window.isActiveWindow()
    translator.set_language("zh")
    assert window.error.text() == ("无法识别其他服务器中的“node3:99999”：请写成 主机 或 主机:端口"
                                   "（端口为 1 到 65535），用逗号分隔。")


def test_the_app_logs_in_at_the_next_server_when_the_first_is_down(qtbot, server, tmp_dir):
    dead = free_port()
    app = make_app(tmp_dir, "alice", dead)
    try:
        app.login.other_servers.setText(f"127.0.0.1:{server.port}")
        log_in(qtbot, app, "alice")
        assert app.session.client.server == Server("127.0.0.1", server.port)
        assert app.settings.other_servers == f"127.0.0.1:{server.port}"
    finally:
        close(app)


def test_none_answering_names_each_server_in_both_languages(qtbot):
    one = free_port()
    two = next(port for port in iter(free_port, None) if port != one)
    session = Session(qt_reactor())
    d = session.login("127.0.0.1", one, "alice", PASSWORD,
                      servers=[Server("127.0.0.1", one), Server("127.0.0.1", two)])
    failures = []
    d.addErrback(failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=10000)
    error = failures[0].value
    assert describe_login_error(Translator("en"), error, "127.0.0.1", one) == (
        f"Cannot reach any of the servers (127.0.0.1:{one}: connection refused; "
        f"127.0.0.1:{two}: connection refused). Are they running, and are the addresses "
        "and ports right?")
    assert describe_login_error(Translator("zh"), error, "127.0.0.1", one) == (
        f"无法连接任何一台服务器（127.0.0.1:{one}：连接被拒绝；127.0.0.1:{two}：连接被拒绝）。"
        "服务器是否已启动？地址和端口是否正确？")
    session.close()
