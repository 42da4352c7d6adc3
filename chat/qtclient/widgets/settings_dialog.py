"""The settings dialog: language, theme, desktop notifications, download folder, files saved on
arrival (off by default: a folder and a size limit), and an admin's lock delay.

Every change takes effect and is saved at once (there is no OK/Cancel to forget): the
language through ``translator.set_language``, which every open window follows, the rest
straight into :class:`chat.qtclient.settings.Settings`, where the notifier, the downloads and
the admin panel read them when they need them; the theme through :func:`chat.qtclient.theme.apply`.
"""

import os

from PyQt6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox,
    QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout)

from chat.qtclient import theme
from chat.qtclient.i18n import LANGUAGE_NAMES, LANGUAGES

LOCK_MINUTES_MAX = 24 * 60
AUTO_SAVE_MB_MAX = 100 * 1024


class SettingsDialog(QDialog):
    """See the module docstring; ``admin`` shows the admin panel's lock delay."""

    def __init__(self, translator, settings, parent=None, admin: bool = False):
        super().__init__(parent)
        self.translator = translator
        self.settings = settings

        self.language_label = QLabel()
        self.language = QComboBox()
        for lang in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES[lang], lang)
        self.language.setCurrentIndex(self.language.findData(translator.lang))
        self.language.currentIndexChanged.connect(self._language_picked)

        self.theme_label = QLabel()
        self.theme = QComboBox()
        for mode in theme.MODES:
            self.theme.addItem("", mode)
        self.theme.setCurrentIndex(self.theme.findData(settings.theme))
        self.theme.currentIndexChanged.connect(self._theme_picked)

        self.notifications = QCheckBox()
        self.notifications.setChecked(settings.notifications)
        self.notifications.toggled.connect(self._notifications_toggled)

        self.download_label = QLabel()
        self.download_dir = QLineEdit(settings.download_dir)
        self.download_dir.editingFinished.connect(self._download_dir_typed)
        self.browse = QPushButton()
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self.choose_download_dir)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.download_dir, 1)
        folder_row.addWidget(self.browse)

        # files saved on arrival: off until asked for; the folder and the limit go with it
        self.auto_save = QCheckBox()
        self.auto_save.setChecked(settings.auto_save)
        self.auto_save.toggled.connect(self._auto_save_toggled)
        self.auto_save_label = QLabel()
        self.auto_save_dir = QLineEdit(settings.auto_save_dir)
        self.auto_save_dir.editingFinished.connect(self._auto_save_dir_typed)
        self.auto_save_browse = QPushButton()
        self.auto_save_browse.setAutoDefault(False)
        self.auto_save_browse.clicked.connect(self.choose_auto_save_dir)
        auto_row = QHBoxLayout()
        auto_row.addWidget(self.auto_save_dir, 1)
        auto_row.addWidget(self.auto_save_browse)
        self.limit_label = QLabel()
        self.auto_save_mb = QSpinBox()
        self.auto_save_mb.setRange(1, AUTO_SAVE_MB_MAX)
        self.auto_save_mb.setValue(settings.auto_save_mb)
        self.auto_save_mb.valueChanged.connect(self._auto_save_mb_changed)
        self.auto_save_note = QLabel()
        self.auto_save_note.setWordWrap(True)
        theme.style(self.auto_save_note, "color: {muted};")

        form = QFormLayout()
        form.addRow(self.language_label, self.language)
        form.addRow(self.theme_label, self.theme)
        form.addRow("", self.notifications)
        form.addRow(self.download_label, folder_row)
        form.addRow("", self.auto_save)
        form.addRow(self.auto_save_label, auto_row)
        form.addRow(self.limit_label, self.auto_save_mb)
        form.addRow("", self.auto_save_note)
        self.language_label.setBuddy(self.language)
        self.theme_label.setBuddy(self.theme)
        self.download_label.setBuddy(self.download_dir)
        self.auto_save_label.setBuddy(self.auto_save_dir)
        self.limit_label.setBuddy(self.auto_save_mb)
        self._auto_save_toggled(settings.auto_save, save=False)

        self.admin_group = QGroupBox()
        self.lock_label = QLabel()
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(1, LOCK_MINUTES_MAX)
        self.lock_minutes.setValue(settings.lock_minutes)
        self.lock_minutes.valueChanged.connect(self._lock_minutes_changed)
        self.lock_label.setBuddy(self.lock_minutes)
        admin_form = QFormLayout(self.admin_group)
        admin_form.addRow(self.lock_label, self.lock_minutes)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(12)
        layout.addLayout(form)
        layout.addWidget(self.admin_group)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        # only once it is inside the dialog: a parentless widget shown is a window of its own
        self.admin_group.setVisible(admin)
        self.setMinimumWidth(480)

        translator.languageChanged.connect(self.retranslate)
        self.retranslate()

    # ------------------------------------------------------------------ changes
    def _language_picked(self, index: int) -> None:
        lang = self.language.itemData(index)
        if lang:
            self.settings.language = lang
            self.translator.set_language(lang)

    def _theme_picked(self, index: int) -> None:
        mode = self.theme.itemData(index)
        if mode:
            self.settings.theme = mode
            theme.apply(mode)

    def _auto_save_toggled(self, on: bool, save: bool = True) -> None:
        if save:
            self.settings.auto_save = on
        for widget in (self.auto_save_dir, self.auto_save_browse, self.auto_save_mb):
            widget.setEnabled(on)

    def _auto_save_dir_typed(self) -> None:
        path = os.path.expanduser(self.auto_save_dir.text().strip())
        if path and path != self.settings.auto_save_dir:
            self.settings.auto_save_dir = path

    def choose_auto_save_dir(self) -> bool:
        """Ask for the folder of files saved on arrival; True if one was chosen (and saved)."""
        path = QFileDialog.getExistingDirectory(
            self, self.translator.tr("settings_auto_save_choose"), self.settings.auto_save_dir)
        if not path:
            return False
        self.auto_save_dir.setText(path)
        self.settings.auto_save_dir = path
        return True

    def _auto_save_mb_changed(self, mb: int) -> None:
        self.settings.auto_save_mb = mb

    def _notifications_toggled(self, on: bool) -> None:
        self.settings.notifications = on

    def _download_dir_typed(self) -> None:
        path = os.path.expanduser(self.download_dir.text().strip())
        if path and path != self.settings.download_dir:
            self.settings.download_dir = path

    def choose_download_dir(self) -> bool:
        """Ask for the download folder; True if one was chosen (and saved)."""
        path = QFileDialog.getExistingDirectory(self, self.translator.tr("settings_choose_dir"),
                                                self.settings.download_dir)
        if not path:
            return False
        self.download_dir.setText(path)
        self.settings.download_dir = path
        return True

    def _lock_minutes_changed(self, minutes: int) -> None:
        self.settings.lock_minutes = minutes

    # ------------------------------------------------------------------ language
    def retranslate(self, *_) -> None:
        """Re-read every text in the translator's language (on ``languageChanged``)."""
        tr = self.translator.tr
        self.setWindowTitle(tr("settings_title"))
        self.language_label.setText(tr("settings_language"))
        index = self.language.findData(self.translator.lang)
        if index != self.language.currentIndex():
            self.language.blockSignals(True)
            self.language.setCurrentIndex(index)
            self.language.blockSignals(False)
        self.theme_label.setText(tr("settings_theme"))
        for i, mode in enumerate(theme.MODES):
            self.theme.setItemText(i, tr(f"settings_theme_{mode}"))
        self.notifications.setText(tr("settings_notifications"))
        self.auto_save.setText(tr("settings_auto_save"))
        self.auto_save_label.setText(tr("settings_auto_save_dir"))
        self.auto_save_browse.setText(tr("settings_browse"))
        self.limit_label.setText(tr("settings_auto_save_limit"))
        self.auto_save_mb.setSuffix(tr("settings_auto_save_suffix"))
        self.auto_save_note.setText(tr("settings_auto_save_note"))
        self.download_label.setText(tr("settings_download_dir"))
        self.browse.setText(tr("settings_browse"))
        self.admin_group.setTitle(tr("settings_admin_group"))
        self.lock_label.setText(tr("settings_lock"))
        self.lock_minutes.setSuffix(tr("settings_lock_suffix"))
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("settings_close"))
