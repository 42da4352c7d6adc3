"""The admin panel: who is online, rooms, notices, files for everyone, the live monitor.

Every action goes through the session (``session.request`` for the admin requests of
docs/PROTOCOL.md "Administration", ``send_file``, ``rooms``, ``members``); the panel never
touches the network itself. A failed request is shown in the panel's status line, never
raised: every public action returns a Deferred that fires (with None on failure) once its
outcome is on screen, which is also what the tests wait for.

An admin's unattended screen is a way into everybody's accounts, so the panel locks itself
after ``settings.lock_minutes`` without a key press or mouse click inside it, and asks for
the admin's password again. The password is checked against a
:class:`chat.qtclient.lock.PasswordCheck` (a salted digest; the panel never sees the
password of the login).
"""

import datetime
import os
import time

from PyQt6.QtCore import QEvent, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QAbstractItemView, QApplication, QButtonGroup, QCheckBox, QDialog, QDialogButtonBox,
    QFileDialog, QFormLayout, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QListWidget, QPlainTextEdit, QProgressBar, QPushButton, QRadioButton, QScrollArea,
    QStackedWidget, QTableWidget, QTableWidgetItem, QTabWidget, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget)
from twisted.internet import defer

from chat.cli.format import human_size
from chat.client.connection import NotConnected, RequestFailed
from chat.client.transfers import TransferState

IDLE_CHECK_MS = 5000
"""How often the idle time is compared with the lock delay."""
MONITOR_KEEP = 2000
"""Monitor lines kept on screen; older ones scroll away for good."""
PRESENCE_REFRESH_MS = 500
"""A burst of presence events refreshes the online list once, this long after the first."""
PAGES_MAX = 20
"""Pages of rooms or members fetched per refresh (500 names each)."""
REASON_MAX = 500
ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #1b5e20;"

# what counts as the admin using the panel: not mere repaints or a pointer passing over it
_ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress,
                       QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel})


# ---------------------------------------------------------------------- wording helpers
def local_time(ts, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A wire timestamp in local time (``ts`` itself if it cannot be read)."""
    try:
        moment = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return ts or ""
    return moment.astimezone().strftime(fmt)


def address(host: str, port) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def duration(translator, seconds: float) -> str:
    """``42 s``, ``5 min`` or ``2 h 5 min`` in the translator's language."""
    tr = translator.tr
    seconds = int(seconds)
    if seconds < 60:
        return tr("admin_duration_s", n=seconds)
    if seconds < 3600:
        return tr("admin_duration_min", n=seconds // 60)
    return tr("admin_duration_h", h=seconds // 3600, min=seconds % 3600 // 60)


def describe_error(translator, failure) -> str:
    """A failed request (a Failure or an exception) in the translator's language."""
    exc = getattr(failure, "value", failure)
    tr = translator.tr
    if isinstance(exc, RequestFailed):
        key = "code_" + exc.code
        try:
            name = tr(key)
        except KeyError:
            name = exc.code          # a code newer than this client
        return tr("error", code=name, message=exc.message)
    if isinstance(exc, NotConnected):
        return tr("not_connected")
    return tr("admin_failed_status", message=str(exc) or type(exc).__name__)


def _bold(widget: QWidget, scale: float = 1.0) -> None:
    font = QFont(widget.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * scale)
    widget.setFont(font)


# ---------------------------------------------------------------------- confirmation
class ConfirmDialog(QDialog):
    """"Really kick/ban/unban bob?", with a reason field for kick and ban."""

    def __init__(self, translator, title: str, question: str, with_reason: bool, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.question = QLabel(question)
        self.question.setWordWrap(True)
        layout.addWidget(self.question)
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(REASON_MAX)
        if with_reason:
            label = QLabel(translator.tr("admin_reason"))
            label.setBuddy(self.reason_edit)
            layout.addWidget(label)
            layout.addWidget(self.reason_edit)
        else:
            self.reason_edit.hide()
        buttons = QDialogButtonBox()
        buttons.addButton(translator.tr("admin_confirm"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(translator.tr("admin_cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)

    @property
    def reason(self) -> str:
        return self.reason_edit.text().strip()

    @classmethod
    def ask(cls, translator, title: str, question: str, with_reason: bool,
            parent=None) -> tuple:
        """Show the dialog; ``(confirmed, reason)``."""
        dialog = cls(translator, title, question, with_reason, parent)
        confirmed = dialog.exec() == QDialog.DialogCode.Accepted
        return confirmed, dialog.reason


# ---------------------------------------------------------------------- tabs
class _Tab(QWidget):
    """One page of the panel: the panel gives it the session, the words and the status line."""

    def __init__(self, panel: "AdminPanel"):
        super().__init__()
        self.panel = panel
        self.session = panel.session
        self.translator = panel.translator


class _SessionsTab(_Tab):
    """Online users: the ``sessions`` table, one account's ``user_info``, kick/ban/unban."""

    COLUMNS = ("admin_col_user", "admin_col_address", "admin_col_client", "admin_col_since",
               "admin_col_idle")

    def __init__(self, panel):
        super().__init__(panel)
        self.sessions: list[dict] = []
        self._online = 0                      # accounts online, by the last reply
        self._more = False                    # the last reply was cut
        self._details = None                  # the user_info user shown, to re-word it

        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.count = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.count, 1)
        top.addWidget(self.refresh_button)

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._row_selected)

        self.user_label = QLabel()
        self.user = QLineEdit()
        self.user.returnPressed.connect(lambda: self.show_user(self.user.text().strip()))
        self.user_label.setBuddy(self.user)
        self.lookup = QPushButton()
        self.lookup.clicked.connect(lambda: self.show_user(self.user.text().strip()))
        self.kick_button, self.ban_button, self.unban_button = (QPushButton() for _ in range(3))
        self.kick_button.clicked.connect(lambda: self._confirm_and("kick"))
        self.ban_button.clicked.connect(lambda: self._confirm_and("ban"))
        self.unban_button.clicked.connect(lambda: self._confirm_and("unban"))
        actions = QHBoxLayout()
        actions.addWidget(self.user_label)
        actions.addWidget(self.user, 1)
        for button in (self.lookup, self.kick_button, self.ban_button, self.unban_button):
            actions.addWidget(button)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMargin(6)
        # plain text: names and reasons come from users and must not be read as markup
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.details)
        scroll.setMinimumHeight(110)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 3)
        layout.addLayout(actions)
        layout.addWidget(scroll, 2)

    # -- the list
    def refresh(self):
        """Ask for the sessions and show them; a Deferred fired once they are shown."""
        return self.panel.run(self.session.request("sessions"), self.fill)

    def fill(self, data: dict) -> None:
        selected = self.user.text().strip()
        self.sessions = list(data.get("sessions", []))
        self._online = data.get("online", 0)
        self._more = bool(data.get("more"))
        self.table.blockSignals(True)         # refilling is not the admin choosing a row
        self.table.setRowCount(len(self.sessions))
        for row, s in enumerate(self.sessions):
            idle = s.get("idle")
            cells = (s["user"], address(s.get("address", ""), s.get("port")),
                     s.get("client") or "", local_time(s.get("since")),
                     duration(self.translator, idle) if idle is not None else "-")
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s["user"])
                self.table.setItem(row, column, item)
            if s["user"] == selected:
                self.table.selectRow(row)
        # idle times are not in the protocol's sessions reply (yet): no empty column for them
        self.table.setColumnHidden(len(self.COLUMNS) - 1,
                                   not any("idle" in s for s in self.sessions))
        self.table.blockSignals(False)
        self._render_count()

    def _render_count(self) -> None:
        text = self.translator.tr("admin_online_count", online=self._online,
                                  sessions=len(self.sessions))
        if self._more:
            text += " " + self.translator.tr("list_more")
        self.count.setText(text)

    def users(self) -> list[str]:
        """The user names in the table, top to bottom."""
        return [s["user"] for s in self.sessions]

    def _row_selected(self) -> None:
        items = self.table.selectedItems()
        if items:
            name = items[0].data(Qt.ItemDataRole.UserRole)
            self.user.setText(name)
            self.show_user(name)

    # -- one account
    def show_user(self, name: str):
        """Show ``user_info`` of ``name``; a Deferred fired once it is shown."""
        if not name:
            self.panel.report(lambda: self.translator.tr("admin_no_user"), error=True)
            return defer.succeed(None)

        def shown(data):
            self._details = data.get("user")
            self._render_details()
        return self.panel.run(self.session.request("user_info", user=name), shown)

    def _render_details(self) -> None:
        tr = self.translator.tr
        user = self._details
        if not user:
            self.details.setText(tr("admin_details_empty"))
            return
        title = user["name"]
        if user.get("admin"):
            title += " " + tr("tag_admin")
        if user.get("banned"):
            title += " " + tr("tag_banned")
        if user.get("online"):
            state = tr("admin_online")
        elif user.get("last_seen"):
            state = tr("state_last_seen", when=local_time(user["last_seen"]))
        else:
            state = tr("state_never_seen")
        lines = [f"{title}  ({state})"]
        if user.get("created"):
            lines.append(tr("info_created", when=local_time(user["created"])))
        if user.get("banned") and user.get("ban_reason"):
            lines.append(tr("info_ban_reason", reason=user["ban_reason"]))
        if user.get("rooms"):
            lines.append(tr("info_rooms", rooms=", ".join("#" + r for r in user["rooms"])))
        for s in user.get("sessions", ()):
            lines.append(tr("info_session", address=address(s["address"], s.get("port")),
                            client=s.get("client") or "-", since=local_time(s["since"])))
        self.details.setText("\n".join(lines))

    # -- kick, ban, unban
    def _confirm_and(self, action: str) -> None:
        user = self.user.text().strip()
        if not user:
            self.panel.report(lambda: self.translator.tr("admin_no_user"), error=True)
            return
        tr = self.translator.tr
        titles = {"kick": tr("admin_kick_title", user=user),
                  "ban": tr("admin_ban_title", user=user),
                  "unban": tr("admin_unban_title", user=user)}
        questions = {"kick": tr("admin_kick_question", user=user),
                     "ban": tr("admin_ban_question", user=user),
                     "unban": tr("admin_unban_question", user=user)}
        confirmed, reason = ConfirmDialog.ask(self.translator, titles[action], questions[action],
                                              action != "unban", self)
        if not confirmed:
            return
        if action == "unban":
            self.unban(user)
        else:
            getattr(self, action)(user, reason)

    def kick(self, user: str, reason: str = ""):
        fields = {"reason": reason} if reason else {}

        def done(data):
            closed = data.get("closed", 0)
            self.panel.report(lambda: self.translator.tr("kick_done", user=user, n=closed))
            return self.refresh()
        return self.panel.run(self.session.request("kick", user=user, **fields), done)

    def ban(self, user: str, reason: str = ""):
        fields = {"reason": reason} if reason else {}

        def done(data):
            closed = data.get("closed", 0)
            self.panel.report(lambda: self.translator.tr("ban_done", user=user, n=closed))
            return defer.gatherResults([self.refresh(), self.show_user(user)])
        return self.panel.run(self.session.request("ban", user=user, **fields), done)

    def unban(self, user: str):
        def done(data):
            self.panel.report(lambda: self.translator.tr("unban_done", user=user))
            return self.show_user(user)
        return self.panel.run(self.session.request("unban", user=user), done)

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.refresh_button.setText(tr("admin_refresh"))
        self.table.setHorizontalHeaderLabels([tr(key) for key in self.COLUMNS])
        self.user_label.setText(tr("admin_user_label"))
        self.user.setPlaceholderText(tr("admin_user_placeholder"))
        self.lookup.setText(tr("admin_lookup"))
        self.kick_button.setText(tr("admin_kick"))
        self.ban_button.setText(tr("admin_ban"))
        self.unban_button.setText(tr("admin_unban"))
        self._render_count()
        self._render_details()


@defer.inlineCallbacks
def _all_pages(first, following, key: str):
    """Items of a paged list (see PROTOCOL "Pages"): ``first()`` and ``following(after)``
    return Deferreds of one page; ``(items, more)`` with more=True if PAGES_MAX cut it."""
    data = yield first()
    items = list(data[key])
    for _ in range(PAGES_MAX - 1):
        if not (data.get("more") and items):
            break
        data = yield following(items[-1]["name"])
        items.extend(data[key])
    return items, bool(data.get("more"))


class _RoomsTab(_Tab):
    """Every room with its topic and member count; a room's members when it is opened."""

    def __init__(self, panel):
        super().__init__(panel)
        self.rooms: list[dict] = []
        self.members: dict[str, list] = {}     # room name -> member dicts, once loaded
        self._more = False                     # PAGES_MAX cut the list
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(self.refresh)
        self.count = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.count, 1)
        top.addWidget(self.refresh_button)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemExpanded.connect(self._expanded)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree)

    def refresh(self):
        """Ask for every room and show them; a Deferred fired once they are shown."""
        d = _all_pages(self.session.rooms,
                       lambda after: self.session.request("rooms", after=after), "rooms")
        return self.panel.run(d, self._fill)

    def _fill(self, result) -> None:
        self.rooms, more = result
        self.members.clear()
        self.tree.clear()
        for room in self.rooms:
            # the topic last: it is the one column that may be long
            item = QTreeWidgetItem(["#" + room["name"], str(room.get("members", "")),
                                    room.get("topic", "")])
            item.setData(0, Qt.ItemDataRole.UserRole, room["name"])
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
            self.tree.addTopLevelItem(item)
        self._more = more
        self._render_count()

    def _render_count(self) -> None:
        text = self.translator.tr("admin_rooms_count", n=len(self.rooms))
        if self._more:
            text += " " + self.translator.tr("list_more")
        self.count.setText(text)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        room = item.data(0, Qt.ItemDataRole.UserRole)
        if room is not None and room not in self.members:
            self.load_members(room)

    def _item(self, room: str):
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item.data(0, Qt.ItemDataRole.UserRole) == room:
                return item
        return None

    def load_members(self, room: str):
        """Fetch ``room``'s members under its row; a Deferred fired once they are shown."""
        d = _all_pages(lambda: self.session.members(room),
                       lambda after: self.session.request("members", room=room, after=after),
                       "members")

        def shown(result):
            self.members[room] = result[0]
            item = self._item(room)
            if item is not None:
                item.takeChildren()
                for member in result[0]:
                    child = QTreeWidgetItem([member["name"], ""])
                    child.setData(0, Qt.ItemDataRole.UserRole + 1, member.get("online"))
                    item.addChild(child)
                item.setChildIndicatorPolicy(
                    QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless)
                self._render_members(item)
        return self.panel.run(d, shown)

    def _render_members(self, item: QTreeWidgetItem) -> None:
        tr = self.translator.tr
        for i in range(item.childCount()):
            child = item.child(i)
            online = child.data(0, Qt.ItemDataRole.UserRole + 1)
            child.setText(1, tr("admin_member_online") if online else tr("admin_member_offline"))

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.refresh_button.setText(tr("admin_refresh"))
        self.tree.setHeaderLabels([tr("admin_col_room"), tr("admin_col_members"),
                                   tr("admin_col_topic")])
        self._render_count()
        for i in range(self.tree.topLevelItemCount()):
            self._render_members(self.tree.topLevelItem(i))


class _TargetChooser(QWidget):
    """"Everyone" or "One user: [name]", for notices and files."""

    def __init__(self, translator):
        super().__init__()
        self.translator = translator
        self.everyone = QRadioButton()
        self.one = QRadioButton()
        self.user = QLineEdit()
        group = QButtonGroup(self)
        group.addButton(self.everyone)
        group.addButton(self.one)
        self.everyone.setChecked(True)
        self.user.setEnabled(False)
        self.one.toggled.connect(self.user.setEnabled)
        # typing a name means "this user"
        self.user.textEdited.connect(lambda text: self.one.setChecked(True) if text else None)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.everyone)
        row.addWidget(self.one)
        row.addWidget(self.user, 1)

    def user_name(self):
        """None for everyone, else the user's name ("" if it is still to be typed)."""
        return None if self.everyone.isChecked() else self.user.text().strip()

    def set_user(self, name) -> None:
        if name is None:
            self.everyone.setChecked(True)
        else:
            self.one.setChecked(True)
            self.user.setText(name)

    def retranslate(self) -> None:
        self.everyone.setText(self.translator.tr("admin_everyone"))
        self.one.setText(self.translator.tr("admin_one_user"))


class _NoticeTab(_Tab):
    """A notice to everyone logged in, or to one user's connections."""

    def __init__(self, panel):
        super().__init__(panel)
        self.text = QPlainTextEdit()
        self.text_label = QLabel()
        self.text_label.setBuddy(self.text)
        self.target = _TargetChooser(self.translator)
        self.target_label = QLabel()
        self.send_button = QPushButton()
        self.send_button.clicked.connect(
            lambda: self.send(self.text.toPlainText(), self.target.user_name()))
        form = QFormLayout()
        form.addRow(self.text_label, self.text)
        form.addRow(self.target_label, self.target)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(bottom)

    def send(self, text: str, to: str = None):
        """Send ``text`` to everyone (``to`` None) or to user ``to``; a Deferred fired once
        the outcome ("delivered to N") is shown."""
        tr = self.translator.tr
        if not text.strip():
            self.panel.report(lambda: tr("admin_notice_empty"), error=True)
            return defer.succeed(None)
        if to is not None and not to:
            self.panel.report(lambda: tr("admin_target_empty"), error=True)
            return defer.succeed(None)
        fields = {"to": to} if to is not None else {}

        def done(data):
            delivered = data.get("delivered", 0)
            self.panel.report(lambda: tr("notice_sent", n=delivered))
            self.text.clear()
            return data
        return self.panel.run(self.session.request("notice", text=text, **fields), done)

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.text_label.setText(tr("admin_notice_text"))
        self.text.setPlaceholderText(tr("admin_notice_placeholder"))
        self.target_label.setText(tr("admin_target"))
        self.target.retranslate()
        self.send_button.setText(tr("admin_send"))


class _FilesTab(_Tab):
    """A file for everyone (``@all``) or one user, with each upload's progress."""

    COLUMNS = ("admin_col_file", "admin_col_target", "admin_col_state", "admin_col_progress")

    def __init__(self, panel):
        super().__init__(panel)
        self.transfers: list = []               # the Transfers started here, in table order
        self.path = QLineEdit()
        self.path_label = QLabel()
        self.path_label.setBuddy(self.path)
        self.choose = QPushButton()
        self.choose.clicked.connect(self.choose_file)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.choose)
        self.target = _TargetChooser(self.translator)
        self.target_label = QLabel()
        self.send_button = QPushButton()
        self.send_button.clicked.connect(self._send_clicked)
        form = QFormLayout()
        form.addRow(self.path_label, path_row)
        form.addRow(self.target_label, self.target)
        send_row = QHBoxLayout()
        send_row.addStretch(1)
        send_row.addWidget(self.send_button)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(send_row)
        layout.addWidget(self.table, 1)
        self.session.transferChanged.connect(self._changed)

    def choose_file(self) -> bool:
        path, _ = QFileDialog.getOpenFileName(self, self.translator.tr("admin_file_dialog"),
                                              os.path.expanduser("~"))
        if path:
            self.path.setText(path)
        return bool(path)

    def _send_clicked(self) -> None:
        user = self.target.user_name()
        if user is not None and not user:
            self.panel.report(lambda: self.translator.tr("admin_target_empty"), error=True)
            return
        self.send(self.path.text().strip(), "@all" if user is None else "@" + user)

    def send(self, path: str, target: str):
        """Upload ``path`` to ``target`` (``@all`` or ``@user``); the Transfer, or None (and a
        message) if there is no such file."""
        tr = self.translator.tr
        if not path:
            self.panel.report(lambda: tr("admin_file_empty"), error=True)
            return None
        if not os.path.isfile(path):
            self.panel.report(lambda: tr("no_such_file", path=path), error=True)
            return None
        transfer = self.session.send_file(target, path)
        self.transfers.append(transfer)
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(transfer.name))
        self.table.setItem(row, 1, QTableWidgetItem(target))
        self.table.setItem(row, 2, QTableWidgetItem())
        bar = QProgressBar()
        bar.setRange(0, 100)
        self.table.setCellWidget(row, 3, bar)
        self._render(row)
        return transfer

    def _changed(self, transfer) -> None:
        for row, mine in enumerate(self.transfers):
            if mine is transfer:
                self._render(row)

    def _render(self, row: int) -> None:
        transfer = self.transfers[row]
        if transfer.state is TransferState.FAILED:
            message = transfer.error[1] if transfer.error else ""
            state = self.translator.tr("admin_state_failed", message=message)
        else:
            key = "admin_state_" + transfer.state.value
            state = self.translator.tr(key)
        self.table.item(row, 2).setText(state)
        self.table.item(row, 2).setToolTip(state)
        self.table.cellWidget(row, 3).setValue(int(transfer.percent))

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.path_label.setText(tr("admin_file"))
        self.choose.setText(tr("admin_choose_file"))
        self.target_label.setText(tr("admin_target"))
        self.target.retranslate()
        self.send_button.setText(tr("admin_send_file"))
        self.table.setHorizontalHeaderLabels([tr(key) for key in self.COLUMNS])
        for row in range(self.table.rowCount()):
            self._render(row)


class _MonitorTab(_Tab):
    """The live copy of every new message (only where the server allows it)."""

    def __init__(self, panel):
        super().__init__(panel)
        self.wanted = False                    # the admin turned it on (kept over reconnects)
        self.events: list[dict] = []           # the monitored messages shown, oldest first
        self.pages = QStackedWidget()

        allowed = QWidget()
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.toggle = QCheckBox()
        self.toggle.toggled.connect(self._toggled)
        self.clear_button = QPushButton()
        self.clear_button.clicked.connect(self.clear)
        self.paused = QLabel()
        self.paused.setWordWrap(True)
        self.paused.setStyleSheet(ERROR_STYLE)
        self.paused.hide()
        row = QHBoxLayout()
        row.addWidget(self.toggle, 1)
        row.addWidget(self.clear_button)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        column = QVBoxLayout(allowed)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.warning)
        column.addLayout(row)
        column.addWidget(self.paused)
        column.addWidget(self.list, 1)

        self.forbidden = QLabel()
        self.forbidden.setWordWrap(True)
        self.forbidden.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.forbidden.setMargin(12)
        self.pages.addWidget(allowed)
        self.pages.addWidget(self.forbidden)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)

        self.session.monitorEvent.connect(self._event)
        self.session.stateChanged.connect(self._link)
        self.session.loggedIn.connect(self._logged_in)
        self._show_policy()

    @property
    def allowed(self) -> bool:
        """Whether the server allows monitoring (``policy.monitoring`` of its hello)."""
        if self.session.client is None:          # not logged in yet: nothing is known
            return False
        return bool(self.session.model.policy.get("monitoring"))

    def _show_policy(self) -> None:
        self.pages.setCurrentIndex(0 if self.allowed else 1)

    def set_monitoring(self, on: bool):
        """Ask the server to start (or stop) the copies; a Deferred fired once the answer is
        shown. On failure the switch goes back."""
        self.wanted = on
        self._set_toggle(on)

        def done(data):
            self.paused.hide()
            self.panel.report(lambda: self.translator.tr("monitor_on" if on else "monitor_off"))
            return data

        def failed(failure):
            self.wanted = not on
            self._set_toggle(not on)
            return failure
        d = self.session.request("monitor", on=on)
        d.addErrback(failed)
        return self.panel.run(d, done)

    def _set_toggle(self, on: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        self.set_monitoring(on)

    def _link(self, state: str, reason: str, retry_in: float) -> None:
        # the server ends monitoring with the connection; say so until it is back on
        if state != "online" and self.wanted:
            self.paused.show()

    def _logged_in(self, data: dict, first: bool) -> None:
        self._show_policy()
        if self.wanted and not first:
            self.set_monitoring(True)

    def _event(self, event: dict) -> None:
        msg = event.get("msg", {})
        self.events.append(msg)
        self.list.addItem(self.line(msg))
        if self.list.count() > MONITOR_KEEP:
            self.list.takeItem(0)
            del self.events[0]
        self.list.scrollToBottom()

    def line(self, msg: dict) -> str:
        """``[12:00:00] bob -> @carol: text`` for a monitored message."""
        tr = self.translator.tr
        if msg.get("file"):
            f = msg["file"]
            text = tr("admin_monitor_file", name=f.get("name", ""), size=human_size(f.get("size")))
        else:
            text = msg.get("text", "")
            if msg.get("burn"):
                text += "  " + tr("burn_marker", seconds=f"{msg['burn']:g}")
        # one line per message: a newline in the text must not fake a line of its own
        text = " ".join(text.splitlines())
        return tr("admin_monitor_line", time=local_time(msg.get("ts"), "%H:%M:%S"),
                  sender=msg.get("from", ""), to=msg.get("to") or msg.get("conv", ""),
                  text=text)

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def clear(self) -> None:
        self.list.clear()
        self.events.clear()

    def retranslate(self) -> None:
        tr = self.translator.tr
        self.warning.setText(tr("admin_monitor_warning"))
        self.toggle.setText(tr("admin_monitor_toggle"))
        self.clear_button.setText(tr("admin_monitor_clear"))
        self.paused.setText(tr("admin_monitor_paused"))
        self.forbidden.setText(tr("admin_monitor_forbidden"))
        for i, msg in enumerate(self.events):
            self.list.item(i).setText(self.line(msg))


class _LockScreen(QWidget):
    """What covers the panel while it is locked: the admin's password, and Unlock."""

    def __init__(self, panel):
        super().__init__()
        self.panel = panel
        self.title = QLabel()
        _bold(self.title, 1.4)
        self.prompt = QLabel()
        self.prompt.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self._unlock_clicked)
        self.unlock_button = QPushButton()
        self.unlock_button.clicked.connect(self._unlock_clicked)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        row = QHBoxLayout()
        row.addWidget(self.password, 1)
        row.addWidget(self.unlock_button)
        box = QFrame()
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setMinimumWidth(380)
        box.setMaximumWidth(480)
        column = QVBoxLayout(box)
        column.setContentsMargins(24, 20, 24, 20)
        column.setSpacing(12)
        column.addWidget(self.title)
        column.addWidget(self.prompt)
        column.addLayout(row)
        column.addWidget(self.error)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

    def _unlock_clicked(self) -> None:
        self.panel.unlock(self.password.text())

    def reset(self) -> None:
        self.password.clear()
        self.error.clear()
        self.error.hide()
        self.password.setFocus()

    def retranslate(self) -> None:
        tr = self.panel.translator.tr
        self.title.setText(tr("admin_locked"))
        self.prompt.setText(tr("admin_lock_prompt", user=self.panel.session.me))
        self.unlock_button.setText(tr("admin_unlock"))


# ---------------------------------------------------------------------- the panel
class AdminPanel(QWidget):
    """See the module docstring. ``clock`` (seconds, monotonic) is injectable for tests.

    ``lockChanged(locked)`` tells the app when the panel locks or unlocks.
    """

    lockChanged = pyqtSignal(bool)

    def __init__(self, session, translator, settings, parent=None, clock=time.monotonic):
        super().__init__(parent)
        self.session = session
        self.translator = translator
        self.settings = settings
        self.clock = clock
        self._check = None
        self._locked = False
        self._last_activity = clock()

        self.title = QLabel()
        _bold(self.title, 1.2)
        self.lock_button = QPushButton()
        self.lock_button.clicked.connect(self.lock_now)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.lock_button)

        self.sessions_tab = _SessionsTab(self)
        self.rooms_tab = _RoomsTab(self)
        self.notice_tab = _NoticeTab(self)
        self.files_tab = _FilesTab(self)
        self.monitor_tab = _MonitorTab(self)
        self.tabs = QTabWidget()
        for tab in (self.sessions_tab, self.rooms_tab, self.notice_tab, self.files_tab,
                    self.monitor_tab):
            self.tabs.addTab(tab, "")
        self.status = QLabel()
        self._status = ("", False)
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.content = QWidget()
        column = QVBoxLayout(self.content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.tabs, 1)
        column.addWidget(self.status)
        self.lock_screen = _LockScreen(self)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.content)
        self.stack.addWidget(self.lock_screen)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self.resize(860, 600)

        # a burst of presence events (users coming back after a restart) refreshes once
        self._presence_timer = QTimer(self)
        self._presence_timer.setSingleShot(True)
        self._presence_timer.setInterval(PRESENCE_REFRESH_MS)
        self._presence_timer.timeout.connect(self._presence_refresh)
        # bound methods, not lambdas: Qt drops those connections when the panel is deleted,
        # while the session lives on
        session.presenceChanged.connect(self._presence_changed)
        session.loggedIn.connect(self._logged_in)
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_CHECK_MS)
        self._idle_timer.timeout.connect(self.check_idle)
        self._idle_timer.start()
        # the panel's children get the clicks and keys, so the filter sits on the application
        # and keeps those aimed at a widget inside the panel
        QApplication.instance().installEventFilter(self)

        translator.languageChanged.connect(self.retranslate)
        self.retranslate()
        if session.is_online:
            self.refresh()

    # ------------------------------------------------------------------ running requests
    def run(self, d, done):
        """``done(result)`` once ``d`` fires; a failure is shown, not raised (fires None)."""
        def failed(failure):
            exc = failure.value              # not the Failure: its traceback would stay alive
            self.report(lambda: describe_error(self.translator, exc), error=True)
            return None
        return d.addCallbacks(done, failed)

    def report(self, text, error: bool = False) -> None:
        """Show the outcome of the last action in the status line: ``text()`` gives it in
        the current language (asked again on a language switch); a plain string is shown
        as it is."""
        self._status = (text, error)
        self._render_status()

    def _render_status(self) -> None:
        text, error = self._status
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.status.setText(text() if callable(text) else text)

    # ------------------------------------------------------------------ actions
    def refresh(self):
        """Refresh the online users and the rooms; a Deferred fired once both are shown."""
        return defer.gatherResults([self.sessions_tab.refresh(), self.rooms_tab.refresh()])

    def _presence_changed(self, event: dict) -> None:
        if not self._presence_timer.isActive():
            self._presence_timer.start()

    def _logged_in(self, data: dict, first: bool) -> None:
        self.refresh()

    def _presence_refresh(self) -> None:
        if not self._locked and self.session.is_online:
            self.sessions_tab.refresh()

    def refresh_sessions(self):
        return self.sessions_tab.refresh()

    def show_user(self, name: str):
        return self.sessions_tab.show_user(name)

    def kick(self, user: str, reason: str = ""):
        return self.sessions_tab.kick(user, reason)

    def ban(self, user: str, reason: str = ""):
        return self.sessions_tab.ban(user, reason)

    def unban(self, user: str):
        return self.sessions_tab.unban(user)

    def refresh_rooms(self):
        return self.rooms_tab.refresh()

    def load_members(self, room: str):
        return self.rooms_tab.load_members(room)

    def send_notice(self, text: str, to: str = None):
        return self.notice_tab.send(text, to)

    def send_file(self, path: str, target: str = "@all"):
        return self.files_tab.send(path, target)

    def set_monitoring(self, on: bool):
        return self.monitor_tab.set_monitoring(on)

    # ------------------------------------------------------------------ locking
    def set_password_check(self, check) -> None:
        """The :class:`chat.qtclient.lock.PasswordCheck` made from the login's password."""
        self._check = check
        self.lock_screen.password.setEnabled(check is not None)

    @property
    def is_locked(self) -> bool:
        return self._locked

    def lock_now(self) -> None:
        """Cover the panel until the admin's password is typed again."""
        if self._locked:
            return
        self._locked = True
        self.lock_screen.reset()
        if self._check is None:
            # without a check nothing can unlock: say so instead of waiting for a password
            self.lock_screen.error.setText(self.translator.tr("admin_lock_no_check"))
            self.lock_screen.error.show()
        self.stack.setCurrentWidget(self.lock_screen)
        self.lock_screen.password.setFocus()
        self.lockChanged.emit(True)

    def unlock(self, password: str) -> bool:
        """Unlock if ``password`` is the admin's; else say it is wrong and stay locked."""
        if not self._locked:
            return True
        screen = self.lock_screen
        screen.password.clear()
        if self._check is None:
            screen.error.setText(self.translator.tr("admin_lock_no_check"))
            screen.error.show()
            return False
        if not self._check.check(password):
            screen.error.setText(self.translator.tr("admin_wrong_password"))
            screen.error.show()
            return False
        self._locked = False
        self._last_activity = self.clock()
        screen.reset()
        self.stack.setCurrentWidget(self.content)
        self.lockChanged.emit(False)
        return True

    def check_idle(self) -> bool:
        """Lock if the panel was not used for ``settings.lock_minutes``; True if it locked."""
        if self._locked:
            return False
        # read each time: the settings dialog may have changed it since
        if self.clock() - self._last_activity >= self.settings.lock_minutes * 60:
            self.lock_now()
            return True
        return False

    def note_activity(self) -> None:
        """The admin used the panel now (what the event filter records)."""
        self._last_activity = self.clock()

    def eventFilter(self, obj, event) -> bool:
        if (event.type() in _ACTIVITY and not self._locked and isinstance(obj, QWidget)
                and (obj is self or self.isAncestorOf(obj))):
            self.note_activity()
        return False

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        """Re-read every text in the translator's language (on ``languageChanged``)."""
        tr = self.translator.tr
        self.setWindowTitle(tr("admin_title"))
        self.title.setText(tr("admin_title"))
        self.lock_button.setText(tr("admin_lock_now"))
        for index, key in enumerate(("admin_tab_sessions", "admin_tab_rooms",
                                     "admin_tab_notices", "admin_tab_files",
                                     "admin_tab_monitor")):
            self.tabs.setTabText(index, tr(key))
        for tab in (self.sessions_tab, self.rooms_tab, self.notice_tab, self.files_tab,
                    self.monitor_tab, self.lock_screen):
            tab.retranslate()
        self._render_status()
