"""The session and ChatState against a real server, no widgets: login, room and private
messages, unread counts, pending -> stored, a failed login."""

import pytest

from chat.client.core import CannotConnect
from chat.client.connection import RequestFailed
from chat.qtclient.models import Delivery, ItemKind
from chat.qtclient.session import Session
from tests.qt.support import PASSWORD, log_in as logged_in, qt_reactor, wait_deferred


def test_room_and_private_messages_with_unread_counts(qtbot, server):
    alice, a = logged_in(qtbot, server, "alice")
    bob, b = logged_in(qtbot, server, "bob")
    try:
        out = a.send("hello room")
        item = a.log("#lobby").items[-1]
        assert item.own and item.text == "hello room"
        qtbot.waitUntil(lambda: item.delivery is Delivery.STORED and item.msg_id, timeout=5000)
        qtbot.waitUntil(lambda: any(i.text == "hello room" for i in b.log("#lobby").items),
                        timeout=5000)
        received = [i for i in b.log("#lobby").items if i.text == "hello room"][0]
        assert received.sender == "alice" and not received.own
        assert received.msg_id == out.msg_id
        # a private message to bob while he looks at the lobby: a badge on @alice
        a.send("psst", conv="@bob")
        qtbot.waitUntil(lambda: b.conversations.get("@alice") is not None
                        and b.conversations.get("@alice").unread == 1, timeout=5000)
        assert b.log("@alice").items[-1].private
        b.select("@alice")
        assert b.conversations.get("@alice").unread == 0
        # alice sees the read mark once bob looked
        mine = [i for i in a.log("@bob").items if i.text == "psst"][0]
        qtbot.waitUntil(lambda: mine.read_by_peer, timeout=5000)
        # joined lines are system items
        wait_deferred(qtbot, bob.create_room("dev"))
        qtbot.waitUntil(lambda: b.conversations.get("#dev") is not None, timeout=5000)
        wait_deferred(qtbot, alice.join("dev"))
        qtbot.waitUntil(lambda: any(i.kind is ItemKind.SYSTEM and i.text == "alice joined #dev."
                                    for i in b.log("#dev").items), timeout=5000)
    finally:
        alice.close()
        bob.close()


def test_wrong_password_and_unreachable_server(qtbot, server):
    alice, _ = logged_in(qtbot, server, "alice")
    alice.close()
    session = Session(qt_reactor())
    with pytest.raises(RequestFailed) as err:
        wait_deferred(qtbot, session.login("127.0.0.1", server.port, "alice", "wrong password"))
    assert err.value.code == "bad_credentials"
    wait_deferred(qtbot, server.stop(), timeout=30000)
    with pytest.raises(CannotConnect):
        wait_deferred(qtbot, session.login("127.0.0.1", server.port, "alice", PASSWORD))
