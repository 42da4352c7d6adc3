"""The main window: sidebar, conversation header, policy banner, messages, input, status.

It wires widgets to :class:`chat.qtclient.state.ChatState` and the session's methods; it
renders the link state in the status bar at all times (with a live countdown while
reconnecting) and the unread total in the window title.

Keyboard: Ctrl+K opens the quick switcher (:mod:`.switcher`), Alt+Up and Alt+Down go to the
conversation above or below in the sidebar. What is typed and not sent stays with its
conversation (a draft, shown in the sidebar) while another one is shown.
"""

import os
import time

from PyQt6.QtCore import QEvent, QTimer, QUrl, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QDesktopServices, QKeySequence, QTextCursor
from PyQt6.QtWidgets import (
    QInputDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QVBoxLayout, QWidget)

from chat.qtclient import theme
from chat.qtclient.errors import describe_error, describe_failure, describe_reason  # noqa: F401 (re-exported)
from chat.qtclient.stickers import sticker_mime
from chat.qtclient.widgets.header import ConversationHeader
from chat.qtclient.widgets.input import InputBar
from chat.qtclient.widgets.messages import MessageView, show_image
from chat.qtclient.widgets.sidebar import Sidebar
from chat.qtclient.widgets.switcher import QuickSwitcher
from chat.qtclient.widgets.typing_line import TypingLine

STATE_COLOURS = {"online": "#30a46c", "reconnecting": "#f76b15", "connecting": "#f76b15",
                 "logging_in": "#f76b15", "offline": "#e5484d"}


class MainWindow(QMainWindow):
    """See the module docstring. ``logoutRequested`` and ``settingsRequested``,
    ``adminRequested`` and ``historyRequested(conv)`` go to the application."""

    logoutRequested = pyqtSignal()
    quitRequested = pyqtSignal()
    settingsRequested = pyqtSignal()
    adminRequested = pyqtSignal()
    historyRequested = pyqtSignal(str)

    def __init__(self, state, translator, settings, parent=None):
        super().__init__(parent)
        self.state = state
        self.session = state.session
        self.translator = translator
        self.settings = settings
        self._link = ("offline", "", 0.0)
        self._shown_conv = ""            # the conversation shown, and privacy mode per one
        self._burn_on = {}
        self._retry_at = None
        self.resize(1100, 720)

        self.sidebar = Sidebar(state, translator, self.avatar_for)
        self.sidebar.conversationChosen.connect(state.select)
        self.sidebar.newRoomRequested.connect(self._new_room)

        self.header = ConversationHeader()
        theme.style(self.header, "padding: 10px 14px; border-bottom: 1px solid {header_edge};"
                                 "background: {header_bg}; color: {ink}; font-size: 15px;")
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        theme.style(self.banner, "padding: 6px 14px; background: {banner_bg}; color: {banner_ink};"
                                 "border-bottom: 1px solid {banner_edge};")
        self.view = MessageView(translator, avatar_for=self.avatar_for)
        self.input = InputBar(translator)
        self.view.retryRequested.connect(self._retry)
        self.view.downloadRequested.connect(self._download)
        self.view.cancelRequested.connect(self._cancel)
        self.view.openRequested.connect(self._open)
        self.view.showInFolderRequested.connect(self._show_in_folder)
        self.view.imageClicked.connect(lambda path: show_image(self, path))
        self.view.linkClicked.connect(self._open_link)
        self.view.typing_target = self.input
        self.view.nearTop.connect(lambda: state.load_older(state.current))
        self.view.filesDropped.connect(self._send_files)
        self.input.sendText.connect(self._send_text)
        self.input.sendFiles.connect(self._send_files)
        self.input.sendSticker.connect(self._send_sticker)

        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(self.banner)
        column.addWidget(self.view, 1)
        self.typing_line = TypingLine(state, translator)       # "bob is typing…"
        self.typing_line.watch_input(self.input.editor)
        column.addWidget(self.typing_line)
        column.addWidget(self.input)
        splitter = self.splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([270, 830])
        splitter.setChildrenCollapsible(False)
        # until the user drags it, the sidebar's width follows the window's (a quarter, 200
        # to 300 px): a small window keeps room for the messages and the input
        self._sidebar_dragged = False
        splitter.splitterMoved.connect(self._splitter_dragged)
        self.setCentralWidget(splitter)

        self.link_label = QLabel()
        self.statusBar().addPermanentWidget(self.link_label, 1)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_link)
        self._make_menu()
        self._make_shortcuts()

        state.currentChanged.connect(self._conversation_changed)
        # bound methods, not lambdas: Qt drops these connections with the window, and the
        # state (a late history page after a logout) may still speak afterwards
        state.conversations.dataChanged.connect(self._conversations_changed)
        state.unreadChanged.connect(self._unread_changed)
        state.avatarChanged.connect(self._avatar_changed)
        self.session.stateChanged.connect(self._link_changed)
        self.session.loggedIn.connect(self._logged_in_again)
        if self.session.client is not None:
            self.input.set_burn_seconds(
                (self.session.model.limits or {}).get("burn_ttl_default", 5))
        self.session.byeReceived.connect(self._bye)
        self.session.transferChanged.connect(self._transfer_changed)
        state.alreadySaved.connect(self._already_saved)
        translator.languageChanged.connect(self.retranslate)
        theme.notifier().changed.connect(self._theme_changed)
        self._link_changed(self.session.state, "", 0.0)
        self.retranslate()
        if state.current:
            self._conversation_changed(state.current)

    # ------------------------------------------------------------------ look
    def avatar_for(self, name: str):
        person = self.state.users.get(name)
        return person.avatar if person is not None else None

    def _make_menu(self) -> None:
        self.menu = self.menuBar().addMenu("")
        self.act_history = QAction(self, triggered=lambda: self.historyRequested.emit(
            self.state.current))
        self.act_leave = QAction(self, triggered=self._leave)
        self.act_settings = QAction(self, triggered=self.settingsRequested)
        self.act_admin = QAction(self, triggered=self.adminRequested)
        self.act_logout = QAction(self, triggered=self.logoutRequested)
        self.act_quit = QAction(self, triggered=self.quitRequested)
        for action in (self.act_history, self.act_leave, None, self.act_settings,
                       self.act_admin, None, self.act_logout, self.act_quit):
            if action is None:
                self.menu.addSeparator()
            else:
                self.menu.addAction(action)

    def _make_shortcuts(self) -> None:
        """Ctrl+K and Alt+Up/Down, for the whole window (the input field has the focus)."""
        self.switcher = None
        self.act_switch = QAction(self, triggered=self.open_switcher)
        self.act_switch.setShortcut(QKeySequence("Ctrl+K"))
        self.act_previous = QAction(self, triggered=lambda: self.step_conversation(-1))
        self.act_previous.setShortcut(QKeySequence("Alt+Up"))
        self.act_next = QAction(self, triggered=lambda: self.step_conversation(1))
        self.act_next.setShortcut(QKeySequence("Alt+Down"))
        for action in (self.act_switch, self.act_previous, self.act_next):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

    def open_switcher(self) -> QuickSwitcher:
        """The quick switcher, open over the window (made at its first use)."""
        if self.switcher is None:
            self.switcher = QuickSwitcher(self.state, self.translator, self)
            self.switcher.chosen.connect(self.state.select)
        self.switcher.open()
        return self.switcher

    def step_conversation(self, step: int) -> None:
        """Show the conversation ``step`` rows below (above if negative) the current one in
        the sidebar; nothing past either end."""
        rows = self.state.conversations.rows
        if not rows:
            return
        here = self.state.conversations.find(self.state.current)
        there = max(0, min(len(rows) - 1, here + step)) if here >= 0 else 0
        if there != here:
            self.state.select(rows[there].key)

    def retranslate(self, *_):
        tr = self.translator.tr
        self.menu.setTitle(tr("main_menu_chat"))
        self.act_history.setText(tr("main_menu_history"))
        self.act_leave.setText(tr("main_menu_leave"))
        self.act_settings.setText(tr("main_menu_settings"))
        self.act_admin.setText(tr("main_menu_admin"))
        self.act_logout.setText(tr("main_menu_logout"))
        self.act_quit.setText(tr("main_menu_quit"))
        self.act_switch.setText(tr("switch_title"))
        self._update_header()
        self._update_title()
        self._policy()
        self._show_link()
        self.view.viewport().update()

    def _conversations_changed(self, *_) -> None:
        self._update_header()

    def _unread_changed(self, *_) -> None:
        self._update_title()

    def _avatar_changed(self, *_) -> None:
        self.view.viewport().update()

    def _logged_in_again(self, *_) -> None:
        self._policy()

    def _theme_changed(self, *_) -> None:
        self._update_header()            # the topic's colour is in its rich text
        self.view.viewport().update()

    def _update_title(self) -> None:
        tr = self.translator.tr
        title = tr("main_title", app=tr("app_title"), user=self.session.me or "")
        unread = self.state.conversations.total_unread()
        self.setWindowTitle(tr("title_unread", n=unread, title=title) if unread else title)

    def _update_header(self) -> None:
        conv = self.state.current
        tr = self.translator.tr
        if not conv:
            self.header.set_parts("")
            return
        if conv.startswith("#"):
            info = self.state.conversations.get(conv)
            topic = info.topic if info and info.topic else tr("main_no_topic")
            self.header.set_parts(tr("main_room_header", room=conv[1:]), topic)
        else:
            self.header.set_parts(tr("main_private_header", user=conv[1:]))
        self.act_leave.setEnabled(conv.startswith("#") and conv.casefold() != "#lobby")

    def _policy(self) -> None:
        if self.session.client is None:
            self.banner.hide()
            return
        policy = self.session.model.policy or {}
        lines = []
        if policy.get("monitoring"):
            lines.append(self.translator.tr("main_policy_monitoring"))
        if policy.get("message_log"):
            lines.append(self.translator.tr("main_policy_log"))
        self.banner.setText("⚠ " + "  ".join(lines) if lines else "")
        self.banner.setVisible(bool(lines))
        self.act_admin.setVisible(self.session.is_admin)

    # ------------------------------------------------------------------ link state
    def _link_changed(self, state: str, reason: str, retry_in: float) -> None:
        self._link = (state, reason, retry_in)
        self._retry_at = time.monotonic() + retry_in if state == "reconnecting" else None
        if self._retry_at is not None:
            self._tick.start()
        else:
            self._tick.stop()
        self._show_link()

    def _show_link(self) -> None:
        state, reason, _ = self._link
        tr = self.translator.tr
        if state == "online":
            text = tr("link_online", server=self.session.model.server_name
                      or f"{self.session.host}:{self.session.port}")
        elif state == "reconnecting":
            left = max(0, round((self._retry_at or 0) - time.monotonic()))
            text = tr("link_reconnecting", seconds=left, reason=describe_reason(tr, reason))
        elif state == "connecting":
            text = tr("link_connecting")
        elif state == "logging_in":
            text = tr("link_logging_in")
        else:
            text = (tr("link_offline_reason", reason=describe_reason(tr, reason)) if reason
                    else tr("link_offline"))
        colour = STATE_COLOURS.get(state, "#60646c")
        self.link_label.setText(f"<span style='color:{colour}'>●</span> {_esc(text)}")

    def link_text(self) -> str:
        """What the status bar says (for tests)."""
        from PyQt6.QtGui import QTextDocument
        doc = QTextDocument()
        doc.setHtml(self.link_label.text())
        return doc.toPlainText()

    # ------------------------------------------------------------------ actions
    def _conversation_changed(self, conv: str) -> None:
        # privacy mode belongs to a conversation: what is on in @bob stays off in #lobby
        if self._shown_conv:
            self._burn_on[self._shown_conv.casefold()] = self.input.privacy_mode()
            # and so does what was typed and not sent: it waits there as a draft
            self.state.conversations.set_draft(self._shown_conv, self.input.text())
        self._shown_conv = conv
        self.input.burn_button.setChecked(self._burn_on.get(conv.casefold(), False))
        info = self.state.conversations.get(conv)
        self.input.editor.setPlainText(info.draft if info is not None else "")
        self.input.editor.moveCursor(QTextCursor.MoveOperation.End)
        self.state.conversations.set_draft(conv, "")     # it is in the field now
        self.view.setModel(self.state.log(conv))
        self.view.scrollToBottom()
        self.input.set_enabled_for(conv)
        self._update_header()
        self.input.setFocus()

    def _send_text(self, text: str, burn: bool) -> None:
        if not self.state.current:
            return
        self.state.send(text, self.input.burn_seconds if burn else None)
        self.view.scrollToBottom()

    def _send_files(self, paths) -> None:
        """Files chosen, dropped or pasted: each gets its upload card at once. A folder is
        not sent (only files are): the status bar says so."""
        if not self.state.current:
            return
        folders = []
        for path in paths:
            if os.path.isdir(path):
                folders.append(os.path.basename(os.path.normpath(path)))
            elif os.path.isfile(path):
                self.state.send_file(path)       # its card shows at once
        if folders:
            self.statusBar().showMessage(self.translator.tr(
                "main_folder_not_sent", names=", ".join(folders)), 10000)
        self.view.scrollToBottom()

    def _send_sticker(self, path: str) -> None:
        """A sticker is an image file marked as one (docs/PROTOCOL.md, *Files*)."""
        if self.state.current and os.path.isfile(path):
            self.state.send_file(path, mime=sticker_mime(path))   # its card shows at once
            self.view.scrollToBottom()

    def _retry(self, item) -> None:
        transfer = item.transfer
        if transfer is not None and transfer.direction == "up":
            self.state.retry_upload(item)
        else:
            self.state.retry(item)

    def _download(self, item) -> None:
        self.state.download(item, self.settings.download_dir)

    def _cancel(self, item) -> None:
        if item.transfer is not None and not getattr(item.transfer, "cached", False):
            self.session.cancel(item.transfer)

    def _open(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _open_link(self, url: str) -> None:
        """A web address clicked in a message: the system's browser opens it."""
        QDesktopServices.openUrl(QUrl(url))

    def _show_in_folder(self, path: str) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(os.path.dirname(path)))

    def _already_saved(self, path: str) -> None:
        self.statusBar().showMessage(self.translator.tr(
            "main_file_already_saved", name=os.path.basename(path),
            folder=os.path.dirname(path)), 10000)

    def _transfer_changed(self, transfer) -> None:
        if transfer.direction == "up" and transfer.state.value == "failed" and transfer.error:
            self.statusBar().showMessage(self.translator.tr(
                "main_file_failed", name=transfer.name,
                message=describe_error(self.translator, *transfer.error)), 10000)

    def _new_room(self) -> None:
        tr = self.translator.tr
        name, ok = QInputDialog.getText(self, tr("main_new_room_title"),
                                        tr("main_new_room_prompt"))
        name = name.strip().lstrip("#")
        if not ok or not name:
            return
        conv = "#" + name

        def joined(_):
            self.state.select(conv)

        def not_there(failure):
            from chat.client.connection import RequestFailed
            if failure.check(RequestFailed) and failure.value.code == "not_found":
                return self.session.create_room(name).addCallback(joined)
            return failure

        d = self.session.join(name).addCallbacks(joined, not_there)
        d.addErrback(self._show_error)

    def _leave(self) -> None:
        conv = self.state.current
        if conv.startswith("#") and conv.casefold() != "#lobby":
            d = self.session.leave(conv[1:])
            d.addCallback(lambda _: self.state.select("#lobby"))
            d.addErrback(self._show_error)

    def _show_error(self, failure) -> None:
        QMessageBox.warning(self, self.translator.tr("main_error"),
                            describe_failure(self.translator, failure))

    def _bye(self, code: str, message: str) -> None:
        if code in ("kicked", "banned"):
            self.statusBar().showMessage(self.translator.tr("main_kicked", message=message))

    # ------------------------------------------------------------------ Qt events
    def _splitter_dragged(self, *_):
        self._sidebar_dragged = True

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if not self._sidebar_dragged:
            total = sum(self.splitter.sizes()) or self.width()
            side = max(self.sidebar.minimumWidth(), min(300, max(200, total // 4)))
            self.splitter.blockSignals(True)
            self.splitter.setSizes([side, max(0, total - side)])
            self.splitter.blockSignals(False)

    def changeEvent(self, event):
        if event.type() == QEvent.Type.ActivationChange:
            self.state.set_active(self.isActiveWindow())
        super().changeEvent(event)


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))
