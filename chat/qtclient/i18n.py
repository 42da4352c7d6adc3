"""The desktop client's languages: a :class:`Translator` that widgets ask for every string.

Strings live in :mod:`chat.qtclient.strings` (English and Simplified Chinese); what the
terminal client says in the same words comes from its catalogue (:mod:`chat.cli.text`), so the
two clients never word the same thing differently. Switching the language emits
``languageChanged``; every window re-reads its texts in ``retranslate()`` at once, with no
restart.
"""

from PyQt6.QtCore import QCoreApplication, QLibraryInfo, QObject, QTranslator, pyqtSignal

from chat.cli import text as cli_text
from chat.qtclient import strings

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}
QT_CATALOGUES = {"zh": "qtbase_zh_CN"}
"""Qt's own translations (shipped with PyQt6) of what Qt itself writes: standard buttons
(OK, Cancel, Yes, No), the text fields' context menus, the file dialog, key names."""

_qt_translators = []


class _QtGaps(QTranslator):
    """What Qt's catalogue lacks (chat/qtclient/strings_qt.py); asked before it."""

    def __init__(self, table: dict, parent=None):
        super().__init__(parent)
        self.table = table

    def translate(self, context, source, disambiguation=None, n=-1):
        return self.table.get((context, source), "")

    def isEmpty(self) -> bool:
        return not self.table


def lookup(lang: str, key: str) -> str:
    """The template of ``key`` in ``lang``: the desktop catalogue first, then the shared one.

    A key in neither raises KeyError (a bug, caught by tests/qt/test_strings.py)."""
    own = strings.CATALOGUES.get(lang, strings.EN)
    if key in own:
        return own[key]
    return cli_text.CATALOGUES.get(lang, cli_text.EN)[key]


def default_language() -> str:
    """From the system locale: ``zh`` for a Chinese one, else ``en``."""
    return cli_text.default_language()


class Translator(QObject):
    """The current language; ``tr(key, **params)`` gives a filled-in string in it."""

    languageChanged = pyqtSignal(str)

    def __init__(self, lang: str = None, parent=None):
        super().__init__(parent)
        self.lang = lang if lang in LANGUAGES else default_language()

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        if lang != self.lang:
            self.lang = lang
            self.languageChanged.emit(lang)

    def tr(self, key: str, **params) -> str:
        return lookup(self.lang, key).format(**params)


class _QtGaps(QTranslator):
    """What Qt's catalogue lacks (chat/qtclient/strings_qt.py); asked before it."""

    def __init__(self, table: dict, parent=None):
        super().__init__(parent)
        self.table = table

    def translate(self, context, source, disambiguation=None, n=-1):
        return self.table.get((context, source), "")

    def isEmpty(self) -> bool:
        return not self.table


def use_qt_translation(lang: str) -> bool:
    """Let Qt's own strings follow ``lang`` (see QT_CATALOGUES); English needs none.

    The translators are the whole application's, replaced at each switch (Qt then re-words
    what is open). False if Qt's catalogue was not found (Qt's strings stay English)."""
    from chat.qtclient import strings_qt
    app = QCoreApplication.instance()
    if app is None:
        return False
    while _qt_translators:
        old = _qt_translators.pop()
        app.removeTranslator(old)
        old.deleteLater()
    name = QT_CATALOGUES.get(lang)
    if name is None:
        return True
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    found = translator.load(name, folder)
    if found:
        app.installTranslator(translator)
        _qt_translators.append(translator)
    # installed last, so asked first
    gaps = _QtGaps(getattr(strings_qt, lang.upper(), {}), app)
    app.installTranslator(gaps)
    _qt_translators.append(gaps)
    return found
