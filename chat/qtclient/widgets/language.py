"""The first-start question: which language should the program speak?

Shown by the app only while ``settings.language`` is None. Nothing is known about the user
yet, so every text is shown in both languages, and the button of the system locale's
language is the preselected one (Enter picks it).
"""

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from chat.qtclient.i18n import LANGUAGE_NAMES, LANGUAGES, default_language, lookup


class LanguageDialog(QDialog):
    """Two big buttons, 中文 and English; ``chosen`` is the language picked (or preselected)."""

    def __init__(self, parent=None, preselected: str = None):
        super().__init__(parent)
        self._chosen = preselected if preselected in LANGUAGES else default_language()
        # the preselected language first, in the title and the prompts
        order = [self._chosen] + [lang for lang in LANGUAGES if lang != self._chosen]
        self.setWindowTitle(" / ".join(lookup(lang, "lang_title") for lang in order))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        for lang in order:
            prompt = QLabel(lookup(lang, "lang_prompt"))
            prompt.setWordWrap(True)
            layout.addWidget(prompt)

        row = QHBoxLayout()
        row.setSpacing(16)
        self.buttons = {}
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.5)
        for lang in LANGUAGES:
            button = QPushButton(LANGUAGE_NAMES[lang])
            button.setFont(big)
            button.setMinimumSize(160, 64)
            button.setAutoDefault(True)
            button.clicked.connect(lambda _=False, lang=lang: self.choose(lang))
            self.buttons[lang] = button
            row.addWidget(button)
        layout.addLayout(row)
        self.buttons[self._chosen].setDefault(True)
        self.buttons[self._chosen].setFocus(Qt.FocusReason.OtherFocusReason)
        self.setMinimumWidth(420)

    @property
    def chosen(self) -> str:
        """``"zh"`` or ``"en"``: the button clicked, else the preselected language."""
        return self._chosen

    def choose(self, lang: str) -> None:
        """Pick ``lang`` and close the dialog (what a click on its button does)."""
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self._chosen = lang
        self.accept()
