"""The conversation header: the conversation's name in bold, then its topic, on one line.

A topic can be long (a paragraph); shown whole it would widen the window and squeeze the
sidebar. The header asks for no width of its own: the topic is cut with "…" to what fits,
and the whole topic is its tool tip.
"""

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QLabel, QSizePolicy

from chat.qtclient import theme


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ConversationHeader(QLabel):
    """``set_parts(title, subtitle)``; the subtitle is elided to the header's width."""

    SPACING = "&nbsp;&nbsp;"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self._title = ""
        self._subtitle = ""

    def set_parts(self, title: str, subtitle: str = "") -> None:
        self._title, self._subtitle = title, subtitle
        self.setToolTip(subtitle)
        self._render()

    def plain_text(self) -> str:
        """What the header says, topic whole (for tests)."""
        return f"{self._title}  {self._subtitle}".strip()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(0, super().sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._render()

    def _render(self) -> None:
        if not self._title:
            self.setText("")
            return
        bold = self.font()
        bold.setBold(True)
        from PyQt6.QtGui import QFontMetrics
        margins = self.contentsMargins()
        # the style sheet's padding is not in contentsMargins: keep a safe 40 px for it
        room = self.width() - margins.left() - margins.right() - 40
        room -= QFontMetrics(bold).horizontalAdvance(self._title + "    ")
        topic = ""
        if self._subtitle:
            topic = self.fontMetrics().elidedText(" ".join(self._subtitle.split()),
                                                  Qt.TextElideMode.ElideRight, max(0, room))
        text = f"<b>{_esc(self._title)}</b>"
        if topic:
            muted = theme.hex_of("muted")
            text += f"{self.SPACING}<span style='color:{muted}'>{_esc(topic)}</span>"
        self.setText(text)
