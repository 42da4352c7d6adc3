"""Qt tests: one QApplication, the Qt reactor on it, and a real chat server per test.

These run in a pytest process of their own (``make test``): the Qt reactor must be installed
before anything imports ``twisted.internet.reactor``, and the other tests use the default one.
Qt warnings fail a test (``qt_log_level_fail`` in setup.cfg).
"""

import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyqt6"

import pytest  # noqa: E402
from PyQt6.QtWidgets import QApplication  # noqa: E402

_app = QApplication.instance() or QApplication(["chat-qt-tests"])

from chat.qtclient import reactor as qt_reactor  # noqa: E402

reactor = qt_reactor.install()

from tests.qt.support import wait_deferred  # noqa: E402


@pytest.fixture
def tmp_dir():
    path = tempfile.mkdtemp(prefix="chat-qt-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server(qtbot, tmp_dir):
    """A real server process on 127.0.0.1 (admin: ``root``), stopped after the test."""
    from tests.support.server_process import ServerProcess
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--admin", "root", "--hash-time", "1", "--hash-memory", "8",
                               "--allow-monitoring"],
                         reactor=reactor)
    wait_deferred(qtbot, proc.start(), timeout=30000)
    yield proc
    if proc.running:
        wait_deferred(qtbot, proc.stop(), timeout=30000)


@pytest.fixture(scope="session", autouse=True)
def _stop_thread_pool():
    """File transfers use the reactor's thread pool; its threads would keep pytest alive."""
    yield
    qt_reactor.shutdown(reactor)


@pytest.fixture
def settings(tmp_path):
    """The desktop client's settings in an INI file of the test's own."""
    from chat.qtclient.settings import Settings
    return Settings(path=str(tmp_path / "settings.ini"))


@pytest.fixture
def window(qtbot, settings):
    """A login window in English on those settings."""
    from chat.qtclient.i18n import Translator
    from chat.qtclient.widgets.login import LoginWindow
    w = LoginWindow(Translator("en"), settings)
    qtbot.addWidget(w)
    return w
