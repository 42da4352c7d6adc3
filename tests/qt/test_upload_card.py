"""The upload card (issue 14, defect 2): from the moment a file is chosen the sender sees it,
with hashing as a phase of its own, then progress and speed, and a cancel link; when the
server has it the card becomes the file's message (one row, not two)."""

import os

import pytest
from PyQt6.QtCore import Qt

from chat.client.transfers import Transfer, TransferState
from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, Delivery, ItemKind, MessagesModel
from chat.qtclient.widgets.messages import MessageView
from tests.qt.test_app import close, log_in, make_app


def big_file(tmp_dir, name, mib):
    path = os.path.join(tmp_dir, name)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(os.urandom(1024 * 1024))
    return path


def cards(state, name):
    return [i for i in state.log("#lobby").items if i.file and i.file.get("name") == name]


def test_upload_card_from_the_first_moment_to_the_message(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        path = big_file(tmp_dir, "video.bin", 24)
        states, shown = [], []

        def changed(transfer):
            states.append(transfer.state.value)
            if transfer.state.value == "sending":
                items = alice.state.log("#lobby").items
                row = [n for n, i in enumerate(items) if i.transfer is transfer][0]
                lay = a_main.view.row_layout(row)
                shown.append(" ".join(s.text for line in lay.lines for s in line))
        alice.session.transferChanged.connect(changed)
        a_main.input.sendFiles.emit([path])        # the file button, a drop or a paste
        # at once, before anything was hashed or sent
        mine = cards(alice.state, "video.bin")
        assert len(mine) == 1 and mine[0].own and mine[0].msg_id is None
        assert mine[0].file["size"] == 24 * 1024 * 1024
        row = alice.state.log("#lobby").items.index(mine[0])
        a_main.view.scrollToBottom()
        lay = a_main.view.row_layout(row)
        assert lay.progress is not None and "cancel" in lay.actions
        words = " ".join(s.text for line in lay.lines for s in line)
        assert alice.translator.tr("file_preparing", percent=0) in words, words
        qtbot.waitUntil(lambda: "done" in states, timeout=30000)
        assert states[0] == "hashing" and "sending" in states
        # while sending, the card said how far and how fast
        assert shown and "%" in shown[-1] and "/s" in shown[-1], shown
        qtbot.waitUntil(lambda: cards(alice.state, "video.bin")[0].msg_id is not None,
                        timeout=10000)
        assert len(cards(alice.state, "video.bin")) == 1      # became the message, no twin
        card = cards(alice.state, "video.bin")[0]
        assert card.file.get("id") and card.transfer.direction == "up"
        lay = a_main.view.row_layout(alice.state.log("#lobby").items.index(card))
        assert lay.progress is None and "cancel" not in lay.actions
        qtbot.waitUntil(lambda: len(cards(bob.state, "video.bin")) == 1, timeout=10000)
    finally:
        close(alice, bob)


def test_upload_card_cancel_while_hashing(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        path = big_file(tmp_dir, "huge.bin", 48)
        a_main.input.sendFiles.emit([path])
        card = cards(alice.state, "huge.bin")[0]
        row = alice.state.log("#lobby").items.index(card)
        a_main.view.scrollToBottom()
        cancel = a_main.view.action_rect(row, "cancel")
        assert cancel is not None
        qtbot.mouseClick(a_main.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=cancel.center())
        qtbot.waitUntil(lambda: card.transfer.state.value == "cancelled", timeout=10000)
        lay = a_main.view.row_layout(alice.state.log("#lobby").items.index(card))
        words = " ".join(s.text for line in lay.lines for s in line)
        assert "Cancelled" in words and lay.progress is None
        # sent after all, from its card: the same card becomes the message
        again = a_main.view.action_rect(alice.state.log("#lobby").items.index(card),
                                        "retry_upload")
        qtbot.mouseClick(a_main.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=again.center())
        qtbot.waitUntil(lambda: card.msg_id is not None, timeout=30000)
        assert cards(alice.state, "huge.bin") == [card]
        assert card.transfer.state is TransferState.DONE
    finally:
        close(alice)


def card(name, size, state, **fields):
    transfer = Transfer("up", name, size, path=f"/nowhere/{name}", target="#lobby",
                        mime="application/octet-stream", state=state)
    for key, value in fields.items():
        setattr(transfer, key, value)
    return ChatItem(ItemKind.MESSAGE, sender="alice", own=True, cid=f"upload-{name}",
                    delivery=Delivery.PENDING, ts="2026-12-03T09:00:00.000Z",
                    file={"name": name, "size": size or 0,
                          "mime": "application/octet-stream"},
                    transfer=transfer)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_state_of_the_upload_card(qtbot, lang):
    """The card's words, bar and links in each state of the upload, in both languages."""
    tr = Translator(lang).tr
    mib = 1024 * 1024
    cards = [card("video.mp4", 800 * mib, TransferState.HASHING, hashed=200 * mib),
             card("waiting.bin", 10 * mib, TransferState.WAITING),
             card("notes.pdf", 100 * mib, TransferState.SENDING, done=42 * mib,
                  speed=3.5 * mib),
             card("huge.zip", 100 * mib, TransferState.FAILED,
                  error=("quota_exceeded", "quota exceeded: 10 MiB left")),
             card("gone.bin", 10 * mib, TransferState.CANCELLED)]
    model = MessagesModel("#lobby")
    for item in cards:
        model.append(item)
    view = MessageView(Translator(lang))
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 900)
    view.show()
    qtbot.waitExposed(view)
    view.doItemsLayout()
    lays = [view.row_layout(row) for row in range(len(cards))]
    words = [" ".join(s.text for line in lay.lines for s in line) for lay in lays]
    hashing, waiting, sending, failed, cancelled = lays
    assert tr("file_preparing", percent=25) in words[0]              # its own phase
    assert hashing.progress is not None and hashing.fraction == pytest.approx(0.25)
    assert "cancel" in hashing.actions
    assert tr("file_waiting") in words[1] and "cancel" in waiting.actions
    assert sending.fraction == pytest.approx(0.42) and "cancel" in sending.actions
    assert "42%" in words[2] and "3.5 MiB" in words[2]
    assert failed.progress is None and "retry_upload" in failed.actions
    assert "cancel" not in failed.actions
    assert tr("file_failed", error="")[:2] in words[3]
    assert tr("file_cancelled") in words[4] and cancelled.progress is None
    assert "retry_upload" in cancelled.actions                        # "Send again"
    # a card says its own state: no "Sending..." line under it as well
    assert not any(tr("msg_sending") in w for w in words)


@pytest.fixture
def small_server(qtbot, tmp_dir):
    """A server that takes files of at most 64 KiB."""
    from tests.support.server_process import ServerProcess
    from tests.qt.support import qt_reactor, wait_deferred
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--hash-time", "1", "--hash-memory", "8",
                               "--max-file-size", "64K"], reactor=qt_reactor())
    wait_deferred(qtbot, proc.start(), timeout=30000)
    yield proc
    if proc.running:
        wait_deferred(qtbot, proc.stop(), timeout=30000)


def test_a_refused_upload_says_why_on_its_card_and_retries_there(qtbot, small_server, tmp_dir):
    alice = make_app(tmp_dir, "alice", small_server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        path = big_file(tmp_dir, "big.bin", 1)                   # 1 MiB: over the limit
        a_main.input.sendFiles.emit([path])
        (card,) = cards(alice.state, "big.bin")
        qtbot.waitUntil(lambda: card.transfer.state is TransferState.FAILED, timeout=10000)
        model = alice.state.log("#lobby")
        a_main.view.scrollToBottom()
        lay = a_main.view.row_layout(model.items.index(card))
        words = " ".join(s.text for line in lay.lines for s in line)
        assert "Failed" in words and "65,536 bytes" in words, words   # the whole reason
        assert "retry_upload" in lay.actions and "cancel" not in lay.actions
        assert lay.progress is None and card.msg_id is None
        assert "big.bin" in a_main.statusBar().currentMessage()
        first = card.transfer
        retry = a_main.view.action_rect(model.items.index(card), "retry_upload")
        qtbot.mouseClick(a_main.view.viewport(), Qt.MouseButton.LeftButton, pos=retry.center())
        assert card.transfer is not first                        # sent again, on this card
        qtbot.waitUntil(lambda: card.transfer.state is TransferState.FAILED, timeout=10000)
        assert cards(alice.state, "big.bin") == [card]           # still one card
    finally:
        close(alice)
