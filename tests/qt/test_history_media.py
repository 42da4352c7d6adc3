"""The history window's pictures and results: images and stickers show as thumbnails (an image
this computer has not fetched yet is fetched), and choosing a result opens the conversation at
that message, loading older pages as needed, highlighted."""

import os

import pytest
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QColor, QImage

from chat.qtclient import stickers, theme
from chat.qtclient.models import ItemKind
from chat.qtclient.widgets.history import THUMB
from tests.qt.test_app import close, log_in, make_app

OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


def stored(state, conv="#lobby"):
    return [i for i in state.log(conv).items if i.kind is ItemKind.MESSAGE and i.msg_id]


@OFFSCREEN
def test_thumbnails_and_a_result_opens_the_conversation_there(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        log_in(qtbot, bob, "bob")
        photo = os.path.join(tmp_dir, "whiteboard.png")
        image = QImage(400, 200, QImage.Format.Format_RGB32)
        image.fill(QColor("#3e63dd"))
        assert image.save(photo)
        bob.session.send_file("#lobby", photo)
        qtbot.waitUntil(lambda: len(stored(bob.state)) == 1, timeout=10000)
        panda = stickers.builtin_sets()[1].stickers[3]
        bob.session.send_file("#lobby", panda.path, stickers.sticker_mime(panda.path))
        qtbot.waitUntil(lambda: len(stored(bob.state)) == 2, timeout=10000)
        for i in range(30):
            bob.state.send(f"later message {i}")
        qtbot.waitUntil(lambda: len(stored(bob.state)) == 32, timeout=10000)
        helper = make_app(tmp_dir, "carol", server.port)
        log_in(qtbot, helper, "carol")
        for i in range(30):
            helper.state.send(f"carol says {i}")
        qtbot.waitUntil(lambda: len(stored(bob.state)) == 62, timeout=10000)
        close(helper)
        # alice logs in after all that: a page is 50 messages, the photo is not in hers
        main = log_in(qtbot, alice, "alice")
        qtbot.waitUntil(lambda: len(stored(alice.state)) >= 50, timeout=10000)
        first_page = {i.msg_id for i in stored(alice.state)}
        alice.open_history("#lobby")
        window = alice.history_windows["#lobby"]
        qtbot.waitUntil(lambda: window.loaded, timeout=10000)
        rows = window.model.rows
        photo_row = next(r for r, m in enumerate(rows) if (m.get("file") or {}).get(
            "name") == "whiteboard.png")
        sticker_row = next(r for r, m in enumerate(rows) if stickers.is_sticker(m.get("file")))
        assert rows[photo_row]["id"] not in first_page
        model = window.model
        deco = Qt.ItemDataRole.DecorationRole
        # the sticker is one of ours: its thumbnail at once, its text says what it is
        assert model.data(model.index(sticker_row, 2), deco) is not None
        assert model.data(model.index(sticker_row, 2)) == "[sticker]"
        # the photo is fetched for the list, then shown
        qtbot.waitUntil(lambda: model.data(model.index(photo_row, 2), deco) is not None,
                        timeout=10000)
        thumb = model.data(model.index(photo_row, 2), deco)
        assert max(thumb.width(), thumb.height()) == THUMB
        assert window.table.rowHeight(photo_row) >= THUMB
        text_row = next(r for r, m in enumerate(rows) if not m.get("file"))
        assert window.table.rowHeight(text_row) < THUMB        # text rows stay one line
        # double-click the photo's row: the main window shows it, highlighted
        window.table.scrollTo(model.index(photo_row, 2))
        cell = window.table.visualRect(model.index(photo_row, 2))
        # as a person does it: the first click selects, the second is the double click
        qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())
        qtbot.mouseDClick(window.table.viewport(), Qt.MouseButton.LeftButton,
                          pos=cell.center())
        wanted = rows[photo_row]["id"]
        view = main.view
        qtbot.waitUntil(lambda: view.highlighted == wanted, timeout=10000)
        assert alice.state.current == "#lobby"
        row = alice.state.log("#lobby").row_of_id(wanted)
        rect = view.visualRect(view.model().index(row, 0))
        assert view.viewport().rect().intersects(rect)          # scrolled into view
        grabbed = view.viewport().grab().toImage()
        spot = rect.intersected(view.viewport().rect())
        probe = QRect(spot.right() - 4, spot.center().y(), 1, 1)
        assert grabbed.pixelColor(probe.topLeft()).name() == theme.colour(
            "highlight_row").name()
        view._unhighlight.timeout.emit()                       # the highlight goes again
        assert view.highlighted is None
    finally:
        close(alice, bob)
