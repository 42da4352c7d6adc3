"""Light and dark themes: one theme module gives every colour; "system" follows the desktop;
the settings dialog switches it for every window (palette, bubbles, sidebar, header) and
remembers it."""

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor, QPalette
from PyQt6.QtWidgets import QApplication, QLabel

from chat.qtclient import theme
from chat.qtclient.i18n import Translator
from chat.qtclient.models import ChatItem, ItemKind
from chat.qtclient.widgets.messages import BUBBLE, INK
from chat.qtclient.widgets.settings_dialog import SettingsDialog
from tests.qt.test_app import close, log_in, make_app
from tests.qt.test_minor_defects import bubble_colour, view_of
from tests.qt.test_message_view import ts

OFFSCREEN = pytest.mark.qt_log_ignore("This plugin does not support")


@pytest.fixture(autouse=True)
def light_afterwards():
    yield
    theme.apply("light")


def window_colour() -> str:
    return QApplication.palette().color(QPalette.ColorRole.Window).name()


def test_dark_changes_the_palette_and_the_colours_others_imported():
    ink = INK                                     # imported once, as the widgets do
    theme.apply("dark")
    assert theme.current() == "dark"
    assert window_colour() == theme.DARK["window"]
    assert ink is theme.colour("ink") and ink.name() == theme.DARK["ink"]
    assert BUBBLE["own"] == (theme.DARK["own_fill"], theme.DARK["own_edge"])
    theme.apply("light")
    assert window_colour() == theme.LIGHT["window"]
    assert ink.name() == theme.LIGHT["ink"]
    assert BUBBLE["own"][0] == theme.LIGHT["own_fill"]


def test_both_themes_have_every_colour_and_differ():
    assert set(theme.LIGHT) == set(theme.DARK)
    # text is light on dark and dark on light: a lightness check on the view's ink
    assert QColor(theme.DARK["ink"]).lightness() > QColor(theme.DARK["base"]).lightness()
    assert QColor(theme.LIGHT["ink"]).lightness() < QColor(theme.LIGHT["base"]).lightness()


def test_style_sheets_registered_follow_the_switch(qtbot):
    label = QLabel("x")
    qtbot.addWidget(label)
    theme.style(label, "background: {header_bg}; color: {ink};")
    assert theme.LIGHT["header_bg"] in label.styleSheet()
    theme.apply("dark")
    assert theme.DARK["header_bg"] in label.styleSheet()


def test_system_follows_the_desktops_colour_scheme(monkeypatch):
    dark = {"on": False}
    monkeypatch.setattr(theme, "system_is_dark", lambda: dark["on"])
    assert theme.apply("system") == "light"
    dark["on"] = True
    theme._system_changed()                     # the desktop said: colour scheme changed
    assert theme.current() == "dark" and window_colour() == theme.DARK["window"]
    theme.apply("light")                        # a fixed choice stops following
    dark["on"] = False
    theme._system_changed()
    dark["on"] = True
    theme._system_changed()
    assert theme.current() == "light"


def test_bubbles_are_painted_in_the_theme(qtbot):
    M = ItemKind.MESSAGE
    view = view_of(qtbot, [ChatItem(M, "hello", "bob", ts(0, 9, 0), 1),
                           ChatItem(M, "mine", "alice", ts(0, 9, 1), 2, own=True)])
    assert bubble_colour(view, 1).name() == theme.LIGHT["own_fill"]
    theme.apply("dark")
    view.viewport().repaint()
    assert bubble_colour(view, 0).name() == theme.DARK["other_fill"]
    assert bubble_colour(view, 1).name() == theme.DARK["own_fill"]


@OFFSCREEN
def test_settings_switch_the_main_window_and_remember(qtbot, server, tmp_dir):
    alice = make_app(tmp_dir, "alice", server.port)
    main = log_in(qtbot, alice, "alice")
    assert alice.settings.theme == "system"              # the default
    dialog = SettingsDialog(alice.translator, alice.settings, main)
    qtbot.addWidget(dialog)
    assert dialog.theme.currentData() == "system"
    assert [dialog.theme.itemText(i) for i in range(3)] == [
        "Follow the system", "Light", "Dark"]
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    assert alice.settings.theme == "dark" and theme.current() == "dark"
    assert theme.DARK["header_bg"] in main.header.styleSheet()
    assert theme.DARK["side_bg"] in main.sidebar.styleSheet()
    grabbed = main.sidebar.conversations.viewport().grab().toImage()
    corner = grabbed.pixelColor(grabbed.width() - 2, grabbed.height() - 2)
    assert corner.name() == theme.DARK["side_bg"]
    dialog.translator.set_language("zh")
    assert dialog.theme.itemText(2) == "深色"
    close(alice)
    # the next start shows the theme remembered
    again = make_app(tmp_dir, "alice", server.port)
    assert theme.current() == "dark"
    close(again)


def test_the_input_bars_line_icons_follow_the_theme(qtbot):
    from chat.qtclient.widgets.input import InputBar
    bar = InputBar(Translator("en"))
    qtbot.addWidget(bar)

    def darkest(button):
        image = button.icon().pixmap(20, 20).toImage()
        pixels = [image.pixelColor(x, y) for x in range(image.width())
                  for y in range(image.height())]
        return min(p.lightness() for p in pixels if p.alpha() > 200)

    on_light = darkest(bar.file_button)
    theme.apply("dark")
    assert darkest(bar.file_button) > on_light + 60      # light lines on the dark ground
