"""The minor defects of issue 14 (point 12): the app icon, the image viewer fitted and zoomed,
no unread badge on a cleared conversation, privacy mode per conversation, only burning
messages marked red, underlined Chinese links, the lock delay in an admin's settings."""

import os

import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt, QTimer
from PyQt6.QtGui import QColor, QImage, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PyQt6.QtWidgets import QApplication

from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, ItemKind, MessagesModel
from chat.qtclient.session import Session
from chat.qtclient.widgets.messages import BUBBLE, LINK, ImageViewer, MessageView
from chat.qtclient.widgets.settings_dialog import SettingsDialog
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred
from tests.qt.test_app import close, log_in, make_app, type_and_send
from tests.qt.test_message_view import NOW, file_view, ts

OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


# ---------------------------------------------------------------------- the icon
def test_every_window_and_the_tray_have_the_app_icon(qtbot, tmp_dir):
    app = make_app(tmp_dir, "alice", 1)
    try:
        icon = QApplication.instance().windowIcon()
        assert not icon.isNull()
        sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
        assert {(16, 16), (32, 32), (256, 256)} <= sizes      # tray, taskbar, launchers
        assert app.login.windowIcon().cacheKey() == icon.cacheKey()
        # a drawn bubble: opaque blue in the middle, transparent in a corner
        image = icon.pixmap(64, 64).toImage()
        assert image.pixelColor(32, 26).blue() > 200 and image.pixelColor(1, 63).alpha() == 0
    finally:
        close(app)


# ---------------------------------------------------------------------- the image viewer
def wheel(widget, steps: int) -> None:
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


@OFFSCREEN
def test_image_viewer_opens_fitted_and_zooms_with_the_wheel(qtbot, tmp_path):
    path = str(tmp_path / "big.png")
    image = QImage(3000, 2000, QImage.Format.Format_RGB32)
    image.fill(QColor("#30a46c"))
    image.save(path)
    viewer = ImageViewer(path)
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    scroll = viewer.scroll
    assert viewer.fitted and viewer.zoom < 0.3
    shown = viewer.label.pixmap().size()
    assert shown.width() <= scroll.viewport().width()
    assert shown.height() <= scroll.viewport().height()
    assert shown.width() >= scroll.viewport().width() - 2 or \
        shown.height() >= scroll.viewport().height() - 2      # as big as fits
    assert not scroll.horizontalScrollBar().isVisible()
    assert not scroll.verticalScrollBar().isVisible()
    fitted = viewer.zoom
    wheel(scroll.viewport(), 3)                                # zoom in
    assert not viewer.fitted and viewer.zoom == pytest.approx(fitted * 1.25 ** 3)
    QApplication.processEvents()
    assert scroll.horizontalScrollBar().isVisible()            # now it scrolls
    wheel(scroll.viewport(), -1)
    assert viewer.zoom == pytest.approx(fitted * 1.25 ** 2)
    qtbot.keyClick(viewer, Qt.Key.Key_0)                       # fit again
    assert viewer.fitted and viewer.zoom == pytest.approx(fitted)
    qtbot.keyClick(viewer, Qt.Key.Key_1)                       # 1:1
    assert viewer.zoom == 1.0 and viewer.label.pixmap().width() == 3000
    # a small picture is never blown up
    small = str(tmp_path / "small.png")
    QImage(100, 50, QImage.Format.Format_RGB32).save(small)
    little = ImageViewer(small)
    qtbot.addWidget(little)
    assert little.zoom == 1.0 and little.label.pixmap().width() == 100


def pinch(widget, value: float) -> None:
    """A touchpad's pinch as Qt delivers it (macOS, Wayland): a zoom native gesture whose
    value is the change of scale (0.5 = half as big again)."""
    centre = QPointF(widget.width() / 2, widget.height() / 2)
    event = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
        centre, centre, QPointF(widget.mapToGlobal(centre.toPoint())), value, QPointF(0, 0))
    QApplication.sendEvent(widget, event)


@OFFSCREEN
def test_image_viewer_zooms_with_a_pinch(qtbot, tmp_path):
    path = str(tmp_path / "big.png")
    image = QImage(3000, 2000, QImage.Format.Format_RGB32)
    image.fill(QColor("#30a46c"))
    image.save(path)
    viewer = ImageViewer(path)
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    fitted = viewer.zoom
    pinch(viewer.scroll.viewport(), 0.5)                       # fingers apart: bigger
    assert not viewer.fitted and viewer.zoom == pytest.approx(fitted * 1.5)
    QApplication.processEvents()
    assert viewer.label.pixmap().width() == pytest.approx(3000 * fitted * 1.5, abs=2)
    pinch(viewer.scroll.viewport(), -0.2)                      # together: smaller
    assert viewer.zoom == pytest.approx(fitted * 1.5 * 0.8)


# ---------------------------------------------------------------------- bubbles and links
def view_of(qtbot, items, lang="en"):
    model = MessagesModel("@bob")
    for item in items:
        model.append(item)
    view = MessageView(Translator(lang), clock=lambda: NOW)
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    view.doItemsLayout()
    return view


def bubble_colour(view, row) -> QColor:
    lay = view.row_layout(row)
    grabbed = view.viewport().grab().toImage()
    return grabbed.pixelColor(lay.bubble.left() + 4, lay.bubble.center().y())


def test_only_burning_messages_are_marked_red(qtbot):
    M = ItemKind.MESSAGE
    view = view_of(qtbot, [
        ChatItem(M, "plain private", "bob", ts(0, 9, 0), 1, private=True),
        ChatItem(M, "mine, private", "alice", ts(0, 9, 1), 2, own=True, private=True),
        ChatItem(M, "this burns", "bob", ts(0, 9, 2), 3, private=True, burn=5),
    ])
    other, own, burning = (QColor(BUBBLE[k][0]).name() for k in ("other", "own", "private"))
    assert bubble_colour(view, 0).name() == other
    assert bubble_colour(view, 1).name() == own
    assert bubble_colour(view, 2).name() == burning


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_file_card_links_are_underlined_in_both_languages(qtbot, lang):
    card = ChatItem(ItemKind.MESSAGE, "", "bob", ts(0, 9, 0), 1,
                    file=file_view(1, "report.pdf", 4096))
    view = view_of(qtbot, [card], lang)
    link = view.action_rect(0, "download")
    assert link is not None
    grabbed = view.viewport().grab().toImage()
    text_w = view.fontMetrics().horizontalAdvance(Translator(lang).tr("file_download"))

    def link_coloured(x, y):
        c = grabbed.pixelColor(x, y)
        return abs(c.red() - LINK.red()) < 60 and abs(c.green() - LINK.green()) < 60 \
            and abs(c.blue() - LINK.blue()) < 60
    # a line of the link's colour under (most of) the text: the underline
    best = max(sum(link_coloured(x, y) for x in range(link.left(), link.left() + text_w))
               for y in range(link.center().y(), link.bottom() + 3))
    assert best >= 0.8 * min(text_w, link.width()) * 0.8, (best, text_w)


# ---------------------------------------------------------------------- in the whole app
def test_privacy_mode_is_per_conversation(qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        alice.state.select("@bob")
        main.input.burn_button.setChecked(True)
        alice.state.select("#lobby")
        assert not main.input.privacy_mode()               # off in the room
        type_and_send(qtbot, main, "not burning")
        mine = [i for i in alice.state.log("#lobby").items if i.text == "not burning"]
        assert mine and not mine[0].burn
        alice.state.select("@bob")
        assert main.input.privacy_mode()                   # still on with bob
    finally:
        close(alice, bob)


def test_a_cleared_conversation_has_no_unread_badge_now_or_after_a_new_login(
        qtbot, server, tmp_dir):
    alice, bob = make_app(tmp_dir, "alice", server.port), make_app(tmp_dir, "bob", server.port)
    try:
        log_in(qtbot, alice, "alice")
        b_main = log_in(qtbot, bob, "bob")
        bob.state.select("@alice")
        for n in range(3):
            type_and_send(qtbot, b_main, f"unread {n}")
        qtbot.waitUntil(lambda: alice.state.conversations.get("@bob") is not None
                        and alice.state.conversations.get("@bob").unread == 3, timeout=5000)
        assert alice.state.current == "#lobby"
        alice.state.clear_local("@bob")                     # the history window's button
        assert alice.state.conversations.get("@bob").unread == 0
        assert alice.state.conversations.total_unread() == 0
        qtbot.waitUntil(lambda: alice.state.cleared_up_to("@bob") > 0, timeout=5000)
        wait_deferred(qtbot, alice.session.client.flush_reads())
        again = Session(qt_reactor())
        wait_deferred(qtbot, again.login("127.0.0.1", server.port, "alice", PASSWORD))
        assert again.model.unread.get("@bob", 0) == 0
        again.close()
    finally:
        close(alice, bob)


@OFFSCREEN
def test_an_admins_settings_have_the_lock_delay(qtbot, server, tmp_dir):
    root = make_app(tmp_dir, "root", server.port)
    try:
        log_in(qtbot, root, "root")
        assert root.session.is_admin
        seen = []

        def look():
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, SettingsDialog):
                QTimer.singleShot(10, look)
                return
            seen.append(dialog.admin_group.isVisibleTo(dialog))
            dialog.reject()
        QTimer.singleShot(0, look)
        root.main.settingsRequested.emit()                 # Chat > Settings
        assert seen == [True]
    finally:
        close(root)
