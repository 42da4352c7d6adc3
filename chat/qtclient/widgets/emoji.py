"""The emoji picker: a popup grid of common emoji in a few categories.

Choosing one emits ``picked(str)`` and closes the popup; the input bar inserts it at the
cursor. The emoji are plain text: how they look is up to the system's fonts.
"""

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QFrame, QGridLayout, QTabWidget, QToolButton, QVBoxLayout, QWidget

from chat.qtclient.widgets.popup import show_above

COLUMNS = 8

CATEGORIES = [
    ("emoji_smileys",
     "😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 😉 😌 😍 🥰 😘 😋 😛 😜 🤪 🤔 🤨 😐 😑 😶 🙄 "
     "😏 😬 😴 😎 🤓 😕 😟 😮 😲 😳 🥺 😢 😭 😱 😤 😡 🤯 🥳"),
    ("emoji_people",
     "👍 👎 👌 ✌️ 🤞 🤟 🤙 👋 👏 🙌 🙏 🤝 💪 👀 🧠 🙋 🤷 🤦 🏃 💃"),
    ("emoji_hearts",
     "❤️ 🧡 💛 💚 💙 💜 🖤 🤍 💔 💕 💯 ✨ ⭐ 🔥 ✅ ❌ ❓ ❗ ⚠️ 💤"),
    ("emoji_nature",
     "🌞 🌙 🌈 ☔ ❄️ 🌸 🌹 🌻 🍀 🐶 🐱 🐼 🐧 🍎 🍉 🍕 🍔 🍜 🍣 🍰 ☕ 🍺"),
    ("emoji_objects",
     "🎉 🎁 🎂 🎈 🏆 ⚽ 🎮 🎵 📷 💻 📱 📎 📌 📅 📝 💡 🔑 🔒 🚀 ✈️ 🏠 💰"),
]
"""(translation key of the tab, the emoji separated by spaces)."""


def all_emoji() -> list:
    return [e for _, row in CATEGORIES for e in row.split()]


class EmojiPicker(QFrame):
    """A popup with one tab of emoji buttons per category; ``picked(emoji)`` on a click."""

    picked = pyqtSignal(str)

    def __init__(self, translator, parent=None):
        super().__init__(parent, Qt.WindowType.Popup)
        self.translator = translator
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        # every tab readable at once: no scroll arrows hiding the last ones, the popup as wide
        # as the tabs need
        self.tabs.setUsesScrollButtons(False)
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideNone)
        self.buttons = {}
        font = QFont(self.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.6)
        for _, row in CATEGORIES:
            page = QWidget()
            grid = QGridLayout(page)
            grid.setSpacing(2)
            grid.setContentsMargins(4, 4, 4, 4)
            for i, emoji in enumerate(row.split()):
                button = QToolButton()
                button.setText(emoji)
                button.setFont(font)
                button.setAutoRaise(True)
                button.setFixedSize(40, 40)
                button.setToolTip(emoji)
                button.clicked.connect(lambda _=False, e=emoji: self._choose(e))
                grid.addWidget(button, i // COLUMNS, i % COLUMNS)
                self.buttons[emoji] = button
            grid.setRowStretch(grid.rowCount(), 1)
            self.tabs.addTab(page, "")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    def retranslate(self, *_) -> None:
        for i, (key, _) in enumerate(CATEGORIES):
            # "&" would mark a keyboard mnemonic ("Nature & food" showed as "Nature _food")
            self.tabs.setTabText(i, self.translator.tr(key).replace("&", "&&"))

    def popup_above(self, anchor: QWidget) -> None:
        """Show the picker just above ``anchor`` (the emoji button), inside the screen."""
        self.tabs.tabBar().updateGeometry()
        self.adjustSize()
        show_above(self, anchor)

    def _choose(self, emoji: str) -> None:
        self.picked.emit(emoji)
        self.hide()
