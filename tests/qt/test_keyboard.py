"""Keyboard (issue 14): Ctrl+K jumps to a conversation by name (the quick switcher), Alt+Up
and Alt+Down switch conversations, Esc closes dialogs, and a draft left in a conversation is
kept when switching away and is there again on coming back."""

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

from chat.qtclient.widgets import sidebar as sidebar_module
from chat.qtclient.widgets.switcher import match_rank
from tests.qt.support import wait_deferred
from tests.qt.test_app import close, log_in, make_app

OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")
CTRL, ALT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier


@pytest.mark.parametrize("name, query, rank", [
    ("bob", "bo", 0), ("bob", "BO", 0), ("lobby", "#lo", 0), ("team-design", "des", 1),
    ("my_notes", "not", 1), ("alice", "lic", 2), ("bob_builder", "bbd", 3),
    ("bob", "x", None), ("bob", "", 0)])
def test_names_match_best_first(name, query, rank):
    assert match_rank(name, query) == rank


@pytest.fixture
def three(qtbot, server, tmp_dir):
    """alice (whose window is tested), bob and carol; alice is in #lobby and #dev."""
    alice = make_app(tmp_dir, "alice", server.port)
    bob, carol = make_app(tmp_dir, "bob", server.port), make_app(tmp_dir, "carol", server.port)
    main = log_in(qtbot, alice, "alice")
    log_in(qtbot, bob, "bob")
    log_in(qtbot, carol, "carol")
    wait_deferred(qtbot, alice.session.create_room("dev"))
    qtbot.waitUntil(lambda: alice.state.conversations.get("#dev") is not None, timeout=5000)
    qtbot.waitUntil(lambda: alice.state.users.get("carol") is not None, timeout=5000)
    main.activateWindow()
    alice.state.select("#lobby")
    yield alice, main
    close(alice, bob, carol)


@OFFSCREEN
def test_ctrl_k_finds_a_conversation_or_a_person_by_name(qtbot, three):
    alice, main = three
    QTest.keyClick(main.input.editor, Qt.Key.Key_K, CTRL)
    switcher = main.switcher
    assert switcher is not None and switcher.isVisible()
    assert switcher.query.text() == "" and "#lobby" in switcher.shown_keys()
    assert "@alice" not in switcher.shown_keys()                # not ourselves
    QTest.keyClicks(switcher.query, "car")
    assert switcher.shown_keys() == ["@carol"]                  # a person: a private chat
    QTest.keyClick(switcher.query, Qt.Key.Key_Return)
    assert not switcher.isVisible() and alice.state.current == "@carol"
    # the arrows choose among the matches while the text keeps the focus
    QTest.keyClick(main.input.editor, Qt.Key.Key_K, CTRL)
    QTest.keyClicks(switcher.query, "o")                # lobby, carol and bob hold an o
    keys = switcher.shown_keys()
    assert keys == ["#lobby", "@carol", "@bob"]         # the sidebar's order, then people
    QTest.keyClick(switcher.query, Qt.Key.Key_Down)
    QTest.keyClick(switcher.query, Qt.Key.Key_Return)
    assert alice.state.current == keys[1]
    # nothing matches: it says so; Esc closes it where it was
    QTest.keyClick(main.input.editor, Qt.Key.Key_K, CTRL)
    QTest.keyClicks(switcher.query, "zzz")
    assert switcher.shown_keys() == [] and switcher.empty.isVisibleTo(switcher)
    assert switcher.empty.text() == "No conversation or person is called that"
    before = alice.state.current
    QTest.keyClick(switcher.query, Qt.Key.Key_Escape)
    assert not switcher.isVisible() and alice.state.current == before
    alice.translator.set_language("zh")
    assert switcher.windowTitle() == "转到会话" and switcher.empty.text() == "没有叫这个名字的会话或用户"


@OFFSCREEN
def test_alt_up_and_down_switch_conversations_in_the_sidebars_order(qtbot, three):
    alice, main = three
    order = [c.key for c in alice.state.conversations.rows]
    assert order[:2] == ["#lobby", "#dev"]
    alice.state.select(order[0])
    QTest.keyClick(main.input.editor, Qt.Key.Key_Down, ALT)
    assert alice.state.current == order[1]
    QTest.keyClick(main.input.editor, Qt.Key.Key_Up, ALT)
    assert alice.state.current == order[0]
    QTest.keyClick(main.input.editor, Qt.Key.Key_Up, ALT)      # the top: stays
    assert alice.state.current == order[0]
    # the sidebar follows
    assert main.sidebar.conversations.currentIndex().row() == 0


@OFFSCREEN
def test_a_draft_stays_with_its_conversation(qtbot, three, monkeypatch):
    alice, main = three
    QTest.keyClicks(main.input.editor, "half a thought")
    alice.state.select("#dev")
    assert main.input.text() == ""
    assert alice.state.conversations.get("#lobby").draft == "half a thought"
    QTest.keyClicks(main.input.editor, "for dev")
    # the sidebar shows the draft under the lobby's name
    seen = []
    real = sidebar_module.draw_two_lines
    monkeypatch.setattr(sidebar_module, "draw_two_lines",
                        lambda painter, option, left, top, width, title, tc, sub, *a, **k:
                        seen.append((title, sub)) or real(painter, option, left, top, width,
                                                          title, tc, sub, *a, **k))
    main.sidebar.conversations.viewport().grab()
    assert ("#lobby", "Draft: half a thought") in seen
    alice.state.select("#lobby")
    assert main.input.text() == "half a thought"
    assert alice.state.conversations.get("#lobby").draft == ""
    assert alice.state.conversations.get("#dev").draft == "for dev"
    # typing goes on at its end, and sending leaves no draft behind
    QTest.keyClicks(main.input.editor, "!")
    QTest.keyClick(main.input.editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(i.text == "half a thought!"
                                for i in alice.state.log("#lobby").items), timeout=5000)
    alice.state.select("#dev")
    alice.state.select("#lobby")
    assert main.input.text() == ""


@OFFSCREEN
def test_esc_closes_dialogs(qtbot, three, tmp_dir):
    alice, main = three
    from chat.qtclient.widgets.messages import show_image
    from chat.qtclient.widgets.settings_dialog import SettingsDialog
    from tests.qt.test_message_view import png
    import os
    alice.open_history("#lobby")
    settings = SettingsDialog(alice.translator, alice.settings, main)
    qtbot.addWidget(settings)
    settings.show()
    viewer = show_image(main, png(os.path.join(tmp_dir, "p.png")))
    switcher = main.open_switcher()
    for dialog in (switcher, viewer, settings, alice.history_windows["#lobby"]):
        dialog.show()
        assert dialog.isVisible()
        focus = dialog.focusWidget() or dialog
        QTest.keyClick(focus, Qt.Key.Key_Escape)
        assert not dialog.isVisible(), dialog
    QApplication.processEvents()
