"""The very first start (no language saved): the language dialog, then the login window in the
language picked, remembered for the next start (defect 1 of issue 14: it crashed before any
window)."""

import pytest
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import QApplication

from chat.qtclient.app import ChatApp
from chat.qtclient.settings import Settings
from chat.qtclient.widgets.language import LanguageDialog
from tests.qt.support import qt_reactor

OFFSCREEN_SIZE_HINTS = "This plugin does not support propagateSizeHints"


def click_in_dialog(qtbot, lang, seen):
    """Once the modal dialog is up (its own loop runs), click the button of ``lang``."""
    def click():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, LanguageDialog):
            QTimer.singleShot(10, click)          # not shown yet: look again shortly
            return
        seen.append(dialog)
        qtbot.mouseClick(dialog.buttons[lang], Qt.MouseButton.LeftButton)
    QTimer.singleShot(0, click)


@pytest.mark.qt_log_ignore(OFFSCREEN_SIZE_HINTS)
@pytest.mark.parametrize("lang,title", [("zh", "登录"), ("en", "log in")])
def test_first_start_asks_the_language_then_shows_the_login_window(qtbot, tmp_path, lang,
                                                                    title):
    ini = str(tmp_path / "settings.ini")
    settings = Settings(ini)
    assert settings.language is None                  # nothing saved: a first start
    seen = []
    click_in_dialog(qtbot, lang, seen)
    app = ChatApp(qt_reactor(), settings, image_dir=str(tmp_path / "images"))
    try:
        assert len(seen) == 1 and seen[0].parent() is None
        assert app.translator.lang == lang
        app.start()
        qtbot.waitExposed(app.login)
        assert title in app.login.windowTitle()
        settings.sync()
        assert Settings(ini).language == lang         # never asked again
    finally:
        app.login.close()
