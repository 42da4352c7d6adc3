"""Drive the real ``chat-qt`` program as a person would, from inside its own process.

``python tests/qt/desktop_e2e_driver.py --port N --lang en --report FILE`` runs the function
that ``setup.cfg`` names for the ``chat-qt`` script, with ``sys.argv`` of a real start
(``["chat-qt"]``: no ``--lang``, no ``--settings``), so with the caller's fresh HOME and XDG
folders the first-start language dialog comes up. The scenario below is scheduled on Qt's
loop as soon as the program has made its QApplication (main() is handed a subclass of
QApplication that schedules it: the program itself is not changed) and then clicks and types into the windows the
program made (``QTest`` key and mouse events, the clipboard for a pasted file):

first start (the language button), registration as alice, a room message, a private message
to bob and his answer (each seeing the other typing first), a file pasted into the private chat (an upload), a file from bob
downloaded with a click on its card, logout, login again, quit.

bob is a native client (``chat.client.core.ChatClient``, the core chat-cli runs on) on a
connection of his own to the same server: what alice sends is checked on his side (the text,
the file's SHA-256 after his download), what he sends is checked in alice's window.

The scenario is a generator: each step yields a condition and the driver polls it every
20 ms on Qt's loop, so no modal loop (the language dialog's) is ever blocked by a waiting
test and nothing sleeps a fixed time. Qt warnings fail the run. The report (JSON) says which
steps passed and where the downloaded file is; the exit status is 0 only if all passed.
"""

import argparse
import configparser
import hashlib
import importlib
import itertools
import json
import os
import sys
import time
import traceback

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PASSWORD = "correct horse battery"
STEP_TIMEOUT = 30.0
IGNORED_QT_MESSAGES = ("This plugin does not support",)

# what each language's window says, checked in the windows
WORDS = {
    "en": {"login_title": "log in", "connected": "Connected"},
    "zh": {"login_title": "登录", "connected": "已连接"},
}


def entry_point():
    """The function of the ``chat-qt`` script, as setup.cfg names it."""
    config = configparser.ConfigParser()
    config.read(os.path.join(REPO_ROOT, "setup.cfg"))
    scripts = config["options.entry_points"]["gui_scripts"]
    for line in scripts.strip().splitlines():
        name, _, target = line.partition("=")
        if name.strip() == "chat-qt":
            module, _, function = target.strip().partition(":")
            return getattr(importlib.import_module(module), function)
    raise LookupError("setup.cfg names no chat-qt script")


class StepFailed(Exception):
    pass


class Driver:
    """Runs the scenario generator on Qt's loop; see the module docstring."""

    def __init__(self, args):
        self.args = args
        self.steps = []            # (name, seconds) of the steps passed
        self.error = None
        self.qt_warnings = []
        self.facts = {}
        self._gen = None
        self._waiting = None       # (name, condition, deadline)
        self._timer = None

    # ------------------------------------------------------------------ Qt messages
    def install_message_handler(self):
        from PyQt6.QtCore import QtMsgType, qInstallMessageHandler

        def handler(kind, context, message):
            if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg,
                        QtMsgType.QtFatalMsg):
                if not any(part in message for part in IGNORED_QT_MESSAGES):
                    self.qt_warnings.append(message)
            sys.stderr.write(f"qt: {message}\n")
        self._handler = handler                 # kept alive
        qInstallMessageHandler(handler)

    # ------------------------------------------------------------------ running
    def start(self):
        from PyQt6.QtCore import QTimer
        self._gen = scenario(self)
        self._started = time.monotonic()
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._advance()

    def _advance(self):
        try:
            name, condition = next(self._gen)
        except StopIteration:
            self._timer.stop()
            return
        except Exception:
            self._fail(traceback.format_exc())
            return
        self._waiting = (name, condition, time.monotonic() + STEP_TIMEOUT, time.monotonic())

    def _tick(self):
        if self._waiting is None:
            return
        name, condition, deadline, began = self._waiting
        try:
            ok = condition()
        except Exception:
            self._fail(f"step {name!r}:\n" + traceback.format_exc())
            return
        if ok:
            self.steps.append((name, round(time.monotonic() - began, 3)))
            self._waiting = None
            self._advance()
        elif time.monotonic() > deadline:
            self._fail(f"step {name!r}: not reached in {STEP_TIMEOUT:.0f} s; "
                       f"{describe_windows()}")

    def _fail(self, text):
        from PyQt6.QtWidgets import QApplication
        self.error = text
        sys.stderr.write("FAILED " + text + "\n")
        self._waiting = None
        if self._timer is not None:
            self._timer.stop()
        # leave every modal loop and the program's own
        modal = QApplication.activeModalWidget()
        if modal is not None:
            modal.close()
        QApplication.instance().exit(3)

    def report(self, code):
        return {"ok": self.error is None and not self.qt_warnings and code == 0,
                "exit_code": code, "error": self.error, "qt_warnings": self.qt_warnings,
                "steps": self.steps, "facts": self.facts}


# ---------------------------------------------------------------------- helpers of the steps
def top_level(kind):
    """The visible top-level window of class ``kind`` (by name), or None."""
    from PyQt6.QtWidgets import QApplication
    for widget in QApplication.topLevelWidgets():
        if type(widget).__name__ == kind and widget.isVisible():
            return widget
    return None


def describe_windows():
    """What the windows show, for a failure message."""
    from PyQt6.QtWidgets import QApplication
    parts = []
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible():
            text = type(widget).__name__ + ": " + widget.windowTitle()
            error = getattr(widget, "error", None)
            if hasattr(error, "text") and error.isVisible():
                text += " error: " + error.text()
            parts.append(text)
    return "windows: " + "; ".join(parts)


def type_into(widget, text):
    widget.setFocus()
    widget.clear()
    type_text(widget, text)


def type_text(widget, text):
    """Type ``text`` into the focused ``widget``: ASCII as key presses, anything else as an
    input method's commit (how Chinese and emoji arrive from an IME; QTest has no keys for
    them)."""
    from PyQt6.QtGui import QInputMethodEvent
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    widget.setFocus()
    for ascii_run, chars in itertools.groupby(text, key=str.isascii):
        run = "".join(chars)
        if ascii_run:
            QTest.keyClicks(widget, run)
        else:
            event = QInputMethodEvent()
            event.setCommitString(run)
            QApplication.sendEvent(widget, event)


def press_enter(widget):
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    QTest.keyClick(widget, Qt.Key.Key_Return)


def click(widget, pos=None):
    from PyQt6.QtCore import Qt
    from PyQt6.QtTest import QTest
    if pos is None:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
    else:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def texts_of(state, conv):
    return [item.text for item in state.log(conv).items]


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fired(box):
    """A condition: the Deferred behind ``box`` fired (raises if it failed)."""
    def check():
        if "fail" in box:
            box["fail"].raiseException()
        return "ok" in box
    return check


def boxed(d):
    box = {}
    d.addCallbacks(lambda r: box.update(ok=r), lambda f: box.update(fail=f))
    return box


class NativeClient:
    """bob: the client core (what chat-cli runs on) on a connection of his own."""

    def __init__(self, reactor, port):
        from twisted.internet.endpoints import TCP4ClientEndpoint
        from chat.client.core import ChatClient
        from chat.client.listener import ClientListener
        self.messages = []
        self.typing = []
        outer = self

        class Listener(ClientListener):
            def on_message(self, msg, live):
                outer.messages.append(msg)

            def on_typing(self, event):
                outer.typing.append(event)

        endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", port, timeout=10)
        self.client = ChatClient(endpoint.connect, reactor, Listener(),
                                 client_name="e2e-native/1")

    def got(self, conv, text=None, file_name=None):
        for msg in self.messages:
            if msg.get("conv") != conv or msg.get("from") != "alice":
                continue
            if text is not None and msg.get("text") == text:
                return msg
            if file_name is not None and (msg.get("file") or {}).get("name") == file_name:
                return msg
        return None


# ---------------------------------------------------------------------- the scenario
def scenario(driver):
    """The generator of steps: yields (name, condition)."""
    from PyQt6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication
    args = driver.args
    words = WORDS[args.lang]
    facts = driver.facts
    work = args.work

    # 1. first start: the language dialog, no window behind it
    yield "language dialog shown", lambda: type(QApplication.activeModalWidget()).__name__ \
        == "LanguageDialog"
    dialog = QApplication.activeModalWidget()
    assert dialog.parent() is None
    click(dialog.buttons[args.lang])

    # 2. the login window, in that language
    yield "login window shown", lambda: top_level("LoginWindow") is not None \
        and QApplication.activeModalWidget() is None
    login = top_level("LoginWindow")
    assert words["login_title"] in login.windowTitle().lower(), login.windowTitle()
    facts["login_title"] = login.windowTitle()

    # 3. register alice through the form
    type_into(login.host, "127.0.0.1")
    type_into(login.port, str(args.port))
    type_into(login.user, "alice")
    type_into(login.password, PASSWORD)
    # on its box (a check box stretched across the form reacts only to its box and text)
    click(login.register, QPoint(8, login.register.height() // 2))
    assert login.register.isChecked() and login.password2.isVisible()
    type_into(login.password2, PASSWORD)
    press_enter(login.password2)
    yield "main window after registering", lambda: top_level("MainWindow") is not None \
        and top_level("MainWindow").state.current == "#lobby"
    main = top_level("MainWindow")
    assert not login.isVisible()
    yield "status bar says connected", lambda: words["connected"] in main.link_text()

    # bob, the native client, registers on his own connection (on the program's reactor,
    # installed by now: importing it earlier would have installed Twisted's default one)
    from twisted.internet import reactor
    from chat.qtclient.models import Delivery
    assert type(reactor).__name__ == "QtReactor"
    bob = NativeClient(reactor, args.port)
    box = boxed(bob.client.login("bob", PASSWORD, register=True))
    yield "bob logged in", fired(box)

    # 4. a room message, typed and sent with Enter; bob gets it
    room_text = f"hello room ({args.lang}) 你好 👋"
    editor = main.input.editor
    type_text(editor, room_text)
    press_enter(editor)
    yield "bob gets the room message", lambda: bob.got("#lobby", text=room_text) is not None
    assert editor.toPlainText() == ""
    mine = [i for i in main.state.log("#lobby").items if i.own and i.text == room_text]
    assert len(mine) == 1
    yield "alice's room message stored", lambda: mine[0].delivery is Delivery.STORED

    # 5. a private message: bob is picked in the people list (double click)
    state = main.state
    yield "bob in alice's people list", lambda: state.users.get("bob") is not None
    people = main.sidebar.people
    row = [r for r in range(people.model().rowCount())
           if people.model().index(r, 0).data(Qt.ItemDataRole.UserRole + 2) == "bob"][0]
    index = people.model().index(row, 0)
    people.scrollTo(index)
    centre = people.visualRect(index).center()
    # a double click is a click and then a press that the system calls a double click
    click(people.viewport(), centre)
    QTest.mouseDClick(people.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, centre)
    yield "private chat with bob open", lambda: state.current == "@bob"
    assert "bob" in main.header.text()
    private_text = f"a secret for bob ({args.lang})"
    type_text(editor, private_text)
    press_enter(editor)
    yield "bob gets the private message", lambda: bob.got("@alice", text=private_text)
    # alice's keystrokes told bob she was typing (before her message came)
    assert {"type": "typing", "conv": "@alice", "user": "alice"} in bob.typing, bob.typing
    # bob types: alice's window says so under the conversation, until his message comes
    yield "bob's typing notice relayed", fired(boxed(bob.client.typing("@alice")))
    yield "alice sees bob typing", lambda: "bob" in main.typing_line.text()
    facts["typing_line"] = main.typing_line.text()
    bob.client.send("@alice", "got it, thanks")
    yield "bob's answer in alice's window", lambda: "got it, thanks" in texts_of(state, "@bob")
    yield "bob's typing notice gone with his message", lambda: main.typing_line.text() == ""
    assert main.view.model() is state.log("@bob")

    # 6. an upload: a file pasted into the private chat (Ctrl+V of a copied file)
    data = os.urandom(700 * 1024 + 3)
    upload = os.path.join(work, "notes-alice.bin")
    with open(upload, "wb") as f:
        f.write(data)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(upload)])
    QApplication.clipboard().setMimeData(mime)
    editor.setFocus()
    QTest.keyClick(editor, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    yield "bob gets the file message", lambda: bob.got("@alice", file_name="notes-alice.bin")
    offered = bob.got("@alice", file_name="notes-alice.bin")["file"]
    bob_dir = os.path.join(work, "bob-downloads")
    os.makedirs(bob_dir, exist_ok=True)
    transfer = bob.client.download(offered["id"], bob_dir)
    yield "bob downloaded alice's file", lambda: transfer.state.value == "done"
    assert sha256_of(transfer.path) == hashlib.sha256(data).hexdigest()
    facts["upload_sha256"] = hashlib.sha256(data).hexdigest()

    # 7. a download: bob sends a file, alice clicks "download" on its card
    data2 = os.urandom(300 * 1024 + 11)
    bob_file = os.path.join(work, "report-bob.pdf")
    with open(bob_file, "wb") as f:
        f.write(data2)
    bob.client.send_file("@alice", bob_file)
    item_box = []

    def card():
        found = [i for i in state.log("@bob").items
                 if i.file and i.file.get("name") == "report-bob.pdf"]
        item_box[:] = found
        return bool(found)
    yield "bob's file card in alice's window", card
    item = item_box[0]
    model = state.log("@bob")
    yield "the card offers a download", lambda: (
        main.view.scrollToBottom() or main.view.action_rect(model.row_of_id(item.msg_id),
                                                            "download") is not None)
    rect = main.view.action_rect(model.row_of_id(item.msg_id), "download")
    click(main.view.viewport(), rect.center())
    yield "alice's download done", lambda: item.transfer is not None \
        and item.transfer.state.value == "done"
    facts["download_path"] = item.transfer.path
    facts["download_sha256"] = hashlib.sha256(data2).hexdigest()
    assert sha256_of(item.transfer.path) == facts["download_sha256"]
    yield "the card offers to open it", lambda: main.view.action_rect(
        model.row_of_id(item.msg_id), "open") is not None

    # 8. logout from the menu: the login window again, no password kept
    main.act_logout.trigger()
    yield "login window after logout", lambda: top_level("LoginWindow") is not None \
        and top_level("MainWindow") is None
    assert login.password.text() == "" and not login.register.isChecked()
    assert login.user.text() == "alice"

    # 9. login again with the password typed
    type_into(login.password, PASSWORD)
    press_enter(login.password)
    yield "main window after logging in again", lambda: top_level("MainWindow") is not None \
        and top_level("MainWindow").state.current == "#lobby"
    main = top_level("MainWindow")
    yield "the room message is still there", lambda: room_text in texts_of(main.state,
                                                                            "#lobby")
    yield "connected again", lambda: words["connected"] in main.link_text()
    facts["link_text"] = main.link_text()

    # 10. quit from the menu: the program's loop ends and main() returns
    bob.client.close()
    main.act_quit.trigger()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lang", choices=sorted(WORDS), required=True)
    parser.add_argument("--work", required=True, help="a folder for the files sent")
    parser.add_argument("--report", required=True)
    args = parser.parse_args()
    driver = Driver(args)
    driver.install_message_handler()

    # when the program makes its QApplication, the scenario is scheduled on its loop
    from PyQt6 import QtWidgets
    from PyQt6.QtCore import QTimer

    class DrivenApplication(QtWidgets.QApplication):
        def __init__(self, *args):
            super().__init__(*args)
            QTimer.singleShot(0, driver.start)
    QtWidgets.QApplication = DrivenApplication

    program = entry_point()
    sys.argv = ["chat-qt"]
    code = 99
    try:
        code = program()
    except SystemExit as exc:
        code = exc.code
    except Exception:
        driver.error = traceback.format_exc()
    report = driver.report(code)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(report, f, ensure_ascii=False, indent=1)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
