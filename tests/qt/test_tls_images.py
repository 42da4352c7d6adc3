"""Inline images over TLS (issue 14, defect 3: the second one stayed "Waiting…" with a
zero-byte partial file, the server logging the download as interrupted)."""

import glob
import os

import pytest
from PyQt6.QtGui import QColor, QImage

from chat.server import certs
from tests.qt.support import qt_reactor, wait_deferred
from tests.qt.test_app import close, log_in, make_app


@pytest.fixture
def tls_server(qtbot, tmp_dir, monkeypatch):
    from tests.support.server_process import ServerProcess, free_port
    monkeypatch.setenv("XDG_CONFIG_HOME", os.path.join(tmp_dir, "config"))   # known_servers
    key, cert, _ = certs.make_certificate(os.path.join(tmp_dir, "tls"), ["127.0.0.1"])
    port = free_port()
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--hash-time", "1", "--hash-memory", "8", "--port",
                               certs.ssl_port_string(key, cert, port) + ":interface=127.0.0.1"],
                         reactor=qt_reactor())
    wait_deferred(qtbot, proc.start(), timeout=30000)
    yield proc, port
    if proc.running:
        wait_deferred(qtbot, proc.stop(), timeout=30000)


def picture(path, colour, w=400, h=300):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor(colour))
    assert image.save(path)
    return path


def test_every_inline_image_arrives_over_tls(qtbot, tls_server, tmp_dir):
    proc, port = tls_server
    apps = []
    for name in ("alice", "bob"):
        app = make_app(tmp_dir, name, port)
        app.settings.tls = True
        app.login.tls.setChecked(True)
        app.login.port.setText(str(port))
        apps.append(app)
    alice, bob = apps
    try:
        a_main = log_in(qtbot, alice, "alice")
        log_in(qtbot, bob, "bob")
        for n, colour in enumerate(("#e5484d", "#30a46c", "#3e63dd")):
            a_main.input.sendFiles.emit([picture(os.path.join(tmp_dir, f"p{n}.png"), colour)])

        def arrived():
            images = [i for i in bob.state.log("#lobby").items if i.is_image]
            return len(images) == 3 and all(
                i.transfer is not None and i.transfer.state.value == "done" for i in images)
        qtbot.waitUntil(arrived, timeout=20000)
        assert not glob.glob(os.path.join(bob.image_dir, "**", ".chat-*.part"), recursive=True)
        assert "interrupted" not in proc.output()
    finally:
        close(alice, bob)
