"""Stickers: the built-in sets are shipped (declared as package data) and drawn on transparent
ground; one click in the panel sends one as an image marked ``sticker``; the receiver shows it
large without a bubble, from its own copy of a built-in one (no download), and an old client's
view (no parameter known) is an ordinary picture; the user's own pictures become stickers
kept in their folder; the panel speaks both languages."""

import configparser
import hashlib
import os
import pathlib

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QImage

from chat.qtclient import stickers
from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, ItemKind
from chat.qtclient.widgets.messages import BUBBLE
from chat.qtclient.widgets.sticker_panel import StickerPanel
from tests.qt.support import wait_deferred
from tests.qt.test_app import close, log_in, make_app
from tests.qt.test_message_view import ts
from tests.qt.test_minor_defects import view_of

ROOT = pathlib.Path(__file__).resolve().parents[2]
OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


def test_two_or_more_builtin_sets_shipped_as_package_data():
    sets = stickers.builtin_sets()
    assert len(sets) >= 2 and all(len(s.stickers) >= 6 for s in sets)
    for s in sets:
        for sticker in s.stickers:
            with open(sticker.path, "rb") as f:
                assert hashlib.sha256(f.read()).hexdigest() == sticker.sha256
            image = QImage(sticker.path)
            assert image.width() == 256 and image.hasAlphaChannel()
            assert image.pixelColor(1, 1).alpha() == 0          # transparent ground
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    data = config["options.package_data"]["chat.qtclient"]
    assert "sticker_sets/*/*.png" in data and "sticker_sets/index.json" in data


def test_the_sticker_mark_and_what_old_clients_see():
    assert stickers.sticker_mime("x/happy.png") == "image/png; sticker"
    assert stickers.is_sticker({"mime": "image/png; sticker"})
    assert stickers.is_sticker({"mime": "IMAGE/PNG;Sticker"})
    assert not stickers.is_sticker({"mime": "image/png"})
    assert not stickers.is_sticker({"mime": "text/plain; sticker"})
    # an older client tests the type's start: it still sees a picture
    item = ChatItem(ItemKind.MESSAGE, file={"mime": "image/png; sticker"})
    assert item.is_image and item.is_sticker


def test_a_sticker_is_drawn_large_without_a_bubble(qtbot):
    happy = stickers.builtin_sets()[0].stickers[0]
    file = {"id": 1, "name": "happy.png", "size": 100, "mime": "image/png; sticker",
            "sha256": happy.sha256}
    photo = dict(file, id=2, mime="image/png")
    view = view_of(qtbot, [
        ChatItem(ItemKind.MESSAGE, "", "bob", ts(0, 9, 0), 1, file=file, picture=happy.path),
        ChatItem(ItemKind.MESSAGE, "", "bob", ts(0, 9, 1), 2, file=photo, picture=happy.path)])
    sticker, picture = view.row_layout(0), view.row_layout(1)
    assert sticker.sticker and not picture.sticker
    assert sticker.image.width() == 160 and sticker.image.height() == 160
    assert not sticker.actions.keys() - {"image"}            # no "Show in folder" under it
    grabbed = view.viewport().grab().toImage()
    # the bubble's colour shows around a picture, but not around a sticker
    bubble = QColor(BUBBLE["other"][0]).name()
    assert grabbed.pixelColor(picture.bubble.left() + 3, picture.bubble.center().y()).name() \
        == bubble
    assert grabbed.pixelColor(sticker.bubble.left() + 3, sticker.bubble.top() + 3).name() \
        != bubble


@OFFSCREEN
def test_one_click_sends_and_the_other_side_shows_its_own_copy(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        a_main.input.sticker_dir = os.path.join(tmp_dir, "alice-stickers")
        qtbot.mouseClick(a_main.input.sticker_button, Qt.MouseButton.LeftButton)
        panel = a_main.input.sticker_panel
        assert panel is not None and panel.isVisible()
        cat = stickers.builtin_sets()[1].stickers[0]
        qtbot.mouseClick(panel.buttons[cat.path], Qt.MouseButton.LeftButton)
        assert not panel.isVisible()
        qtbot.waitUntil(lambda: any(i.file for i in bob.state.log("#lobby").items),
                        timeout=10000)
        got = [i for i in bob.state.log("#lobby").items if i.file][0]
        assert got.is_sticker and got.file["sha256"] == cat.sha256
        assert got.picture == cat.path and got.transfer is None      # nothing downloaded
        assert not os.path.isdir(os.path.join(tmp_dir, "images-bob")) or \
            not os.listdir(os.path.join(tmp_dir, "images-bob"))
        # bob may hear of the message before alice hears that her upload is complete: the
        # second one starts once the server has every byte of the first
        ups = [t for t in alice.state.transfers.rows if t.direction == "up"]
        assert len(ups) == 1
        qtbot.waitUntil(lambda: ups[0].state.value == "done", timeout=10000)
        # the same sticker again: a new message, the bytes are not sent again
        qtbot.mouseClick(a_main.input.sticker_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(panel.isVisible, timeout=5000)
        qtbot.mouseClick(panel.buttons[cat.path], Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len([i for i in bob.state.log("#lobby").items if i.file]) == 2,
                        timeout=10000)
        ups = [t for t in alice.state.transfers.rows if t.direction == "up"]
        assert len(ups) == 2
        qtbot.waitUntil(lambda: ups[1].state.value == "done", timeout=10000)
        assert ups[1].resumed_from == ups[1].size        # the server had every byte
    finally:
        close(alice, bob)


def test_own_pictures_become_stickers_kept_in_the_folder(qtbot, tmp_dir):
    folder = os.path.join(tmp_dir, "mine")
    panel = StickerPanel(Translator("en"), folder)
    qtbot.addWidget(panel)
    assert panel.own == [] and panel.tabs.tabText(panel.tabs.count() - 1) == "My stickers"
    big = os.path.join(tmp_dir, "holiday.jpg")
    image = QImage(1600, 1000, QImage.Format.Format_RGB32)
    image.fill(QColor("#e5484d"))
    assert image.save(big)
    bogus = os.path.join(tmp_dir, "notes.png")
    with open(bogus, "wb") as f:
        f.write(b"not a picture at all")
    added = wait_deferred(qtbot, panel.add_pictures([big, bogus]))
    assert len(added) == 1 and os.path.dirname(added[0]) == folder
    kept = QImage(added[0])
    assert max(kept.width(), kept.height()) == stickers.OWN_MAX     # scaled down
    assert [s.path for s in panel.own] == added and added[0] in panel.buttons
    assert "notes.png" in panel.own_hint.text()
    chosen = []
    panel.picked.connect(chosen.append)
    qtbot.mouseClick(panel.buttons[added[0]], Qt.MouseButton.LeftButton)
    assert chosen == added
    # a new panel (the next start) finds it; removing it empties the tab
    again = StickerPanel(Translator("zh"), folder)
    qtbot.addWidget(again)
    assert [s.path for s in again.own] == added
    assert again.tabs.tabText(again.tabs.count() - 1) == "我的贴纸"
    assert again.tabs.tabText(0) == "表情"
    again.remove_own(added[0])
    assert again.own == [] and not os.path.exists(added[0])
