"""The history window against a real server: it pages through a conversation, searches by
text, sender and date, stops at its page limit, and clears the local history."""

import pytest
from PyQt6.QtCore import QDate, Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QMessageBox

from chat.qtclient.i18n import Translator
from chat.qtclient.models import ItemKind
from chat.qtclient.session import Session
from chat.qtclient.state import ChatState
from chat.qtclient.widgets.history import HistoryWindow
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred

COUNT = 30
# showing a dialog on the offscreen platform logs that it cannot size or raise windows
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def logged_in(qtbot, server, name):
    session = Session(qt_reactor())
    state = ChatState(session, Translator("en"))
    state.set_active(True)
    wait_deferred(qtbot, session.login("127.0.0.1", server.port, name, PASSWORD,
                                       register=True))
    qtbot.waitUntil(lambda: state.current == "#lobby", timeout=5000)
    return session, state


def text_of(i: int) -> str:
    return f"{'Apple' if i % 5 == 0 else 'pear'} number {i}"


@pytest.fixture
def chat(qtbot, server):
    """alice and bob, and COUNT lobby messages: bob sends every third, alice the rest."""
    alice, a = logged_in(qtbot, server, "alice")
    bob, b = logged_in(qtbot, server, "bob")
    for i in range(COUNT):
        (b if i % 3 == 0 else a).send(text_of(i))
    qtbot.waitUntil(lambda: len([i for i in a.log("#lobby").items
                                 if i.kind is ItemKind.MESSAGE and i.msg_id]) == COUNT,
                    timeout=10000)
    yield a
    alice.close()
    bob.close()


def open_window(qtbot, state, **limits):
    window = HistoryWindow(state, "#lobby", state.translator)
    for name, value in limits.items():
        setattr(window, name, value)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loaded, timeout=10000)
    return window


def shown(window) -> list:
    model = window.model
    return [model.data(model.index(row, 2)) for row in range(model.rowCount())]


def test_search_by_text_sender_and_dates(qtbot, chat):
    window = open_window(qtbot, chat, PAGE=7)        # 30 messages: five pages
    assert len(window.messages) == COUNT and not window.error and not window.capped
    ids = [m["id"] for m in window.model.rows]
    assert ids == sorted(ids, reverse=True)                 # newest first
    assert window.status.text() == f"{COUNT} of {COUNT} messages match"
    window.text_edit.setText("APPLE")
    # two connections send at once: the server's order may mix their messages
    assert sorted(shown(window)) == sorted(text_of(i) for i in (0, 5, 10, 15, 20, 25))
    window.sender_box.setEditText("BOB")
    assert sorted(shown(window)) == sorted([text_of(0), text_of(15)])
    window.text_edit.setText("")
    assert len(shown(window)) == COUNT // 3
    assert window.model.data(window.model.index(0, 1)) == "bob"
    today = QDate.currentDate()
    window.dates_check.setChecked(True)
    window.date_from.setDate(today.addDays(-10))
    window.date_to.setDate(today.addDays(-1))
    assert shown(window) == []
    window.date_to.setDate(today)
    assert len(shown(window)) == COUNT // 3
    window.translator.set_language("zh")
    assert window.windowTitle() == "#lobby 的聊天记录"
    assert window.model.headerData(1, Qt.Orientation.Horizontal) == "发送者"


def test_paging_stops_at_the_page_limit(qtbot, chat):
    window = open_window(qtbot, chat, PAGE=7, MAX_PAGES=3)
    assert window.capped and len(window.messages) == 21
    newest = max(i.msg_id for i in chat.log("#lobby").items if i.msg_id)
    assert window.messages[-1]["id"] == newest           # the newest pages came first
    assert "21 messages loaded" in window.status.text()


def test_clear_local_history_after_confirmation(qtbot, chat, monkeypatch):
    window = open_window(qtbot, chat)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *args: answers.pop(0))
    QTest.mouseClick(window.clear_button, Qt.MouseButton.LeftButton)
    assert len(window.messages) == COUNT and chat.log("#lobby").items     # said no
    QTest.mouseClick(window.clear_button, Qt.MouseButton.LeftButton)
    assert chat.log("#lobby").items == []
    assert window.model.rowCount() == 0 and window.messages == []
    assert window.status.text() == "The local history was cleared."
