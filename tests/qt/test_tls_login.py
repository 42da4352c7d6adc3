"""The login window's TLS box (submitted, remembered), and a changed certificate described
in English and Chinese, also against a real server listening with TLS."""

import os

import pytest

from chat.client.core import CannotConnect
from chat.client.tls import CertificateChanged, KnownServers, TLSOptions
from chat.qtclient.i18n import Translator
from chat.qtclient.session import Session
from chat.qtclient.widgets.login import LoginWindow, describe_login_error
from chat.server import certs
from tests.qt.support import PASSWORD, qt_reactor, wait_deferred

PINNED = ":".join(["AA"] * 32)
PRESENTED = ":".join(["BB"] * 32)


def fill(w, port="5000"):
    w.host.setText("127.0.0.1")
    w.port.setText(port)
    w.user.setText("alice")
    w.password.setText(PASSWORD)


def test_the_tls_box_is_remembered_and_moves_the_usual_port(qtbot, window, settings):
    assert not window.tls.isChecked() and not settings.tls
    assert window.tls.text() == "TLS" and window.tls.toolTip()
    fill(window)
    window.tls.setChecked(True)
    assert window.port.text() == "5443"
    with qtbot.waitSignal(window.submitted, timeout=1000) as blocker:
        window.submit()
    assert blocker.args == ["127.0.0.1", 5443, "alice", PASSWORD, False, None]
    assert settings.tls is True and settings.port == 5443
    again = LoginWindow(Translator("zh"), settings)
    qtbot.addWidget(again)
    assert again.tls.isChecked() and again.port.text() == "5443"
    assert "证书" in again.tls.toolTip()
    again.tls.setChecked(False)
    assert again.port.text() == "5000"
    again.port.setText("6000")
    again.tls.setChecked(True)            # a port of one's own stays
    assert again.port.text() == "6000"
    again.password.setText(PASSWORD)      # never remembered
    with qtbot.waitSignal(again.submitted, timeout=1000):
        again.submit()
    assert settings.tls is True


def test_a_changed_certificate_is_described_in_both_languages():
    changed = CertificateChanged("chat.example.org:5443", PINNED, PRESENTED, "/home/a/known")
    failure = CannotConnect(str(changed), changed)
    en = describe_login_error(Translator("en"), failure, "chat.example.org", 5443)
    zh = describe_login_error(Translator("zh"), failure, "chat.example.org", 5443)
    assert en.startswith("Connection refused: the TLS certificate of chat.example.org:5443 "
                         "has changed.")
    assert zh.startswith("已拒绝连接：chat.example.org:5443 的 TLS 证书已改变。")
    for text in (en, zh):
        # each fingerprint in two lines that together are the whole of it
        assert PINNED in text.replace(":\n", ":")
        assert PRESENTED in text.replace(":\n", ":")
        assert "/home/a/known" in text
    other = CannotConnect("TLS handshake failed (wrong version number)", None)
    assert "Is it running" in describe_login_error(Translator("en"), other, "h", 1)


@pytest.fixture
def tls_server(qtbot, tmp_dir):
    from tests.support.server_process import ServerProcess, free_port
    key, cert, fp = certs.make_certificate(os.path.join(tmp_dir, "tls"), ["127.0.0.1"])
    tls_port = free_port()
    proc = ServerProcess(os.path.join(tmp_dir, "server"),
                         args=["--hash-time", "1", "--hash-memory", "8", "--port",
                               certs.ssl_port_string(key, cert, tls_port)
                               + ":interface=127.0.0.1"],
                         reactor=qt_reactor())
    wait_deferred(qtbot, proc.start(), timeout=30000)
    yield proc, tls_port, fp
    if proc.running:
        wait_deferred(qtbot, proc.stop(), timeout=30000)


def test_session_over_tls_pins_then_refuses_a_changed_certificate(qtbot, tls_server, tmp_dir):
    proc, tls_port, fp = tls_server
    known = os.path.join(tmp_dir, "known_servers")
    session = Session(qt_reactor())
    try:
        wait_deferred(qtbot, session.login("127.0.0.1", tls_port, "alice", PASSWORD,
                                           register=True, tls=TLSOptions(known_servers=known)))
        assert session.me == "alice"
    finally:
        session.close()
    server = f"127.0.0.1:{tls_port}"
    assert KnownServers(known).get(server) == fp
    KnownServers(known).remove(server)
    KnownServers(known).add(server, PINNED)
    refused = Session(qt_reactor())
    box = {}
    d = refused.login("127.0.0.1", tls_port, "alice", PASSWORD,
                      tls=TLSOptions(known_servers=known))
    d.addErrback(lambda f: box.update(error=f.value))
    qtbot.waitUntil(lambda: "error" in box, timeout=15000)
    refused.close()
    text = describe_login_error(Translator("zh"), box["error"], "127.0.0.1", tls_port)
    assert text.startswith("已拒绝连接")
    assert PINNED in text.replace(":\n", ":") and fp in text.replace(":\n", ":")


def test_a_ca_file_is_offered_with_tls_and_remembered(qtbot, window, settings, tmp_path,
                                                     monkeypatch):
    from PyQt6.QtWidgets import QFileDialog
    assert window.tls_options() is None
    assert not window.form.isRowVisible(window.ca_box)       # only with TLS
    fill(window)
    window.tls.setChecked(True)
    assert window.form.isRowVisible(window.ca_box)
    assert window.tls_options().pinning                        # empty: pin on first use
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(ca), ""))
    assert window.choose_ca_file()
    options = window.tls_options()
    assert options.ca_file == str(ca) and not options.pinning
    with qtbot.waitSignal(window.submitted, timeout=1000):
        window.submit()
    assert settings.ca_file == str(ca)
    again = LoginWindow(Translator("zh"), settings)
    qtbot.addWidget(again)
    assert again.ca_file.text() == str(ca) and again.form.isRowVisible(again.ca_box)
    assert again.ca_label.text() == "证书验证" and again.system_ca.text() == "系统 CA"
    again.system_ca.setChecked(True)                 # the system's CAs instead of the file
    assert again.tls_options().system_ca and not again.ca_file.isEnabled()
    again.password.setText(PASSWORD)
    with qtbot.waitSignal(again.submitted, timeout=1000):
        again.submit()
    assert settings.system_ca is True
