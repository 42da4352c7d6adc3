"""The conversation list shows the newest message and its time under each name (issue 14):
who wrote it in a room, "You:" for ours, files and pictures by their kind, nothing of a
message that burns after reading; at login too, for conversations not opened yet."""

import datetime

import pytest

from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, Conversation, ConversationsModel, Delivery, ItemKind
from chat.qtclient.widgets import sidebar as sidebar_module
from chat.qtclient.widgets.sidebar import preview_text, short_time
from tests.qt.test_app import close, log_in, make_app, type_and_send
from tests.qt.test_message_view import file_view, ts

M = ItemKind.MESSAGE
OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


def conv_with(key, item) -> Conversation:
    conv = Conversation(key)
    conv.last = item
    return conv


@pytest.mark.parametrize("key, item, en, zh", [
    ("#lobby", ChatItem(M, "see you\nat  3", "bob", ts(), 1), "bob: see you at 3",
     "bob：see you at 3"),
    ("#lobby", ChatItem(M, "mine", "alice", ts(), 1, own=True), "You: mine", "我：mine"),
    ("@bob", ChatItem(M, "hi there", "bob", ts(), 1, private=True), "hi there", "hi there"),
    ("@bob", ChatItem(M, "the code", "bob", ts(), 1, private=True, burn=5),
     "[Burns after reading]", "[阅后即焚消息]"),
    ("#lobby", ChatItem(M, "", "bob", ts(), 1, file=file_view(1, "notes.pdf", 10)),
     "bob: [File] notes.pdf", "bob：[文件] notes.pdf"),
    ("#lobby", ChatItem(M, "", "bob", ts(), 1, file=file_view(1, "a.png", 10, "image/png")),
     "bob: [Photo]", "bob：[图片]"),
    ("#lobby", ChatItem(M, "", "bob", ts(), 1,
                        file=file_view(1, "cat.png", 10, "image/png; sticker")),
     "bob: [Sticker]", "bob：[贴纸]"),
    ("#lobby", None, "", ""),
])
def test_the_newest_message_in_a_line(key, item, en, zh):
    assert preview_text(Translator("en").tr, conv_with(key, item)) == en
    assert preview_text(Translator("zh").tr, conv_with(key, item)) == zh


def test_its_time_is_short():
    tr = Translator("en").tr
    now = datetime.datetime.now().astimezone()
    assert short_time(tr, ts(0, 9, 5)) == "09:05"
    assert short_time(tr, ts(1, 9, 5)) == "Yesterday"
    three = now - datetime.timedelta(days=3)
    assert short_time(tr, ts(3, 9, 5)) == Translator("en").tr(f"msg_weekday_{three.weekday()}")
    assert short_time(Translator("zh").tr, ts(1, 9, 5)) == "昨天"
    assert short_time(tr, ts(30, 9, 5)) == (now - datetime.timedelta(days=30)).date().isoformat()
    assert short_time(tr, None) == ""


def test_the_newest_stays_the_newest(qtbot):
    model = ConversationsModel()
    model.ensure("#lobby")
    newer = ChatItem(M, "newer", "bob", ts(0, 10, 0), 5)
    model.set_last("#lobby", newer)
    model.set_last("#lobby", ChatItem(M, "older", "bob", ts(0, 9, 0), 3))   # history
    assert model.get("#lobby").last is newer
    pending = ChatItem(M, "on its way", "alice", own=True, delivery=Delivery.PENDING)
    model.set_last("#lobby", pending)
    model.set_last("#lobby", ChatItem(M, "came meanwhile", "bob", ts(0, 10, 1), 6))
    assert model.get("#lobby").last is pending       # shown after every stored one


def painted_rows(main, monkeypatch) -> dict:
    """title -> second line, as the sidebar paints them now."""
    seen = {}
    real = sidebar_module.draw_two_lines

    def spy(painter, option, left, top, width, title, tc, sub, *a, **k):
        seen[title] = sub
        return real(painter, option, left, top, width, title, tc, sub, *a, **k)
    monkeypatch.setattr(sidebar_module, "draw_two_lines", spy)
    main.sidebar.conversations.viewport().grab()
    monkeypatch.setattr(sidebar_module, "draw_two_lines", real)
    return seen


@OFFSCREEN
def test_the_sidebar_shows_the_newest_messages_live_and_at_login(qtbot, server, tmp_dir,
                                                                 monkeypatch):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    carol = None
    try:
        a_main = log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        type_and_send(qtbot, b_main, "see you at 3")
        qtbot.waitUntil(lambda: painted_rows(a_main, monkeypatch).get("#lobby")
                        == "bob: see you at 3", timeout=5000)
        type_and_send(qtbot, a_main, "ok")
        qtbot.waitUntil(lambda: painted_rows(a_main, monkeypatch).get("#lobby")
                        == "You: ok", timeout=5000)
        carol = make_app(tmp_dir, "carol", server.port)
        log_in(qtbot, carol, "carol")
        close(carol)
        out = bob.state.send("a private word", conv="@carol")
        qtbot.waitUntil(lambda: out.msg_id is not None, timeout=5000)
        # carol logs in again: the lobby and her private chat show their newest message
        carol = make_app(tmp_dir, "carol", server.port)
        c_main = log_in(qtbot, carol, "carol", register=False)
        qtbot.waitUntil(lambda: painted_rows(c_main, monkeypatch).get("bob")
                        == "a private word", timeout=5000)
        assert painted_rows(c_main, monkeypatch)["#lobby"] == "alice: ok"
        assert carol.state.conversations.get("@bob").last.ts is not None
        # cleared here: the line goes too
        carol.state.clear_local("@bob")
        assert carol.state.conversations.get("@bob").last is None
        assert painted_rows(c_main, monkeypatch)["bob"] == "private chat"
    finally:
        close(alice, bob, *([carol] if carol else []))
