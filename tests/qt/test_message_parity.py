"""The conversation view on a par with the chat apps people use (issue 14): consecutive
messages of one sender grouped, links coloured and clickable, text selected and copied, and
a message of one to three emoji alone shown large."""

import pytest
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QColor, QGuiApplication, QMouseEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QLineEdit

from chat.qtclient import theme
from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, Delivery, ItemKind, MessagesModel
from chat.qtclient.widgets.messages import BUBBLE, MessageView
from chat.qtclient.widgets.messages.layout import BIG_EMOJI_PX
from chat.qtclient.widgets.messages.text import emoji_count, find_links
from tests.qt.test_message_view import NOW, ts

M = ItemKind.MESSAGE


@pytest.fixture(autouse=True)
def light_afterwards():
    yield
    theme.apply("light")


@pytest.fixture
def view_of(qtbot):
    def make(items, lang="en", width=800, height=600):
        model = MessagesModel("#lobby")
        for item in items:
            model.append(item)
        view = MessageView(Translator(lang), clock=lambda: NOW)
        qtbot.addWidget(view)
        view.setModel(model)
        view.resize(width, height)
        view.show()
        qtbot.waitExposed(view)
        view.doItemsLayout()
        return view, model
    return make


def point_of(view, row, position) -> QPoint:
    """Where character ``position`` of row ``row``'s text is drawn (viewport coordinates)."""
    lay = view.row_layout(row)
    doc = lay.doc
    block = doc.findBlock(position)
    line = block.layout().lineForTextPosition(position - block.position())
    x = line.cursorToX(position - block.position())[0]
    top = doc.documentLayout().blockBoundingRect(block).top()
    return lay.doc_at + QPoint(round(x) + 1, round(top + line.y() + line.height() / 2))


def mouse(view, kind, pos, buttons=Qt.MouseButton.LeftButton):
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove \
        else Qt.MouseButton.NoButton
    event = QMouseEvent(kind, QPointF(pos), view.viewport().mapToGlobal(QPointF(pos)), button,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QGuiApplication.sendEvent(view.viewport(), event)


def drag(view, start: QPoint, end: QPoint):
    mouse(view, QEvent.Type.MouseButtonPress, start)
    middle = (start + end) / 2
    mouse(view, QEvent.Type.MouseMove, middle)
    mouse(view, QEvent.Type.MouseMove, end)
    mouse(view, QEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


# ---------------------------------------------------------------------- grouping
def test_consecutive_messages_of_one_sender_share_one_avatar_and_name(view_of):
    items = [ChatItem(M, "first", "bob", ts(0, 10, 0), 1),
             ChatItem(M, "second", "bob", ts(0, 10, 1), 2),
             ChatItem(M, "third", "bob", ts(0, 10, 4), 3),
             ChatItem(M, "much later", "bob", ts(0, 10, 30), 4),      # a new group
             ChatItem(M, "mine", "alice", ts(0, 10, 31), 5, own=True),
             ChatItem(M, "mine too", "alice", ts(0, 10, 31), 6, own=True),
             ChatItem(ItemKind.SYSTEM, "carol joined #lobby.", ts=ts(0, 10, 32)),
             ChatItem(M, "after the line", "alice", ts(0, 10, 32), 7, own=True)]
    view, model = view_of(items)
    grouped = [view.row_layout(row).continued for row in range(model.rowCount())]
    assert grouped == [False, True, True, False, False, True, False, False]
    first, second = view.row_layout(0), view.row_layout(1)
    assert first.avatar is not None and [s.text for s in first.header_spans][0] == "bob"
    assert second.avatar is None and second.header_spans == []
    # the grouped bubble sits close under the one before, in the same column
    assert second.bubble.left() == first.bubble.left()
    assert 0 < second.bubble.top() - first.bubble.bottom() <= 8
    assert view.visualRect(model.index(1)).height() < view.visualRect(model.index(0)).height()
    # ours group on the right as well
    assert view.row_layout(5).avatar is None
    assert view.row_layout(5).bubble.right() == view.row_layout(4).bubble.right()


def test_a_new_day_and_a_pending_message_of_ours(view_of):
    items = [ChatItem(M, "late", "bob", ts(1, 23, 59), 1),
             ChatItem(M, "early", "bob", ts(0, 0, 1), 2),               # the next day
             ChatItem(M, "sent", "alice", ts(0, 0, 2), 3, own=True),
             ChatItem(M, "on its way", "alice", own=True, cid="c1", delivery=Delivery.PENDING)]
    view, model = view_of(items)
    assert view.row_layout(1).day is not None and not view.row_layout(1).continued
    # our pending one follows ours; it is "now", which is hours after 00:02 unless the test
    # runs just after midnight: compare with the rule itself
    lay = view.row_layout(3)
    assert lay.continued == view.delegate.continues(model.index(3))
    view2, model2 = view_of([ChatItem(M, "a", "alice", own=True, cid="c0",
                                      delivery=Delivery.PENDING),
                             ChatItem(M, "b", "alice", own=True, cid="c1",
                                      delivery=Delivery.PENDING)])
    assert view2.row_layout(1).continued


def test_a_group_regroups_when_its_first_message_goes(qtbot, view_of):
    items = [ChatItem(M, "burns", "bob", ts(0, 10, 0), 1, burn=5),
             ChatItem(M, "stays", "bob", ts(0, 10, 1), 2)]
    view, model = view_of(items)
    assert view.row_layout(1).continued
    model.remove(0)
    qtbot.waitUntil(lambda: view.visualRect(model.index(0)).height()
                    == view.delegate.sizeHint(None, model.index(0)).height(), timeout=2000)
    assert view.row_layout(0).avatar is not None and not view.row_layout(0).continued


def test_a_grouped_message_shows_its_time_on_hover(qtbot, view_of):
    items = [ChatItem(M, "first", "bob", ts(0, 10, 0), 1),
             ChatItem(M, "second", "bob", ts(0, 10, 2), 2)]
    view, model = view_of(items)
    lay = view.row_layout(1)
    assert lay.side_time_text == "10:02"

    def ink_in(rect):
        image = view.viewport().grab().toImage()
        background = image.pixelColor(rect.left(), rect.top())
        return sum(image.pixelColor(x, y) != background
                   for x in range(rect.left(), rect.right()) for y in range(rect.top(),
                                                                            rect.bottom()))
    assert ink_in(lay.side_time) == 0
    mouse(view, QEvent.Type.MouseMove, lay.bubble.center(), Qt.MouseButton.NoButton)
    assert view.hovered_row == 1
    assert ink_in(lay.side_time) > 20
    mouse(view, QEvent.Type.MouseMove, view.row_layout(0).bubble.center(),
          Qt.MouseButton.NoButton)
    assert view.hovered_row == 0
    assert ink_in(lay.side_time) == 0


# ---------------------------------------------------------------------- links
@pytest.mark.parametrize("text, found", [
    ("see https://example.org/docs.", [("https://example.org/docs", "https://example.org/docs")]),
    ("(www.python.org)", [("www.python.org", "http://www.python.org")]),
    ("看https://x.org/a，好吗", [("https://x.org/a", "https://x.org/a")]),
    ("wiki https://en.wikipedia.org/wiki/Tea_(meal)!",
     [("https://en.wikipedia.org/wiki/Tea_(meal)", "https://en.wikipedia.org/wiki/Tea_(meal)")]),
    ("http://127.0.0.1:5000/x?a=1&b=2 and http://localhost/",
     [("http://127.0.0.1:5000/x?a=1&b=2", "http://127.0.0.1:5000/x?a=1&b=2"),
      ("http://localhost/", "http://localhost/")]),
    ("no links: http:// or www. or a.b", []),
])
def test_links_are_found_in_the_text(text, found):
    assert [(text[s:e], url) for s, e, url in find_links(text)] == found


@pytest.mark.parametrize("name", ["light", "dark"])
def test_links_are_coloured_underlined_and_clicked(qtbot, view_of, name):
    theme.apply(name)
    text = "read https://example.org/guide first"
    view, model = view_of([ChatItem(M, text, "bob", ts(0, 10, 0), 1)])
    lay = view.row_layout(0)
    start = text.index("https")
    on_link, on_text = point_of(view, 0, start + 5), point_of(view, 0, 1)
    assert lay.link_at(on_link) == "https://example.org/guide"
    assert lay.link_at(on_text) == ""
    # drawn in the theme's link colour, underlined
    from PyQt6.QtGui import QTextCursor
    cursor = QTextCursor(lay.doc)
    cursor.setPosition(start + 2)
    fmt = cursor.charFormat()
    assert fmt.isAnchor() and fmt.fontUnderline()
    assert fmt.foreground().color().name() == theme.colour("link").name() \
        == (theme.DARK if name == "dark" else theme.LIGHT)["link"]
    cursor.setPosition(2)
    assert not cursor.charFormat().isAnchor()
    image = view.viewport().grab().toImage()
    link = QColor(theme.colour("link"))
    row_y = on_link.y()
    near = [image.pixelColor(x, y) for x in range(on_link.x(), on_link.x() + 60)
            for y in range(row_y - 8, row_y + 10)]
    assert any(abs(c.red() - link.red()) + abs(c.green() - link.green())
               + abs(c.blue() - link.blue()) < 60 for c in near)
    with qtbot.waitSignal(view.linkClicked, timeout=1000) as blocker:
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=on_link)
    assert blocker.args == ["https://example.org/guide"]
    with qtbot.assertNotEmitted(view.linkClicked):
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=on_text)
    assert view.selected_text() == ""          # a click selects nothing


def test_the_context_menu_copies_a_link_and_the_message(qtbot, view_of):
    text = "docs at www.example.org today"
    view, model = view_of([ChatItem(M, text, "bob", ts(0, 10, 0), 1)])
    on_link = point_of(view, 0, text.index("www") + 3)
    menu = view.context_menu(on_link)
    labels = [a.text() for a in menu.actions()]
    assert labels == ["Open link", "Copy link address", "Copy text"]
    menu.actions()[1].trigger()
    assert QGuiApplication.clipboard().text() == "http://www.example.org"
    menu.actions()[2].trigger()
    assert QGuiApplication.clipboard().text() == text
    zh, _ = view_of([ChatItem(M, text, "bob", ts(0, 10, 0), 1)], lang="zh")
    assert [a.text() for a in zh.context_menu(point_of(zh, 0, 10)).actions()] == [
        "打开链接", "复制链接地址", "复制文字"]


def test_the_main_window_opens_a_clicked_link_in_the_browser(qtbot, monkeypatch, server,
                                                             tmp_dir):
    from PyQt6.QtGui import QDesktopServices
    from tests.qt.test_app import close, log_in, make_app
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()))
    alice = make_app(tmp_dir, "alice", server.port)
    try:
        main = log_in(qtbot, alice, "alice")
        main.view.linkClicked.emit("https://example.org/x")
        assert opened == ["https://example.org/x"]
    finally:
        close(alice)


# ---------------------------------------------------------------------- selecting, copying
def test_text_is_selected_across_messages_and_copied(qtbot, view_of):
    items = [ChatItem(M, "hello there", "bob", ts(0, 10, 0), 1),
             ChatItem(M, "general kenobi", "alice", ts(0, 10, 1), 2, own=True)]
    view, model = view_of(items)
    typed = QLineEdit(view)             # in the same window, as the input bar is
    typed.move(0, view.height() - typed.height())
    typed.show()
    view.typing_target = typed
    drag(view, point_of(view, 0, 6), point_of(view, 1, 7))
    assert view.selected_text() == "there\ngeneral"
    assert view.selection_in(0, view.row_layout(0).doc) == (6, 11)
    assert view.window().focusWidget() is view        # Ctrl+C comes to the view
    QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "there\ngeneral"
    # the selection is painted in the theme's selection colour
    image = view.viewport().grab().toImage()
    spot = point_of(view, 0, 8)
    assert image.pixelColor(spot.x(), spot.y() - 4).name() != \
        QColor(BUBBLE["other"][0]).name()
    highlight = theme.colour("highlight").name()
    assert any(image.pixelColor(x, spot.y() + dy).name() == highlight
               for x in range(spot.x() - 10, spot.x() + 10) for dy in (-5, -3, 3, 5))
    # the context menu copies the selection first
    menu = view.context_menu(point_of(view, 0, 8))
    assert [a.text() for a in menu.actions()][0] == "Copy"
    # typing goes on in the input bar
    QTest.keyClick(view, Qt.Key.Key_X)
    assert typed.text() == "x" and view.window().focusWidget() is typed


def test_a_double_click_selects_a_word_and_selecting_backwards_works(qtbot, view_of):
    text = "one two three"
    view, model = view_of([ChatItem(M, text, "bob", ts(0, 10, 0), 1),
                           ChatItem(M, "four five", "bob", ts(0, 10, 0), 2)])
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      pos=point_of(view, 0, text.index("two") + 1))
    assert view.selected_text() == "two"
    drag(view, point_of(view, 1, 4), point_of(view, 0, 8))      # from below, upwards
    assert view.selected_text() == "three\nfour"
    # a plain click clears it
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(view, 0, 1))
    assert view.selected_text() == ""


def test_a_new_row_at_the_top_clears_the_selection(qtbot, view_of):
    view, model = view_of([ChatItem(M, "some words", "bob", ts(0, 10, 0), 2)])
    drag(view, point_of(view, 0, 0), point_of(view, 0, 4))
    assert view.selected_text() == "some"
    model.prepend([ChatItem(M, "older", "bob", ts(0, 9, 0), 1)])
    assert view.selected_text() == ""


# ---------------------------------------------------------------------- big emoji
@pytest.mark.parametrize("text, count", [
    ("👍", 1), ("👍👍👍", 3), (" 😀 😃 ", 2), ("👍👍👍👍", 4), ("hi 👍", 0), ("👨‍👩‍👧‍👦", 1),
    ("🇨🇳🇬🇧", 2), ("1️⃣", 1), ("👋🏽", 1), ("❤️", 1), ("©", 0), ("™", 0), ("1", 0), ("", 0)])
def test_emoji_are_counted(text, count):
    assert emoji_count(text) == count


def test_one_to_three_emoji_alone_are_shown_large_without_a_bubble(view_of):
    items = [ChatItem(M, "👍", "bob", ts(0, 10, 0), 1),
             ChatItem(M, "🎉🎂🎈", "alice", ts(0, 10, 1), 2, own=True),
             ChatItem(M, "🎉🎂🎈🎁", "bob", ts(0, 10, 2), 3),
             ChatItem(M, "ok 👍", "bob", ts(0, 10, 3), 4)]
    view, model = view_of(items)
    big = [view.row_layout(row).big_emoji for row in range(4)]
    assert big == [True, True, False, False]
    for row in range(4):
        font = view.row_layout(row).doc.defaultFont()
        assert (font.pixelSize() == BIG_EMOJI_PX) == big[row]
    assert view.row_layout(0).doc.size().height() > 1.8 * view.row_layout(3).doc.size().height()
    image = view.viewport().grab().toImage()

    def bubble_fill(row):
        lay = view.row_layout(row)
        return image.pixelColor(lay.bubble.left() + 3, lay.bubble.center().y()).name()
    assert bubble_fill(0) != QColor(BUBBLE["other"][0]).name()        # no bubble
    assert bubble_fill(1) != QColor(BUBBLE["own"][0]).name()
    assert bubble_fill(2) == QColor(BUBBLE["other"][0]).name()        # an ordinary bubble
    assert bubble_fill(3) == QColor(BUBBLE["other"][0]).name()


def test_a_selection_dragged_past_the_bottom_goes_on_as_the_list_scrolls(qtbot, view_of):
    items = [ChatItem(M, f"line {n}", "bob" if n % 2 else "carol", ts(0, 10, n), n + 1)
             for n in range(40)]
    view, model = view_of(items, height=300)
    bar = view.verticalScrollBar()
    bar.setValue(0)
    start = point_of(view, 0, 0)
    mouse(view, QEvent.Type.MouseButtonPress, start)
    below = QPoint(start.x(), view.viewport().height() + 80)
    for _ in range(5):
        mouse(view, QEvent.Type.MouseMove, below)
    mouse(view, QEvent.Type.MouseButtonRelease, below, Qt.MouseButton.NoButton)
    assert bar.value() > 0
    lines = view.selected_text().split("\n")
    assert lines[0] == "line 0" and len(lines) > 5
