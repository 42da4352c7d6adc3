"""The panel's "files" page: a file for everyone or one user, and each upload's progress."""

import os

from PyQt6.QtWidgets import (
    QAbstractItemView, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QProgressBar, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout)

from chat.client.transfers import TransferState
from chat.qtclient.errors import describe_error

from .tab import Tab
from .target_chooser import TargetChooser


class FilesTab(Tab):
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
        self.target = TargetChooser(self.translator)
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
            message = describe_error(self.translator, *transfer.error) if transfer.error else ""
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
