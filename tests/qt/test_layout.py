"""The main window's layout from 640x480 to 4K, and at 200 % scaling (issue 14, defects 5, 8
and 9): a long room topic does not widen the window, the sidebar keeps its width, no
horizontal scroll bars, the input keeps room to type; the emoji picker shows every tab."""

import os
import subprocess
import sys

import pytest
from PyQt6.QtWidgets import QAbstractScrollArea, QApplication, QToolButton

from chat.qtclient.i18n import Translator
from chat.qtclient.widgets.emoji import CATEGORIES, EmojiPicker
from tests.qt.support import wait_deferred
from tests.qt.test_app import close, log_in, make_app

TOPIC = ("A very long room topic that goes on and on about the design of the new building, "
         "its windows, doors and the colour of the walls in every single room of it") * 2
SIZES = [(640, 480), (800, 500), (1400, 900), (3840, 2160)]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def horizontal_bars(window):
    """The scroll areas inside ``window`` that show a horizontal scroll bar."""
    return [area for area in window.findChildren(QAbstractScrollArea)
            if area.isVisible() and area.horizontalScrollBar().isVisible()]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_main_window_from_640x480_to_4k(qtbot, server, tmp_dir, lang):
    scale = float(os.environ.get("CHAT_TEST_SCALE", "1"))
    alice = make_app(tmp_dir, "alice", server.port, lang=lang)
    try:
        main = log_in(qtbot, alice, "alice")
        if scale != 1:
            assert main.devicePixelRatioF() == scale        # QT_SCALE_FACTOR took effect
        wait_deferred(qtbot, alice.session.create_room("design", TOPIC))
        qtbot.waitUntil(lambda: alice.state.conversations.get("#design") is not None)
        alice.state.select("#design")
        for name in ("bob", "carol", "a_rather_long_user_name_here"):
            other = make_app(tmp_dir, name, server.port)
            log_in(qtbot, other, name)
            close(other)
        qtbot.waitUntil(lambda: alice.state.users.rowCount() == 4, timeout=5000)
        hint = main.minimumSizeHint()
        assert hint.width() <= 640 and hint.height() <= 480, hint
        for width, height in SIZES:
            main.resize(width, height)
            qtbot.waitUntil(lambda: main.width() == width and main.height() == height,
                            timeout=3000)
            QApplication.processEvents()
            # the topic does not widen the window, and the sidebar keeps its share
            assert main.width() == width, (width, main.width())
            assert main.sidebar.width() >= 200 if width < 1000 else main.sidebar.width() >= 270
            assert main.header.width() + main.sidebar.width() <= width
            assert main.header.toolTip() == TOPIC               # the whole topic, on hover
            assert not horizontal_bars(main), (width, height, horizontal_bars(main))
            # room to type, and the list of messages keeps most of the height
            assert main.input.editor.width() >= 180, (width, main.input.editor.width())
            assert main.view.height() >= height // 3, (height, main.view.height())
            # every row of the people list is as wide as the list (nothing cut at the right)
            people = main.sidebar.people
            for row in range(people.model().rowCount()):
                rect = people.visualRect(people.model().index(row, 0))
                assert rect.width() <= people.viewport().width()
    finally:
        close(alice)


def test_main_window_at_200_percent_scaling():
    """The same walk with QT_SCALE_FACTOR=2 (a 4K screen at 200 %), in a process of its own:
    the scale is fixed when the QApplication starts."""
    env = dict(os.environ, QT_SCALE_FACTOR="2", CHAT_TEST_SCALE="2",
               QT_QPA_PLATFORM="offscreen")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/qt/test_layout.py::test_main_window_from_640x480_to_4k"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "2 passed" in out.stdout


@pytest.mark.qt_log_ignore("This plugin does not support")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_emoji_picker_shows_every_tab_with_its_name(qtbot, lang):
    translator = Translator(lang)
    picker = EmojiPicker(translator)
    qtbot.addWidget(picker)
    picker.adjustSize()
    picker.show()
    qtbot.waitExposed(picker)
    bar = picker.tabs.tabBar()
    names = [translator.tr(key) for key, _ in CATEGORIES]
    # a "&" in a name is shown as one (Qt would take it for a mnemonic and underline "f")
    assert [bar.tabText(i).replace("&&", "&") for i in range(bar.count())] == names
    assert all("&" not in bar.tabText(i).replace("&&", "") for i in range(bar.count()))
    # no scroll arrows, and the last tab ends inside the bar
    arrows = [b for b in bar.findChildren(QToolButton) if b.isVisible()]
    assert not arrows
    assert bar.tabRect(bar.count() - 1).right() <= bar.width()
    assert picker.width() >= bar.tabRect(bar.count() - 1).right()
