"""Light and dark themes: every colour of the desktop client, in one place.

A theme is a table of named colours (:data:`LIGHT`, :data:`DARK`). :func:`apply` picks one
("system" follows the desktop's colour scheme, and keeps following it while it changes;
"light" and "dark" are fixed), sets the application's palette from it, and updates the live
colours in place: :func:`colour` hands out one shared ``QColor`` per name, so a module that
imported ``INK`` once paints with the new ink after a switch, and :data:`BUBBLES` is one
dict whose entries change. Widgets with style sheets register them with :func:`style`, whose
``{name}`` placeholders are filled in again at each switch.
"""

import weakref

from PyQt6 import sip
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QGuiApplication, QPalette

MODES = ("system", "light", "dark")

LIGHT = {
    # the application's palette
    "window": "#f3f4f7", "base": "#ffffff", "alt_base": "#f6f7f9", "text": "#1c2024",
    "button": "#eceef2", "highlight": "#3e63dd", "highlight_text": "#ffffff",
    "placeholder": "#8b8d98", "mid": "#c8ccd4", "tooltip": "#ffffe1",
    # the conversation view
    "ink": "#1c2024", "muted": "#60646c", "link": "#0b62c4", "error": "#d1242f",
    "read": "#1f8a4c", "burn": "#c2410c",
    "own_fill": "#d3e5ff", "own_edge": "#a9cbf5", "other_fill": "#d9f2d6",
    "other_edge": "#b0ddaa", "burn_fill": "#ffdcdc", "burn_edge": "#f0aaaa",
    "notice_bg": "#fff3c4", "notice_edge": "#f08c00", "notice_ink": "#7a4a00",
    "progress_bg": "#d9dce3", "progress_fg": "#3e63dd",
    "day_pill": "#e8eaef", "day_line": "#c8ccd4", "placeholder_edge": "#c8ccd4",
    "placeholder_fill": "#8cffffff", "icon": "#4f5866", "file_icon": "#5b6b8c",
    "file_fold": "#a9b4cc",
    "highlight_row": "#fff1a8",
    # the main window around it
    "header_bg": "#ffffff", "header_edge": "#e0e1e6",
    "banner_bg": "#fff4d5", "banner_ink": "#6b4e00", "banner_edge": "#f3d673",
    "side_bg": "#f8f9fb", "side_heading": "#3a3f4b", "side_selected": "#dbe4ff",
    "side_hover": "#f0f2f7", "side_muted": "#80838d",
    "panel_bg": "#ffffff", "panel_edge": "#d9dce3",
}

DARK = {
    "window": "#1f2127", "base": "#17181c", "alt_base": "#1d1f24", "text": "#e6e7ea",
    "button": "#2b2e36", "highlight": "#5b7cf0", "highlight_text": "#ffffff",
    "placeholder": "#7c7f8a", "mid": "#3b3f48", "tooltip": "#2b2e36",
    "ink": "#e6e7ea", "muted": "#9a9ea8", "link": "#7cb2ff", "error": "#ff6b6b",
    "read": "#4cc38a", "burn": "#ff8b3d",
    "own_fill": "#20395e", "own_edge": "#2e5288", "other_fill": "#1f3b2b",
    "other_edge": "#2f5a40", "burn_fill": "#4d2326", "burn_edge": "#7a3539",
    "notice_bg": "#3a3018", "notice_edge": "#d08a1a", "notice_ink": "#ffd98a",
    "progress_bg": "#353944", "progress_fg": "#6e8cf5",
    "day_pill": "#2a2d34", "day_line": "#3b3f48", "placeholder_edge": "#4a4f5a",
    "placeholder_fill": "#8c2a2d34", "icon": "#b4b9c4", "file_icon": "#6d7fa6",
    "file_fold": "#a9b4cc",
    "highlight_row": "#4a4220",
    "header_bg": "#1b1d22", "header_edge": "#2e3139",
    "banner_bg": "#3a3018", "banner_ink": "#ffd98a", "banner_edge": "#6b5420",
    "side_bg": "#1b1d22", "side_heading": "#c3c6cf", "side_selected": "#2c3a66",
    "side_hover": "#262930", "side_muted": "#8a8e99",
    "panel_bg": "#22242a", "panel_edge": "#3b3f48",
}

THEMES = {"light": LIGHT, "dark": DARK}

_live = {name: QColor(value) for name, value in LIGHT.items()}
_current = {"mode": "system", "name": "light"}
_styled = []                    # (widget, template) pairs re-filled at each switch

BUBBLES = {}
"""Bubble fill and edge (hex) per kind ("own", "other", "private" = burning): one dict for
good, its entries changed by :func:`apply`."""


def _fill_bubbles(table: dict) -> None:
    BUBBLES["own"] = (table["own_fill"], table["own_edge"])
    BUBBLES["other"] = (table["other_fill"], table["other_edge"])
    BUBBLES["private"] = (table["burn_fill"], table["burn_edge"])


_fill_bubbles(LIGHT)


class _Notifier(QObject):
    changed = pyqtSignal(str)          # "light" or "dark"


_notifier = None


def notifier() -> _Notifier:
    """The object whose ``changed(name)`` says a theme was applied (made on first use)."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def colour(name: str) -> QColor:
    """The live colour ``name``: the same object always, its value the current theme's."""
    return _live[name]


def hex_of(name: str) -> str:
    return THEMES[_current["name"]][name]


def current() -> str:
    """The theme shown: "light" or "dark"."""
    return _current["name"]


def mode() -> str:
    """What was asked for: "system", "light" or "dark"."""
    return _current["mode"]


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def resolve(wanted: str) -> str:
    if wanted in THEMES:
        return wanted
    return "dark" if system_is_dark() else "light"


def css(template: str) -> str:
    """``template`` with ``{name}`` replaced by the current theme's colours."""
    return template.format(**THEMES[_current["name"]])


def style(widget, template: str) -> None:
    """Give ``widget`` the style sheet ``template`` (see :func:`css`), now and at each switch.
    Only a weak reference is kept: the widget's life is not ours to lengthen."""
    widget.setStyleSheet(css(template))
    _styled.append((weakref.ref(widget), template))


def _restyle() -> None:
    alive = []
    for ref, template in _styled:
        widget = ref()
        if widget is None or sip.isdeleted(widget):
            continue
        widget.setStyleSheet(css(template))
        alive.append((ref, template))
    _styled[:] = alive


def palette_of(name: str) -> QPalette:
    t = THEMES[name]
    p = QPalette()
    roles = QPalette.ColorRole
    pairs = {
        roles.Window: t["window"], roles.WindowText: t["text"], roles.Base: t["base"],
        roles.AlternateBase: t["alt_base"], roles.Text: t["text"], roles.Button: t["button"],
        roles.ButtonText: t["text"], roles.Highlight: t["highlight"],
        roles.HighlightedText: t["highlight_text"], roles.PlaceholderText: t["placeholder"],
        roles.ToolTipBase: t["tooltip"], roles.ToolTipText: t["text"], roles.Mid: t["mid"],
        roles.Link: t["link"], roles.BrightText: "#ffffff",
    }
    for role, value in pairs.items():
        p.setColor(role, QColor(value))
    base = QColor(t["button"])
    p.setColor(roles.Light, base.lighter(150))
    p.setColor(roles.Midlight, base.lighter(120))
    p.setColor(roles.Dark, base.darker(160))
    p.setColor(roles.Shadow, QColor("#000000"))
    disabled = QColor(t["placeholder"])
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def apply(wanted: str = "system") -> str:
    """Show the theme ``wanted`` ("system", "light", "dark"); returns the one shown."""
    if wanted not in MODES:
        wanted = "system"
    _current["mode"] = wanted
    name = resolve(wanted)
    _current["name"] = name
    table = THEMES[name]
    for key, value in table.items():
        _live[key].setRgba(QColor(value).rgba())
    _fill_bubbles(table)
    app = QGuiApplication.instance()
    if app is not None:
        _follow_system(app)
        if hasattr(app, "setStyle") and app.style() is not None \
                and app.style().name().lower() != "fusion":
            # native styles draw with the desktop's colours, whatever the palette says
            app.setStyle("Fusion")
        app.setPalette(palette_of(name))
    _restyle()
    notifier().changed.emit(name)
    return name


_following = {"connected": False}


def _follow_system(app) -> None:
    if _following["connected"]:
        return
    hints = QGuiApplication.styleHints()
    if hints is None:
        return
    hints.colorSchemeChanged.connect(_system_changed)
    _following["connected"] = True


def _system_changed(*_) -> None:
    if _current["mode"] == "system" and resolve("system") != _current["name"]:
        apply("system")
