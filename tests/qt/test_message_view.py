"""The message view without a server: a model with every kind of row, clicks on the links the
delegate lays out, day separators, scrolling, dropped files, and the language switch."""

import datetime
import os
from dataclasses import dataclass
from typing import Optional

import pytest
from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QColor, QDropEvent, QImage, QPixmap
from PyQt6.QtTest import QTest

from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, Delivery, ItemKind, MessagesModel
from chat.qtclient.widgets.messages import THUMB, ImageViewer, MessageView, show_image

M = ItemKind.MESSAGE
NOW = 1000.0                      # the view's monotonic clock in these tests


@dataclass
class FakeTransfer:
    """What the view reads of the client core's Transfer."""
    direction: str
    name: str
    size: int
    path: Optional[str] = None
    state: str = "waiting"
    done: int = 0
    speed: float = 0.0
    error: Optional[tuple] = None

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.size if self.size else 0.0


def ts(days_ago=0, hour=10, minute=0) -> str:
    """A wire timestamp at a local time ``days_ago`` days back."""
    moment = (datetime.datetime.now().astimezone() - datetime.timedelta(days=days_ago)) \
        .replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def file_view(file_id, name, size, mime="application/pdf") -> dict:
    return {"id": file_id, "name": name, "size": size, "mime": mime, "sha256": "0" * 64,
            "from": "bob"}


def png(path, width=640, height=320) -> str:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#4a90d9"))
    assert image.save(path)
    return path


@pytest.fixture
def translator():
    return Translator("en")


@pytest.fixture
def make_view(qtbot, translator):
    def make(items, width=900, height=700, avatar_for=lambda name: None):
        model = MessagesModel("#lobby")
        for item in items:
            model.append(item)
        view = MessageView(translator, avatar_for=avatar_for, clock=lambda: NOW)
        qtbot.addWidget(view)
        view.setModel(model)
        view.resize(width, height)
        view.show()
        qtbot.waitExposed(view)
        view.doItemsLayout()
        return view, model
    return make


def every_kind(tmp_dir) -> dict:
    image = png(os.path.join(tmp_dir, "photo.png"))
    return {
        "other": ChatItem(M, "hello 👋 你好", "bob", ts(0, 9, 0), 1),
        "own": ChatItem(M, "hi bob", "alice", ts(0, 9, 1), 2, own=True),
        "private": ChatItem(M, "psst", "bob", ts(0, 9, 2), 3, private=True),
        "system": ChatItem(ItemKind.SYSTEM, "carol joined #lobby.", ts=ts(0, 9, 3)),
        "notice": ChatItem(ItemKind.NOTICE, "Restart at 22:00", "root", ts(0, 9, 4)),
        "burning": ChatItem(M, "secret", "bob", ts(0, 9, 5), 4, private=True, burn=5,
                            burn_at=NOW + 3.2),
        "read": ChatItem(M, "mine", "alice", ts(0, 9, 6), 5, own=True, private=True,
                         read_by_peer=True, burn=5.0),
        "card": ChatItem(M, "", "bob", ts(0, 9, 7), 6, file=file_view(1, "report.pdf", 4096)),
        "running": ChatItem(M, "", "bob", ts(0, 9, 8), 7, file=file_view(2, "big.zip", 10_000),
                            transfer=FakeTransfer("down", "big.zip", 10_000, state="receiving",
                                                  done=4_500, speed=2048)),
        "done": ChatItem(M, "", "bob", ts(0, 9, 9), 8, file=file_view(3, "notes.txt", 10),
                         transfer=FakeTransfer("down", "notes.txt", 10, path="/tmp/x/notes.txt",
                                               state="done", done=10)),
        "broken": ChatItem(M, "", "bob", ts(0, 9, 10), 9, file=file_view(4, "a.bin", 10),
                           transfer=FakeTransfer("down", "a.bin", 10, state="failed",
                                                 error=("bad_request", "checksum mismatch"))),
        "cancelled": ChatItem(M, "", "bob", ts(0, 9, 10), 12, file=file_view(7, "b.bin", 10),
                              transfer=FakeTransfer("down", "b.bin", 10, state="cancelled")),
        "upload_failed": ChatItem(M, "", "alice", ts(0, 9, 10), 13, own=True,
                                  file=file_view(8, "c.bin", 10),
                                  transfer=FakeTransfer("up", "c.bin", 10, state="failed",
                                                        error=("too_large", "too big"))),
        "image": ChatItem(M, "", "alice", ts(0, 9, 11), 10, own=True,
                          file=file_view(5, "photo.png", os.path.getsize(image), "image/png"),
                          transfer=FakeTransfer("up", "photo.png", 1, path=image, state="done")),
        "no_image_yet": ChatItem(M, "", "bob", ts(0, 9, 12), 11,
                                 file=file_view(6, "cat.jpg", 30_000, "image/jpeg")),
        "pending": ChatItem(M, "on its way", "alice", own=True, cid="c1",
                            delivery=Delivery.PENDING),
        "failed": ChatItem(M, "refused", "alice", own=True, cid="c2",
                           delivery=Delivery.FAILED, error="rate limited"),
    }


def row_of(model, item) -> int:
    return next(row for row, i in enumerate(model.items) if i is item)


def texts(view, row) -> str:
    return " ".join(span.text for line in view.row_layout(row).lines for span in line)


def click(qtbot, view, row, action):
    view.scrollTo(view.model().index(row, 0))
    rect = view.action_rect(row, action)
    assert rect is not None and rect.isValid(), (row, action)
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_every_kind_has_a_height_and_long_text_makes_taller_rows(make_view, tmp_dir):
    items = every_kind(tmp_dir)
    short = ChatItem(M, "short", "bob", ts(0, 10, 0), 20)
    long = ChatItem(M, "a long line that has to wrap " * 40 + "很长的中文" * 60, "bob",
                    ts(0, 10, 1), 21)
    view, model = make_view(list(items.values()) + [short, long])
    delegate = view.itemDelegate()
    heights = [delegate.sizeHint(None, model.index(row)).height()
               for row in range(model.rowCount())]
    assert all(h > 0 for h in heights)
    assert heights[row_of(model, long)] > heights[row_of(model, short)] + 100
    # the text fits its bubble, and the bubble its row
    lay = view.row_layout(row_of(model, long))
    assert lay.doc.size().height() <= lay.bubble.height()
    assert lay.bubble.bottom() < view.visualRect(model.index(row_of(model, long))).bottom()
    view.grab()                     # paints every kind without an error


def test_rows_are_laid_out_again_when_the_width_changes(qtbot, make_view):
    long = ChatItem(M, "words that wrap " * 60, "bob", ts(0, 10, 0), 1)
    view, model = make_view([long], width=900)
    wide = view.visualRect(model.index(0)).height()
    view.resize(420, 700)
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height() > wide, timeout=2000)
    lay = view.row_layout(0)
    assert lay.bubble.right() < view.viewport().width()


def test_status_lines_delivery_read_and_burn(make_view, tmp_dir):
    items = every_kind(tmp_dir)
    view, model = make_view(list(items.values()))
    assert "sending…" in texts(view, row_of(model, items["pending"]))
    failed = texts(view, row_of(model, items["failed"]))
    assert "Not sent: rate limited" in failed and "Retry" in failed
    read = texts(view, row_of(model, items["read"]))
    assert "Read" in read and "burns 5 s after reading" in read
    assert "burns in 4 s" in texts(view, row_of(model, items["burning"]))
    assert "Read" not in texts(view, row_of(model, items["private"]))
    running = texts(view, row_of(model, items["running"]))
    assert "45%" in running and "2 KiB/s" in running and "Cancel" in running
    assert "checksum mismatch" in texts(view, row_of(model, items["broken"]))


def test_clicking_retry_emits_the_item(qtbot, make_view, tmp_dir):
    items = every_kind(tmp_dir)
    view, model = make_view(list(items.values()))
    with qtbot.waitSignal(view.retryRequested, timeout=1000) as blocker:
        click(qtbot, view, row_of(model, items["failed"]), "retry")
    assert blocker.args[0] is items["failed"]
    # a row without that link has no rect for it
    assert view.action_rect(row_of(model, items["own"]), "retry") is None


@pytest.mark.parametrize("name, action, signal, expected", [
    ("card", "download", "downloadRequested", "item"),
    ("no_image_yet", "download", "downloadRequested", "item"),
    ("running", "cancel", "cancelRequested", "item"),
    ("broken", "download", "downloadRequested", "item"),
    ("cancelled", "download", "downloadRequested", "item"),
    ("upload_failed", "retry_upload", "retryRequested", "item"),
    ("done", "open", "openRequested", "/tmp/x/notes.txt"),
    ("done", "show", "showInFolderRequested", "/tmp/x/notes.txt"),
])
def test_file_links_emit_their_signals(qtbot, make_view, tmp_dir, name, action, signal,
                                       expected):
    items = every_kind(tmp_dir)
    view, model = make_view(list(items.values()))
    item = items[name]
    with qtbot.waitSignal(getattr(view, signal), timeout=1000) as blocker:
        click(qtbot, view, row_of(model, item), action)
    assert blocker.args[0] is item if expected == "item" else blocker.args[0] == expected


# the offscreen platform cannot size or raise a top-level window, and says so
OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


@OFFSCREEN
def test_image_is_an_inline_thumbnail_and_a_click_shows_it(qtbot, make_view, tmp_dir):
    items = every_kind(tmp_dir)
    view, model = make_view(list(items.values()))
    row = row_of(model, items["image"])
    lay = view.row_layout(row)
    assert lay.image is not None and lay.image.width() == THUMB
    assert lay.image.height() == THUMB // 2                # 640x320 keeps its aspect
    assert view.row_layout(row_of(model, items["no_image_yet"])).placeholder is not None
    with qtbot.waitSignal(view.imageClicked, timeout=1000) as blocker:
        click(qtbot, view, row, "image")
    path = blocker.args[0]
    assert path == items["image"].transfer.path
    viewer = show_image(view, path)
    qtbot.addWidget(viewer)
    assert isinstance(viewer, ImageViewer) and viewer.label.pixmap().width() == 640
    viewer.close()


def test_a_download_that_finishes_becomes_a_thumbnail(qtbot, make_view, tmp_dir):
    picture = ChatItem(M, "", "bob", ts(0, 9, 0), 1,
                       file=file_view(1, "cat.png", 100, "image/png"),
                       transfer=FakeTransfer("down", "cat.png", 100, state="receiving",
                                             done=50))
    view, model = make_view([picture])
    assert view.row_layout(0).placeholder is not None and view.row_layout(0).progress
    before = view.visualRect(model.index(0)).height()
    picture.transfer.path = png(os.path.join(tmp_dir, "cat.png"), 200, 400)
    picture.transfer.state = "done"
    model.changed(0)
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height() != before, timeout=2000)
    lay = view.row_layout(0)
    assert lay.image.width() == 120 and lay.image.height() == THUMB


def test_day_separators_only_above_the_first_item_of_a_day(make_view):
    items = [ChatItem(M, "a", "bob", ts(3, 9), 1), ChatItem(M, "b", "bob", ts(3, 10), 2),
             ChatItem(M, "c", "bob", ts(1, 9), 3), ChatItem(ItemKind.SYSTEM, "x", ts=ts(1, 10)),
             ChatItem(M, "d", "bob", ts(0, 9), 4), ChatItem(M, "e", "bob", ts(0, 10), 5),
             ChatItem(M, "pending", "alice", own=True, delivery=Delivery.PENDING)]
    view, model = make_view(items)
    days = [view.row_layout(row).day_text for row in range(model.rowCount())]
    three_days_ago = datetime.date.today() - datetime.timedelta(days=3)
    assert days[0].endswith(three_days_ago.isoformat())
    assert days[1:] == ["", "Yesterday", "", "Today", "", ""]


def test_near_top_when_scrolled_up_and_position_kept_when_older_rows_arrive(qtbot,
                                                                             make_view):
    items = [ChatItem(M, f"message {i}", "bob", ts(0, 9), 100 + i) for i in range(100)]
    view, model = make_view(items, height=400)
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum() and view.at_bottom()
    # a new row while at the bottom: followed
    model.append(ChatItem(M, "new", "bob", ts(0, 9), 300))
    qtbot.waitUntil(lambda: bar.value() == bar.maximum() and view.at_bottom(), timeout=2000)
    # scrolled up a little: a new row does not move the view
    bar.setValue(bar.maximum() - 1000)
    value, maximum = bar.value(), bar.maximum()
    model.append(ChatItem(M, "newer", "bob", ts(0, 9), 301))
    qtbot.waitUntil(lambda: bar.maximum() > maximum, timeout=2000)     # laid out with it
    assert bar.value() == value and not view.at_bottom()
    # older rows at the top: what the user looks at stays in place
    from_bottom = bar.maximum() - bar.value()
    model.prepend([ChatItem(M, f"old {i}", "bob", ts(0, 8), i) for i in range(1, 30)])
    qtbot.waitUntil(lambda: bar.maximum() - bar.value() == from_bottom, timeout=2000)
    with qtbot.waitSignal(view.nearTop, timeout=1000):
        bar.setValue(0)


def test_new_rows_scroll_into_view_only_at_the_bottom_after_a_model_switch(qtbot, make_view):
    view, _ = make_view([ChatItem(M, f"m {i}", "bob", ts(0, 9), i) for i in range(50)],
                        height=300)
    other = MessagesModel("@bob")
    view.setModel(other)
    with qtbot.waitSignal(view.nearTop, timeout=1000):
        other.append(ChatItem(M, "only one", "bob", ts(0, 9), 1))   # all fits: ask for more
    assert view.at_bottom()


def test_files_dropped_on_the_view(qtbot, make_view, tmp_dir):
    view, _ = make_view([])
    mime = QMimeData()
    path = os.path.join(tmp_dir, "a.txt")
    mime.setUrls([QUrl.fromLocalFile(path), QUrl("https://example.com/page")])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(view.filesDropped, timeout=1000) as blocker:
        view.dropEvent(event)
    assert blocker.args == [[path]]


def test_avatars_and_language_switch(qtbot, make_view, translator):
    pixmap = QPixmap(40, 40)
    pixmap.fill(QColor("red"))
    asked = []
    view, _ = make_view([ChatItem(M, "a", "bob", ts(1, 9), 1),
                         ChatItem(M, "b", "bob", ts(0, 9), 2)],
                        avatar_for=lambda name: asked.append(name) or pixmap)
    image = view.grab().toImage()
    lay = view.row_layout(0)
    assert "bob" in asked
    assert image.pixelColor(lay.avatar.center()) == QColor("red")
    assert [view.row_layout(r).day_text for r in (0, 1)] == ["Yesterday", "Today"]
    translator.set_language("zh")
    assert [view.row_layout(r).day_text for r in (0, 1)] == ["昨天", "今天"]
    assert view.itemDelegate().day_text(datetime.date(2026, 11, 23)) == "2026-11-23 星期一"
