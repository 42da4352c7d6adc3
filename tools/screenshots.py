"""Screenshots of the desktop client for the README: ``make screenshots``.

Starts a real server on a free loopback port, two clients (alice and bob, as two ChatApp
instances in this process) on the screen Qt is given (``make screenshots`` runs this under
``xvfb-run``), plays a short conversation (room, private chat, an image, a file, a
burn-after-reading message) and saves PNGs of the login window and alice's main window, in
English and in Chinese, to ``docs/screenshots/``.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "screenshots")
PASSWORD = "correct horse"


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(base: str, port: int) -> subprocess.Popen:
    data = os.path.join(base, "server")
    os.makedirs(data)
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    proc = subprocess.Popen(
        [twistd, "-n", "--pidfile=", "--logfile", os.path.join(base, "server.log"),
         "chatserver", "--port", f"tcp:{port}:interface=127.0.0.1", "--data-dir", data,
         "--admin", "alice", "--name", "classroom", "--hash-time", "1", "--hash-memory", "8"],
        cwd=base)
    import socket
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start; see " + os.path.join(base, "server.log"))


def make_image(path: str, w: int, h: int, hue: int, label: str) -> None:
    from PyQt6.QtCore import QRect, Qt
    from PyQt6.QtGui import QColor, QFont, QImage, QLinearGradient, QPainter
    image = QImage(w, h, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    gradient = QLinearGradient(0, 0, w, h)
    gradient.setColorAt(0, QColor.fromHsv(hue, 160, 240))
    gradient.setColorAt(1, QColor.fromHsv((hue + 60) % 360, 200, 160))
    painter.fillRect(0, 0, w, h, gradient)
    font = QFont()
    font.setPixelSize(h // 2 if w == h else h // 6)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    painter.drawText(QRect(0, 0, w, h), Qt.AlignmentFlag.AlignCenter, label)
    painter.end()
    image.save(path)


def main() -> int:
    os.environ["QT_API"] = "pyqt6"
    base = tempfile.mkdtemp(prefix="chat-screenshots-")
    port = free_port()
    server = start_server(base, port)
    try:
        return run(base, port)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(base, ignore_errors=True)


def run(base: str, port: int) -> int:
    from PyQt6.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    from chat.qtclient import reactor as qt_reactor
    reactor = qt_reactor.install()
    from twisted.internet import defer, task

    from chat.qtclient.app import ChatApp
    from chat.qtclient.settings import Settings

    os.makedirs(OUT, exist_ok=True)
    files = os.path.join(base, "files")
    os.makedirs(files)
    avatar_a, avatar_b = os.path.join(files, "a.png"), os.path.join(files, "b.png")
    make_image(avatar_a, 96, 96, 220, "A")
    make_image(avatar_b, 96, 96, 20, "B")
    photo = os.path.join(files, "whiteboard.png")
    make_image(photo, 640, 400, 180, "Whiteboard")
    notes = os.path.join(files, "lecture-notes.pdf")
    with open(notes, "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 123456))
    result = {"code": 1}

    def sleep(seconds):
        return task.deferLater(reactor, seconds, lambda: None)

    def wait_for(condition, timeout=20.0):
        @defer.inlineCallbacks
        def poll():
            deadline = time.monotonic() + timeout
            while not condition():
                if time.monotonic() > deadline:
                    raise TimeoutError("the conversation did not reach the expected state")
                yield sleep(0.05)
        return poll()

    def client(name, lang):
        settings = Settings(os.path.join(base, f"{name}.ini"))
        settings.language = lang
        settings.host, settings.port, settings.user = "127.0.0.1", port, name
        settings.download_dir = os.path.join(base, f"downloads-{name}")
        return ChatApp(reactor, settings, ask_language=False,
                       image_dir=os.path.join(base, f"images-{name}"))

    def fill(login, name, avatar):
        login.user.setText(name)
        login.password.setText(PASSWORD)
        login.register.setChecked(True)
        login.password2.setText(PASSWORD)
        login.load_avatar(avatar)

    def shoot(widget, name):
        app.processEvents()
        path = os.path.join(OUT, name)
        widget.grab().save(path)
        print("saved", os.path.relpath(path, ROOT))

    @defer.inlineCallbacks
    def play():
        alice, bob = client("alice", "en"), client("bob", "en")
        # the login window, filled in, for each language
        for lang in ("en", "zh"):
            alice.translator.set_language(lang)
            alice.login.show()
            fill(alice.login, "alice", avatar_a)
            alice.login.adjustSize()
            alice.login.resize(max(480, alice.login.width()), alice.login.height())
            yield sleep(0.3)
            shoot(alice.login, f"login-{lang}.png")
        alice.translator.set_language("en")
        alice.login.submit()
        yield wait_for(lambda: alice.main is not None)
        bob.login.show()
        fill(bob.login, "bob", avatar_b)
        bob.login.submit()
        yield wait_for(lambda: bob.main is not None)
        a, b = alice.state, bob.state
        yield alice.session.set_topic("lobby", "Class of 2026: questions welcome")
        a.send("Good morning everyone! 👋 Today: networking basics.")
        yield sleep(0.3)
        b.send("Morning! Can you share the slides? 🙏")
        yield sleep(0.3)
        a.send("Sure, the notes are coming as a file. 你好，同学们！")
        alice.session.send_file("#lobby", notes)
        yield sleep(0.5)
        bob.session.send_file("#lobby", photo)
        yield wait_for(lambda: any(i.is_image and i.transfer is not None
                                   and i.transfer.state.value == "done"
                                   for i in a.log("#lobby").items))
        b.send("Thanks! That's the whiteboard from yesterday.")
        # a private chat, with a burn-after-reading message
        b.send("Psst, can we move the lab to Thursday?", conv="@alice")
        b.send("The door code is 4711", burn=30, conv="@alice")
        yield sleep(0.5)
        a.send("Thursday works, I'll tell the class.", conv="@bob")
        bob.state.set_active(True)
        bob.state.select("@alice")               # bob reads: alice sees the read mark
        yield sleep(0.8)
        # alice downloads the notes so that the file card shows its finished state
        item = [i for i in a.log("#lobby").items if i.file and not i.is_image][0]
        transfer = a.download(item, alice.settings.download_dir)
        yield transfer.finished
        for lang in ("en", "zh"):
            alice.translator.set_language(lang)
            alice.main.resize(1180, 760)
            alice.main.activateWindow()
            a.set_active(True)
            a.select("#lobby")
            yield sleep(0.6)
            alice.main.view.scrollToBottom()
            shoot(alice.main, f"main-{lang}.png")
            a.select("@bob")
            a.set_active(True)
            yield sleep(1.2)
            shoot(alice.main, f"private-{lang}.png")
        result["code"] = 0

    def done(_):
        app.quit()

    def failed(failure):
        failure.printTraceback()
        app.quit()

    reactor.callLater(0, lambda: play().addCallbacks(done, failed))
    app.exec()
    qt_reactor.shutdown(reactor)
    return result["code"]


if __name__ == "__main__":
    sys.exit(main())
