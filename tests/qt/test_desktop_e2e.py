"""End to end: the real ``chat-qt`` program, started as a person starts it, against a real
``twistd chatserver`` on 127.0.0.1, once in each language.

Each run is a fresh process (``tests/qt/desktop_e2e_driver.py``, which calls the function
setup.cfg names for the ``chat-qt`` script with ``sys.argv == ["chat-qt"]``) with a fresh HOME
and XDG folders and no settings: so the first start's language dialog comes up (this would
have caught defect 1 of issue 14, the crash there). The driver clicks and types into the
program's windows from inside that process and goes through first start, registration, a room
message, a private message to bob (a native client of the client core, on a connection of its
own), an upload, a download, logout and login again; see its docstring.

Why a process of its own rather than this pytest-qt process: a process has one QApplication,
which ``main()`` makes; Qt reads where the settings live once per process, so a fresh HOME
per language needs a fresh process; and ``main()`` stops the reactor's thread pool on its way
out, which the other tests here still use.

Here the outcome is checked again from outside: the report, the files on disk under the fresh
HOME (SHA-256), and the remembered language.
"""

import configparser
import glob
import hashlib
import json
import os
import subprocess
import sys

import pytest

from tests.support.server_process import REPO_ROOT, child_env

DRIVER = os.path.join(REPO_ROOT, "tests", "qt", "desktop_e2e_driver.py")


def fresh_home_env(home: str) -> dict:
    env = child_env()
    for name in list(env):
        if name.startswith("XDG_") or name in ("QT_SCALE_FACTOR", "LANGUAGE", "LC_ALL"):
            del env[name]
    env.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, ".config"),
               XDG_DATA_HOME=os.path.join(home, ".local", "share"),
               XDG_CACHE_HOME=os.path.join(home, ".cache"),
               QT_QPA_PLATFORM="offscreen", LANG="C.UTF-8")
    return env


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_real_program_first_start_to_second_login(qtbot, server, tmp_dir, lang):
    home = os.path.join(tmp_dir, "home")
    work = os.path.join(tmp_dir, "work")
    os.makedirs(home)
    os.makedirs(work)
    report_path = os.path.join(tmp_dir, "report.json")
    log_path = os.path.join(tmp_dir, "chat-qt.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, DRIVER, "--port", str(server.port), "--lang", lang,
             "--work", work, "--report", report_path],
            env=fresh_home_env(home), cwd=work, stdout=log, stderr=subprocess.STDOUT)
        try:
            # Qt's loop (and the server's process watch) keep running while we wait
            qtbot.waitUntil(lambda: proc.poll() is not None, timeout=240000)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        output = f.read()
    assert os.path.exists(report_path), output[-4000:]
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    assert report["ok"], json.dumps(report, ensure_ascii=False, indent=1) + output[-4000:]
    assert proc.returncode == 0 and report["exit_code"] == 0
    steps = [name for name, _ in report["steps"]]
    for step in ("language dialog shown", "main window after registering",
                 "bob gets the room message", "bob gets the private message",
                 "bob downloaded alice's file", "alice's download done",
                 "login window after logout", "main window after logging in again"):
        assert step in steps
    facts = report["facts"]

    # the file alice downloaded is in the fresh home's download folder, byte for byte
    download = facts["download_path"]
    assert download.startswith(home + os.sep)
    with open(download, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == facts["download_sha256"]
    assert os.path.basename(download) == "report-bob.pdf"

    # the language chosen at first start was remembered in the fresh home's settings
    inis = glob.glob(os.path.join(home, ".config", "**", "*.ini"), recursive=True) + \
        glob.glob(os.path.join(home, ".config", "**", "*.conf"), recursive=True)
    assert inis, os.listdir(home)
    saved = configparser.ConfigParser(interpolation=None)
    saved.read(inis)
    languages = [saved[section].get("language") for section in saved.sections()
                 if saved[section].get("language")]
    assert languages == [lang]

    # the windows spoke the language chosen
    if lang == "zh":
        assert "登录" in facts["login_title"] and "已连接" in facts["link_text"]
        assert facts["typing_line"] == "bob 正在输入…"
    else:
        assert "log in" in facts["login_title"] and "Connected" in facts["link_text"]
        assert facts["typing_line"] == "bob is typing…"
