"""Presence in the conversation (issue 14): "carol came online.", "bob left #dev." lines in
the chat view, as the terminal client shows them, grouped into one line when many happen
at once ("alice, bob and 3 others came online."), in both languages; someone who has just
registered "joined #lobby"."""

import pytest
from twisted.internet import defer

from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, ItemKind
from chat.qtclient.session import Session
from chat.qtclient.state import GROUP_LINES_SECONDS, ChatState
from chat.qtclient.wording import name_list
from tests.qt.support import PASSWORD, log_in, qt_reactor, wait_deferred
from tests.qt.test_message_view import ts


class OfflineSession(Session):
    """A session that is not connected, as ``me``: the test emits its signals."""

    def __init__(self, me):
        super().__init__(qt_reactor())
        self._me = me

    @property
    def me(self):
        return self._me

    def get_avatar(self, user):
        return defer.fail(LookupError(user))


@pytest.fixture
def state():
    now = [100.0]
    session = OfflineSession("alice")
    state = ChatState(session, Translator("en"), clock=lambda: now[0])
    state.now = now
    state.conversations.ensure("#lobby")
    state.conversations.ensure("@bob")
    return state


def presence(*changes):
    return {"type": "presence", "count": 3,
            "changes": [{"user": user, "online": online} for user, online in changes]}


def system_texts(state, conv):
    return [i.text for i in state.log(conv).items if i.kind is ItemKind.SYSTEM]


@pytest.mark.parametrize("names, en, zh", [
    (["bob"], "bob", "bob"),
    (["bob", "carol"], "bob and carol", "bob 和 carol"),
    (["bob", "carol", "dave"], "bob, carol and dave", "bob、carol 和 dave"),
    (["bob", "carol", "dave", "erin", "frank"], "bob, carol and 3 others",
     "bob、carol 和另外 3 人"),
])
def test_names_are_listed_as_each_language_says_it(names, en, zh):
    assert name_list(Translator("en").tr, names) == en
    assert name_list(Translator("zh").tr, names) == zh


def test_coming_online_and_going_offline_are_lines_in_the_lobby(state):
    s = state.session
    s.presenceChanged.emit(presence(("carol", True)))
    s.presenceChanged.emit(presence(("alice", True)))         # ourselves: no line
    assert system_texts(state, "#lobby") == ["carol came online."]
    # many at once (one event, or several close together): one line
    s.presenceChanged.emit(presence(("dave", True), ("erin", True)))
    state.now[0] += 5
    s.presenceChanged.emit(presence(("frank", True), ("gina", True), ("dave", True)))
    assert system_texts(state, "#lobby") == ["carol, dave and 3 others came online."]
    line = state.log("#lobby").items[-1]
    assert line.users == ["carol", "dave", "erin", "frank", "gina"]
    # going offline is a line of its own; bob's private chat hears about bob alone
    s.presenceChanged.emit(presence(("bob", False), ("carol", False)))
    assert system_texts(state, "#lobby")[-1] == "bob and carol went offline."
    assert system_texts(state, "@bob") == ["bob went offline."]
    # the sidebar's people follow as before
    assert state.users.get("carol").online is False


def test_lines_group_only_when_close_together_and_nothing_came_between(state):
    s = state.session
    s.presenceChanged.emit(presence(("carol", True)))
    state.now[0] += GROUP_LINES_SECONDS + 1                   # later: a line of its own
    s.presenceChanged.emit(presence(("dave", True)))
    state.log("#lobby").append(ChatItem(ItemKind.MESSAGE, "hi", "dave", ts(), 1))
    s.presenceChanged.emit(presence(("erin", True)))          # after a message: its own
    assert system_texts(state, "#lobby") == [
        "carol came online.", "dave came online.", "erin came online."]


def test_joins_and_leaves_of_a_room_group_too(state):
    s = state.session
    state.conversations.ensure("#dev")
    for user in ("bob", "carol", "dave", "erin"):
        s.memberJoined.emit({"type": "joined", "room": "dev", "user": user})
    s.memberJoined.emit({"type": "joined", "room": "lobby", "user": "frank"})
    s.memberLeft.emit({"type": "left", "room": "dev", "user": "bob"})
    assert system_texts(state, "#dev") == ["bob, carol and 2 others joined #dev.",
                                           "bob left #dev."]
    assert system_texts(state, "#lobby") == ["frank joined #lobby."]


def test_the_lines_follow_the_language(qtbot, state):
    s = state.session
    s.presenceChanged.emit(presence(("carol", True), ("dave", True), ("erin", True),
                                    ("frank", True)))
    from chat.qtclient.widgets.messages import MessageView
    view = MessageView(state.translator)
    qtbot.addWidget(view)
    view.setModel(state.log("#lobby"))
    view.resize(700, 300)
    view.show()
    qtbot.waitExposed(view)
    view.doItemsLayout()
    assert view.row_layout(0).doc.toPlainText().endswith("carol, dave and 2 others came online.")
    state.translator.set_language("zh")
    # no space between "人" and the verb (it is there after a name, as Chinese mixed with
    # Latin names is written)
    assert view.row_layout(0).doc.toPlainText().endswith("carol、dave 和另外 2 人上线了。")
    for user in ("bob", "gina", "hank", "ivy"):
        s.memberJoined.emit({"type": "joined", "room": "lobby", "user": user})
    view.doItemsLayout()
    assert view.row_layout(1).doc.toPlainText().endswith("bob、gina 和另外 2 人加入了 #lobby。")
    state.translator.set_language("en")
    assert view.row_layout(1).doc.toPlainText().endswith("bob, gina and 2 others joined #lobby.")


def test_a_real_server_says_who_came_and_went(qtbot, server):
    alice, a = log_in(qtbot, server, "alice", translator=Translator("zh"))
    qtbot.waitUntil(lambda: a.users.get("alice") is not None, timeout=5000)  # people read
    # carol registers: she is new, she joined the lobby (not "came online")
    carol, c = log_in(qtbot, server, "carol")
    try:
        qtbot.waitUntil(lambda: "carol 加入了 #lobby。" in system_texts(a, "#lobby"),
                        timeout=5000)
        assert "carol 上线了。" not in system_texts(a, "#lobby")
        carol.close()
        qtbot.waitUntil(lambda: "carol 下线了。" in system_texts(a, "#lobby"), timeout=5000)
        # she comes back: now she came online
        again = Session(qt_reactor())
        wait_deferred(qtbot, again.login("127.0.0.1", server.port, "carol", PASSWORD))
        qtbot.waitUntil(lambda: "carol 上线了。" in system_texts(a, "#lobby"), timeout=5000)
        assert system_texts(a, "#lobby").count("carol 加入了 #lobby。") == 1
        # the terminal client's events, same words: a room joined by someone else
        wait_deferred(qtbot, alice.create_room("dev"))
        wait_deferred(qtbot, again.join("dev"))
        qtbot.waitUntil(lambda: "carol 加入了 #dev。" in system_texts(a, "#dev"), timeout=5000)
        again.close()
    finally:
        alice.close()
        carol.close()
