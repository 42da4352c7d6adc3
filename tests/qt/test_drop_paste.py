"""Drag and drop and paste, the whole way (issue 14): files dropped on the conversation and a
picture pasted from the clipboard each start an upload card at once, and arrive."""

import os

from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PyQt6.QtWidgets import QApplication

from chat.qtclient.widgets.messages.files import local_image
from tests.qt.test_app import close, log_in, make_app


def cards(state, conv="#lobby"):
    """Our own file rows whose upload has not been published yet."""
    return [i for i in state.log(conv).items
            if i.own and i.file and getattr(i.transfer, "direction", "") == "up"]


def drop(widget, mime) -> bool:
    """A drag entering ``widget`` and dropped there, as Qt delivers them; whether the drag
    was accepted."""
    at = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(at.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(at, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)
    return True


def received(state, name, conv="#lobby"):
    return [i for i in state.log(conv).items if i.file and i.file.get("name") == name]


def test_files_dropped_on_the_conversation_get_cards_and_arrive(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        paths = []
        for name in ("first.txt", "second.bin"):
            paths.append(os.path.join(tmp_dir, name))
            with open(paths[-1], "wb") as f:
                f.write(os.urandom(70000))
        # a web link alone is no file: the drag is refused, nothing is sent
        links = QMimeData()
        links.setUrls([QUrl("https://example.com/page")])
        assert not drop(a_main.view.viewport(), links)
        assert cards(alice.state) == []
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(p) for p in paths])
        assert drop(a_main.view.viewport(), mime)
        # at once, before a byte was read: one card per file, in the order dropped
        assert [c.file["name"] for c in cards(alice.state)] == ["first.txt", "second.bin"]
        assert all(c.msg_id is None and c.file["size"] == 70000 for c in cards(alice.state))
        row = alice.state.log("#lobby").items.index(cards(alice.state)[-1])
        a_main.view.scrollToBottom()
        assert a_main.view.row_layout(row).progress is not None        # the card is drawn
        qtbot.waitUntil(lambda: all(received(bob.state, os.path.basename(p)) for p in paths),
                        timeout=10000)
        qtbot.waitUntil(lambda: all(c.msg_id is not None for c in cards(alice.state)),
                        timeout=10000)
        assert len(cards(alice.state)) == 2                              # no twins
        # a folder is no file: not sent, and the status bar says why
        folder = os.path.join(tmp_dir, "holiday photos")
        os.makedirs(folder)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(folder)])
        before = len(cards(alice.state))
        assert drop(a_main.view.viewport(), mime)
        assert len(cards(alice.state)) == before
        assert "holiday photos" in a_main.statusBar().currentMessage()
        # dropped on the input bar: the same
        third = os.path.join(tmp_dir, "third.txt")
        with open(third, "w") as f:
            f.write("three")
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(third)])
        assert drop(a_main.input, mime)
        assert cards(alice.state)[-1].file["name"] == "third.txt"
        qtbot.waitUntil(lambda: bool(received(bob.state, "third.txt")), timeout=10000)
    finally:
        close(alice, bob)


def test_a_pasted_picture_gets_a_card_and_arrives(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    pasted = None
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        image = QImage(120, 80, QImage.Format.Format_RGB32)
        image.fill(QColor("orange"))
        QApplication.clipboard().setImage(image)
        a_main.input.editor.setFocus()
        qtbot.keyClick(a_main.input.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        (card,) = cards(alice.state)
        pasted = card.transfer.path
        assert os.path.basename(pasted).startswith("pasted-") and card.is_image
        assert local_image(card) == pasted              # the picture shows on its card at once
        assert a_main.input.text() == ""                 # no text was pasted
        name = card.file["name"]
        qtbot.waitUntil(lambda: bool(received(bob.state, name))
                        and local_image(received(bob.state, name)[0]) is not None,
                        timeout=10000)
        assert QImage(local_image(received(bob.state, name)[0])).size() == image.size()
        qtbot.waitUntil(lambda: card.msg_id is not None, timeout=10000)
        assert len(cards(alice.state)) == 1
        # a file copied in a file manager and pasted: its card too
        report = os.path.join(tmp_dir, "report.pdf")
        with open(report, "wb") as f:
            f.write(os.urandom(5000))
        copied = QMimeData()
        copied.setUrls([QUrl.fromLocalFile(report)])
        QApplication.clipboard().setMimeData(copied)
        qtbot.keyClick(a_main.input.editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        assert [c.file["name"] for c in cards(alice.state)][-1] == "report.pdf"
        assert a_main.input.text() == ""
        qtbot.waitUntil(lambda: bool(received(bob.state, "report.pdf")), timeout=10000)
    finally:
        QApplication.clipboard().clear()
        close(alice, bob)
        if pasted and os.path.exists(pasted):
            os.remove(pasted)
