"""Every string a window shows, read off its widgets: for the test that walks every window in
Chinese and fails on English (issue 14, defect 7).

What counts as shown: window titles, labels (rich text as plain text), buttons, check boxes,
group boxes, tabs, placeholders, tool tips, combo box items, menus and actions (the menu bar's
and every widget's own, including the standard context menus of text fields), every cell and
header of item views, spin box affixes, and what the message view paints (day lines, names,
message texts, file cards, status lines) from its row layouts.
"""

import re

# words that are the same in the Chinese UI on purpose: names the tests gave (users, rooms,
# files), units and technical names that Chinese apps also write in Latin letters
USER_DATA = {"alice", "bob", "carol", "root", "lobby", "dev", "notes", "bin", "whiteboard",
             "png", "pdf", "report", "photo", "vm", "localhost"}
TECHNICAL = {"sha", "tls", "kib", "mib", "gib", "kb", "mb", "gb", "ip", "url", "ca", "pem",
             "utc", "emoji", "ok", "ctrl", "shift", "alt", "esc", "enter",
             # the language menu names each language in itself
             "english",
             # picture formats, and the server's options a hint tells the user about
             "png", "jpeg", "gif", "webp", "ssl", "port", "allow", "monitoring"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z']{2,}")
OPTION = re.compile(r"--[a-z][a-z-]*")        # a command-line option, as typed
PATH = re.compile(r"\S*/\S*")                  # a folder or file path


def english_words(text: str, allowed=()) -> list:
    """The Latin-letter words (3 letters or more) of ``text`` that are not allowed."""
    allow = USER_DATA | TECHNICAL | {a.casefold() for a in allowed}
    text = PATH.sub(" ", OPTION.sub(" ", text))
    return [w for w in LATIN_WORD.findall(text) if w.casefold() not in allow]


def _plain(text: str) -> str:
    if "<" in text and ">" in text:
        from PyQt6.QtGui import QTextDocument
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _menu_texts(menu, where, out, seen):
    if menu is None or id(menu) in seen:
        return
    seen.add(id(menu))
    out.append((where + " menu", _plain(menu.title())))
    for action in menu.actions():
        _action_texts(action, where, out, seen)


def _action_texts(action, where, out, seen):
    if action.isSeparator():
        return
    out.append((where + " action", action.text().replace("&", "")))
    if action.toolTip() and action.toolTip() != action.text():
        out.append((where + " action tip", action.toolTip()))
    _menu_texts(action.menu(), where, out, seen)


def _model_texts(model, where, out):
    from PyQt6.QtCore import QAbstractListModel, Qt
    if model is None:
        return
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
    columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount()
    for section in range(columns):
        value = model.headerData(section, Qt.Orientation.Horizontal,
                                 Qt.ItemDataRole.DisplayRole)
        if isinstance(value, str):
            out.append((where + " header", value))
    for row in range(min(model.rowCount(), 200)):
        for column in range(columns):
            index = model.index(row, column)
            for role in roles:
                value = index.data(role)
                if isinstance(value, str):
                    out.append((where + " cell", _plain(value)))


def message_view_texts(view, translator, out):
    """What the message view paints, row by row (its own delegate lays the texts out)."""
    model = view.model()
    if model is None:
        return
    for row in range(model.rowCount()):
        layout = view.row_layout(row)
        where = f"message row {row}"
        out.append((where + " day", layout.day_text))
        for span in layout.header_spans:
            out.append((where + " header", span.text))
        if layout.doc is not None:
            out.append((where + " text", layout.doc.toPlainText()))
        out.append((where + " file", layout.title_text))
        for line in layout.lines:
            for span in line:
                out.append((where + " status", span.text))


def widget_texts(top, translator=None) -> list:
    """(where, text) of everything ``top`` and its children show or would show."""
    from PyQt6.QtWidgets import (
        QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QGroupBox, QLabel,
        QLineEdit, QMainWindow, QMenu, QPlainTextEdit, QProgressBar, QTabBar, QTabWidget,
        QTextEdit, QWidget)
    out, seen_menus = [], set()
    widgets = [top] + top.findChildren(QWidget)
    for w in widgets:
        name = type(w).__name__ + (f"({w.objectName()})" if w.objectName() else "")
        if w.isWindow():
            out.append((name + " title", w.windowTitle()))
        if w.toolTip():
            out.append((name + " tip", _plain(w.toolTip())))
        if isinstance(w, QLabel):
            out.append((name, _plain(w.text())))
        elif isinstance(w, QAbstractButton):
            out.append((name, w.text().replace("&", "")))
        elif isinstance(w, QLineEdit):
            out.append((name + " placeholder", w.placeholderText()))
            menu = w.createStandardContextMenu()
            _menu_texts(menu, name + " context", out, seen_menus)
            menu.deleteLater()
        elif isinstance(w, (QTextEdit, QPlainTextEdit)):
            out.append((name + " placeholder", w.placeholderText()))
            if hasattr(w, "placeholder"):
                out.append((name + " placeholder", w.placeholder()))
            menu = w.createStandardContextMenu()
            _menu_texts(menu, name + " context", out, seen_menus)
            menu.deleteLater()
        elif isinstance(w, QComboBox):
            for i in range(w.count()):
                out.append((name + " item", w.itemText(i)))
        elif isinstance(w, QGroupBox):
            out.append((name, w.title()))
        elif isinstance(w, QTabWidget):
            for i in range(w.count()):
                out.append((name + " tab", w.tabText(i).replace("&", "")))
                out.append((name + " tab tip", w.tabToolTip(i)))
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                out.append((name + " tab", w.tabText(i).replace("&", "")))
        elif isinstance(w, QAbstractSpinBox):
            for attr in ("prefix", "suffix", "specialValueText"):
                if hasattr(w, attr):
                    out.append((name + " " + attr, getattr(w, attr)()))
        elif isinstance(w, QProgressBar):
            out.append((name, w.text()))
        elif isinstance(w, QMenu):
            _menu_texts(w, name, out, seen_menus)
        if isinstance(w, QAbstractItemView):
            if type(w).__name__ == "MessageView":
                message_view_texts(w, translator, out)
            else:
                _model_texts(w.model(), name, out)
        if isinstance(w, QMainWindow):
            for action in w.menuBar().actions():
                _action_texts(action, name, out, seen_menus)
        for action in w.actions():
            _action_texts(action, name, out, seen_menus)
    return [(where, text) for where, text in out if text and text.strip()]


def english_in_window(top, translator=None, allowed=()) -> list:
    """(where, text, words) of what ``top`` shows with English words in it."""
    found = []
    for where, text in widget_texts(top, translator):
        words = english_words(text, allowed)
        if words:
            found.append((where, text, words))
    return found
