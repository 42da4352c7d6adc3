""""bob is typing…" in the desktop client against a real server: the line under the
conversation shows who types there (one, two, several; English and Chinese), goes when their
message arrives or their notices stop, and only for the conversation shown; alice's own
keystrokes in the input reach bob as notices, at most every few seconds."""

from PyQt6.QtCore import Qt

from chat.client import typing as client_typing
from chat.qtclient.i18n import Translator
from chat.qtclient.widgets.typing_line import typing_text
from tests.qt.support import log_in as session_log_in, wait_deferred
from tests.qt.test_app import close, log_in, make_app


def test_wording_in_both_languages():
    en, zh = Translator("en").tr, Translator("zh").tr
    assert typing_text(en, []) == ""
    assert typing_text(en, ["bob"]) == "bob is typing…"
    assert typing_text(en, ["bob", "carol"]) == "bob and carol are typing…"
    assert typing_text(en, ["bob", "carol", "dave"]) == "bob and 2 others are typing…"
    assert typing_text(zh, ["bob"]) == "bob 正在输入…"
    assert typing_text(zh, ["bob", "carol"]) == "bob 和 carol 正在输入…"
    assert typing_text(zh, ["bob", "carol", "dave"]) == "bob 和另外 2 人正在输入…"


def test_others_typing_shown_under_the_conversation(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    bob, bob_state = session_log_in(qtbot, server, "bob")
    carol, carol_state = session_log_in(qtbot, server, "carol")
    try:
        main = log_in(qtbot, alice, "alice")
        line = main.typing_line
        height = line.height()
        assert line.text() == "" and line.isVisible()
        # bob types in the room alice looks at
        bob.typing("#lobby")
        qtbot.waitUntil(lambda: line.text() == "bob is typing…", timeout=5000)
        carol.typing("#lobby")
        qtbot.waitUntil(lambda: line.text() == "bob and carol are typing…", timeout=5000)
        assert line.height() == height                   # the messages above never jump
        # bob's message arrives: his notice goes at once, carol's stays
        bob.send("#lobby", "here it is")
        qtbot.waitUntil(lambda: line.text() == "carol is typing…", timeout=5000)
        # in Chinese
        alice.translator.set_language("zh")
        assert line.text() == "carol 正在输入…"
        alice.translator.set_language("en")
        # a private notice shows only in that conversation
        bob.typing("@alice")
        qtbot.waitUntil(lambda: alice.session.client.typists.typing_in("@bob") == ["bob"],
                        timeout=5000)
        assert "bob" not in line.text()
        alice.state.select("@bob")
        assert line.text() == "bob is typing…"
        # notices that stop coming run out (shortened here from 6 s)
        alice.session.client.typists.show_for = 0.3
        bob.client.typists.message_sent("@alice")        # let bob's next notice go out
        bob.typing("@alice")
        qtbot.waitUntil(lambda: line.text() == "", timeout=5000)
    finally:
        for session in (bob, carol):
            session.close()
        close(alice)


def test_own_keystrokes_reach_the_peer_at_most_every_few_seconds(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    bob, bob_state = session_log_in(qtbot, server, "bob")
    seen = []
    bob.typingReceived.connect(seen.append)
    try:
        main = log_in(qtbot, alice, "alice")
        alice.state.select("@bob")
        editor = main.input.editor
        editor.setFocus()
        qtbot.keyClicks(editor, "hello bob")             # nine keystrokes in a moment
        qtbot.waitUntil(lambda: len(seen) == 1, timeout=5000)
        assert seen == [{"type": "typing", "conv": "@alice", "user": "alice"}]
        assert bob.client.typists.typing_in("@alice") == ["alice"]
        # Enter sends the message: no notice for it, and bob's line clears at once
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bob.client.typists.typing_in("@alice") == [], timeout=5000)
        # after a send the next keystroke notifies again at once
        qtbot.keyClicks(editor, "x")
        qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
        # a burst within SEND_EVERY sends nothing more
        qtbot.keyClicks(editor, "yz")
        sent_at = alice.session.client.typists._sent
        assert list(sent_at) == ["@bob"]
        # a round trip of alice's (the server has her keystrokes' notices, if any) and then
        # one of bob's (he has what the server relayed): still two
        wait_deferred(qtbot, alice.session.users())
        wait_deferred(qtbot, bob.users())
        assert len(seen) == 2
        assert client_typing.SEND_EVERY >= 2
    finally:
        bob.close()
        close(alice)
