"""The desktop client's languages: a :class:`Translator` that widgets ask for every string.

Strings live in :mod:`chat.qtclient.strings` (English and Simplified Chinese); what the
terminal client says in the same words comes from its catalogue (:mod:`chat.cli.text`), so the
two clients never word the same thing differently. Switching the language emits
``languageChanged``; every window re-reads its texts in ``retranslate()`` at once, with no
restart.
"""

from PyQt6.QtCore import QObject, pyqtSignal

from chat.cli import text as cli_text
from chat.qtclient import strings

LANGUAGES = ("zh", "en")
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


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
