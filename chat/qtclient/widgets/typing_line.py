"""The line under a conversation that says who is typing ("bob is typing…"), and the other
half: the user's own keystrokes in the input, sent as typing notices (at most every few
seconds: the client core limits them, chat.client.typing).

Who types where is the client core's (``ChatClient.typists``): shown until their notices
stop (6 s after the last) or their message arrives. The line keeps its height when nobody
types, so the messages above it never jump.
"""

from PyQt6.QtCore import QEvent, QObject, Qt, QTimer
from PyQt6.QtWidgets import QLabel, QSizePolicy

from chat.qtclient import theme


def typing_text(tr, names: list) -> str:
    """The line's wording for ``names`` (in the order they started typing)."""
    if not names:
        return ""
    if len(names) == 1:
        return tr("typing_one", user=names[0])
    if len(names) == 2:
        return tr("typing_two", first=names[0], second=names[1])
    return tr("typing_many", first=names[0], n=len(names) - 1)


class TypingLine(QLabel):
    """Who is typing in the conversation shown; see the module docstring."""

    def __init__(self, state, translator, parent=None):
        super().__init__(parent)
        self.state = state
        self.session = state.session
        self.translator = translator
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)
        theme.style(self, "padding: 1px 16px; color: {muted}; font-style: italic;")
        self.setFixedHeight(self.fontMetrics().height() + 4)
        # when the next typist's notices run out
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.refresh)
        self.session.typingReceived.connect(self.refresh)
        self.session.messageReceived.connect(self.refresh)
        self.session.stateChanged.connect(self.refresh)
        state.currentChanged.connect(self.refresh)
        translator.languageChanged.connect(self.refresh)
        self.refresh()

    def typists(self) -> list:
        client = self.session.client
        if client is None or not self.state.current:
            return []
        return client.typists.typing_in(self.state.current)

    def refresh(self, *_) -> None:
        self.setText(typing_text(self.translator.tr, self.typists()))
        client = self.session.client
        wait = client.typists.next_change_in() if client is not None else None
        if wait is None:
            self._expiry.stop()
        else:
            self._expiry.start(int(wait * 1000) + 20)

    # ------------------------------------------------------------------ the user typing
    def watch_input(self, editor) -> None:
        """Send a typing notice for the conversation shown when the user types in
        ``editor`` (text keys, deletions, an input method's text; not Enter)."""
        self._watcher = _Keystrokes(editor, self._user_typed)

    def _user_typed(self) -> None:
        conv = self.state.current
        if conv and self.session.is_online:
            self.session.typing(conv)


class _Keystrokes(QObject):
    """Calls back on each keystroke that changes the text (an event filter: the editor's
    own handling is untouched)."""

    EDITING_KEYS = (Qt.Key.Key_Backspace, Qt.Key.Key_Delete)

    def __init__(self, editor, callback):
        super().__init__(editor)
        self.callback = callback
        editor.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.KeyPress:
            text = event.text()
            if (text and text.isprintable()) or event.key() in self.EDITING_KEYS:
                if not event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                            | Qt.KeyboardModifier.AltModifier):
                    self.callback()
        elif kind == QEvent.Type.InputMethod and event.commitString():
            self.callback()
        return False
