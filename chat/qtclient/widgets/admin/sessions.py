"""The panel's "online users" page: the session list, one account's details, kick/ban/unban."""

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QScrollArea,
    QTableWidget, QTableWidgetItem, QVBoxLayout)
from twisted.internet import defer

from chat.protocol import commands as C

from .dialogs import ConfirmDialog
from .tab import Tab
from .wording import address, duration, local_time


class SessionsTab(Tab):
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
        return self.panel.run(self.session.request(C.Sessions()), self.fill)

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
        # an older server sends no idle times: no empty column for them
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
        return self.panel.run(self.session.request(C.UserInfo(user=name)), shown)

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
        def done(data):
            closed = data.get("closed", 0)
            self.panel.report(lambda: self.translator.tr("kick_done", user=user, n=closed))
            return self.refresh()
        return self.panel.run(self.session.request(C.Kick(user=user, reason=reason)), done)

    def ban(self, user: str, reason: str = ""):
        def done(data):
            closed = data.get("closed", 0)
            self.panel.report(lambda: self.translator.tr("ban_done", user=user, n=closed))
            return defer.gatherResults([self.refresh(), self.show_user(user)])
        return self.panel.run(self.session.request(C.Ban(user=user, reason=reason)), done)

    def unban(self, user: str):
        def done(data):
            self.panel.report(lambda: self.translator.tr("unban_done", user=user))
            return self.show_user(user)
        return self.panel.run(self.session.request(C.Unban(user=user)), done)

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
