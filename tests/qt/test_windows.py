"""The first-start language dialog, the settings dialog and the notifier."""

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QFileDialog, QSystemTrayIcon, QWidget

from chat.qtclient.i18n import Translator
from chat.qtclient.settings import Settings
from chat.qtclient.widgets.language import LanguageDialog
from chat.qtclient.widgets.notifier import Notifier, shorten
from chat.qtclient.widgets.settings_dialog import SettingsDialog


@pytest.fixture
def ini(tmp_path):
    return str(tmp_path / "settings.ini")


def locale(monkeypatch, lang):
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", lang)


# the offscreen platform says so whenever a shown window's size limits are set; it is
# about the test platform, not about the dialog
OFFSCREEN_SIZE_HINTS = "This plugin does not support propagateSizeHints"


# ---------------------------------------------------------------------- language dialog
@pytest.mark.qt_log_ignore(OFFSCREEN_SIZE_HINTS)
def test_language_dialog_preselects_the_system_locale(qtbot, monkeypatch):
    locale(monkeypatch, "zh_CN.UTF-8")
    dialog = LanguageDialog()
    qtbot.addWidget(dialog)
    assert dialog.chosen == "zh"
    assert dialog.buttons["zh"].isDefault() and not dialog.buttons["en"].isDefault()
    # both languages speak, the preselected one first
    assert dialog.windowTitle() == "语言 / Language"
    # Enter takes the preselected language (a dialog presses only a visible default button)
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.chosen == "zh" and dialog.result() == QDialog.DialogCode.Accepted


def test_language_dialog_click_picks_the_other_language(qtbot, monkeypatch):
    locale(monkeypatch, "en_GB.UTF-8")
    dialog = LanguageDialog()
    qtbot.addWidget(dialog)
    assert dialog.chosen == "en" and dialog.buttons["en"].isDefault()
    assert dialog.buttons["zh"].text() == "中文" and dialog.buttons["en"].text() == "English"
    with qtbot.waitSignal(dialog.accepted, timeout=1000):
        qtbot.mouseClick(dialog.buttons["zh"], Qt.MouseButton.LeftButton)
    assert dialog.chosen == "zh"


# ---------------------------------------------------------------------- settings dialog
def test_settings_language_applies_at_once_and_persists(qtbot, ini):
    settings = Settings(path=ini)
    translator = Translator("en")
    dialog = SettingsDialog(translator, settings)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "Settings"
    assert not dialog.admin_group.isVisibleTo(dialog)       # not an admin
    with qtbot.waitSignal(translator.languageChanged, timeout=1000) as blocker:
        dialog.language.setCurrentIndex(dialog.language.findData("zh"))
    assert blocker.args == ["zh"] and translator.lang == "zh"
    assert dialog.windowTitle() == "设置"
    assert dialog.notifications.text() == "收到新消息时显示桌面通知"
    settings.sync()
    assert Settings(path=ini).language == "zh"


def test_settings_notifications_folder_and_lock_are_saved(qtbot, ini, tmp_path, monkeypatch):
    settings = Settings(path=ini)
    dialog = SettingsDialog(Translator("en"), settings, admin=True)
    qtbot.addWidget(dialog)
    assert dialog.admin_group.isVisibleTo(dialog)
    assert dialog.notifications.isChecked()
    dialog.notifications.setChecked(False)
    folder = tmp_path / "downloads"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda parent, title, start: str(folder)))
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    assert dialog.download_dir.text() == str(folder)
    dialog.lock_minutes.setValue(12)
    assert dialog.lock_minutes.suffix() == " min without use"
    settings.sync()
    again = Settings(path=ini)
    assert again.notifications is False
    assert again.download_dir == str(folder)
    assert again.lock_minutes == 12
    # a typed folder counts once the field is left
    dialog.download_dir.setText(str(tmp_path))
    dialog.download_dir.editingFinished.emit()
    assert settings.download_dir == str(tmp_path)


def test_settings_follow_a_language_switch_elsewhere(qtbot, ini):
    translator = Translator("zh")
    dialog = SettingsDialog(translator, Settings(path=ini), admin=True)
    qtbot.addWidget(dialog)
    assert dialog.lock_label.text() == "管理面板自动锁定："
    translator.set_language("en")
    assert dialog.language.currentData() == "en"
    assert dialog.lock_label.text() == "Lock the admin panel after:"


# ---------------------------------------------------------------------- notifier
@pytest.fixture
def notifier_parts(qtbot, ini):
    settings = Settings(path=ini)
    window = QWidget()
    qtbot.addWidget(window)
    return Translator("en"), settings, window


def test_notifications_only_when_inactive_and_enabled(notifier_parts, monkeypatch):
    translator, settings, window = notifier_parts
    notifier = Notifier(translator, settings, window)
    assert not QSystemTrayIcon.isSystemTrayAvailable() and notifier.tray is None
    assert not window.isActiveWindow()
    assert notifier.message("@alice", "alice", "hello there") is True
    assert notifier.message("#dev", "bob", "build\nis green") is True
    assert notifier.shown == [("New message from alice", "hello there"),
                              ("bob in #dev", "build is green")]
    settings.notifications = False
    assert notifier.message("@alice", "alice", "muted") is False
    settings.notifications = True
    monkeypatch.setattr(window, "isActiveWindow", lambda: True)
    assert notifier.message("@alice", "alice", "you are looking already") is False
    assert len(notifier.shown) == 2
    translator.set_language("zh")
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)
    notifier.message("@alice", "alice", "你好")
    assert notifier.shown[-1] == ("来自 alice 的新消息", "你好")


def test_unread_tooltip(notifier_parts):
    translator, settings, window = notifier_parts
    notifier = Notifier(translator, settings, window)
    assert notifier.tooltip == "Chat"
    notifier.set_unread(3)
    assert notifier.tooltip == "Chat: 3 unread"
    notifier.set_unread(5000)
    assert notifier.tooltip == "Chat: 999+ unread"
    translator.set_language("zh")
    assert notifier.tooltip == "聊天：999+ 条未读"
    notifier.set_unread(0)
    assert notifier.tooltip == "聊天"


def test_clicking_a_notification_names_its_conversation(notifier_parts, monkeypatch):
    translator, settings, window = notifier_parts
    # a desktop with a tray, as far as the notifier can tell
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "show", lambda self: None)
    monkeypatch.setattr(QSystemTrayIcon, "showMessage", lambda self, *args: None)
    notifier = Notifier(translator, settings, window)
    assert notifier.tray is not None and not notifier.tray.icon().isNull()
    notifier.set_unread(2)
    assert notifier.tray.toolTip() == "Chat: 2 unread"
    notifier.message("#dev", "bob", "look")
    got = []
    notifier.activated.connect(got.append)
    notifier.tray.messageClicked.emit()
    notifier.tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    notifier.tray.activated.emit(QSystemTrayIcon.ActivationReason.Context)
    assert got == ["#dev", ""]


def test_shorten_keeps_notifications_to_one_short_line():
    assert shorten("a\n b\tc") == "a b c"
    long = "word " * 100
    cut = shorten(long)
    assert len(cut) <= 200 and cut.endswith("…")
