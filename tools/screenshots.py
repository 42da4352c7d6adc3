"""Screenshots of the desktop client: ``make screenshots``.

Starts a real server on a free loopback port, three clients (alice, bob and carol, as ChatApp
instances in this process) on the screen Qt is given (``make screenshots`` runs this under
``xvfb-run``), plays a short conversation (room, private chat, an image, a file, stickers, a
burn-after-reading message, people coming online and joining, grouped messages, emoji alone,
a link, a draft) and saves every window and state (see ``STATES``) in English and
Chinese, in the light and the dark theme, on a screen of 1400x900 and of 800x500, to
``docs/screenshots/<state>-<lang>-<theme>-<size>.png``. The main window fills the screen;
dialogs and popups are drawn where they open, over it; a small window (login) sits in the
middle of the screen.

The PNGs are stored with a palette of their 256 most frequent colours (a chat window has a few
thousand colours, most of them anti-aliasing): a third of the size of full colour, and the
flat colours of the interface exact; a picture that needs more (a photo over most of it) is
kept in full colour.
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


SIZES = [(1400, 900), (800, 500)]
THEMES = ["light", "dark"]
LANGS = ["en", "zh"]
COVERAGE = 0.85
"""A picture whose 256 commonest colours cover less of it than this is kept in full colour."""
DESKTOP = {"light": ("#8fa3c7", "#c9d3e6"), "dark": ("#1a1d29", "#3a4060")}


def save_small(image, path: str, full_colour: bool = False, keep=()) -> None:
    """``image`` as an 8-bit PNG with its 256 most frequent colours (see the docstring), the
    colours ``keep`` (the theme's, as ``#rrggbb``) among them however rare: small red text on
    a card would otherwise take the nearest frequent colour; ``full_colour`` (a photo shown
    large) keeps every colour."""
    import collections
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QImage
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = image.constBits()
    bits.setsize(image.sizeInBytes())
    counts = collections.Counter(memoryview(bits).cast("I"))
    top = counts.most_common(256)
    if full_colour or sum(n for _, n in top) < COVERAGE * image.width() * image.height():
        # a big photo on screen: its gradients would take the palette from the interface
        if not image.save(path, "PNG", 0):
            raise SystemExit(f"cannot write {path}")
        return
    # the theme's colours that the picture has, then the most frequent others
    wanted = [0xFF000000 | int(c[1:], 16) for c in keep if len(c) == 7]
    wanted = [c for c in wanted if counts.get(c) or counts.get(c & 0xFFFFFF)]
    table = list(dict.fromkeys(wanted + [colour | 0xFF000000 for colour, _ in top]))[:256]
    small = image.convertToFormat(QImage.Format.Format_Indexed8, table,
                                  Qt.ImageConversionFlag.ThresholdDither)
    if not small.save(path, "PNG", 0):
        raise SystemExit(f"cannot write {path}")


def main() -> int:
    os.environ["QT_API"] = "pyqt6"
    # a short, fixed folder: the settings dialog shows the download folder under it
    base = os.path.join(tempfile.gettempdir(), "chat-screenshots")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    port = free_port()
    server = start_server(base, port)
    try:
        return run(base, port)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(base, ignore_errors=True)


def run(base: str, port: int) -> int:
    from PyQt6.QtCore import QPoint, QRect, Qt
    from PyQt6.QtGui import QColor, QImage, QLinearGradient, QPainter
    from PyQt6.QtWidgets import QApplication
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)       # windows come and go between the pictures
    from chat.qtclient import reactor as qt_reactor
    reactor = qt_reactor.install()
    from twisted.internet import defer, task

    from chat.qtclient import stickers, theme
    from chat.qtclient.app import ChatApp
    from chat.qtclient.errors import describe_bye, describe_reason
    from chat.qtclient.settings import Settings
    from chat.qtclient.widgets.messages import show_image
    from chat.qtclient.widgets.settings_dialog import SettingsDialog

    os.makedirs(OUT, exist_ok=True)
    # what an older run of this script made, gone states too; not the other renderers'
    # (tools/web_screenshots.py: web-*; the guest windows: *-window.png)
    for name in os.listdir(OUT):
        if name.endswith(".png") and not name.startswith("web-") \
                and not name.endswith("-window.png"):
            os.remove(os.path.join(OUT, name))
    files = os.path.join(base, "files")
    os.makedirs(files)
    avatar_a, avatar_b = os.path.join(files, "a.png"), os.path.join(files, "b.png")
    avatar_c = os.path.join(files, "c.png")
    make_image(avatar_a, 96, 96, 220, "A")
    make_image(avatar_b, 96, 96, 20, "B")
    make_image(avatar_c, 96, 96, 290, "C")
    photo = os.path.join(files, "whiteboard.png")
    make_image(photo, 640, 400, 180, "Whiteboard")
    diagram = os.path.join(files, "diagram.png")
    make_image(diagram, 480, 300, 40, "Diagram")
    notes = os.path.join(files, "lecture-notes.pdf")
    with open(notes, "wb") as f:
        f.write(os.urandom(3 * 1024 * 1024 + 123456))
    own_sticker = os.path.join(files, "thumbs-up.png")
    make_image(own_sticker, 300, 300, 120, "+1")
    result = {"code": 1, "saved": []}
    dialogs = []

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
        settings.theme = "light"
        return ChatApp(reactor, settings, ask_language=False,
                       image_dir=os.path.join(base, f"images-{name}"))

    def fill(login, name, avatar):
        login.user.setText(name)
        login.password.setText(PASSWORD)
        login.register.setChecked(True)
        login.password2.setText(PASSWORD)
        login.load_avatar(avatar)

    def screen(size, theme_name):
        """An empty desktop of ``size``."""
        w, h = size
        image = QImage(w, h, QImage.Format.Format_RGB32)
        painter = QPainter(image)
        top, bottom = DESKTOP[theme_name]
        gradient = QLinearGradient(0, 0, 0, h)
        gradient.setColorAt(0, QColor(top))
        gradient.setColorAt(1, QColor(bottom))
        painter.fillRect(0, 0, w, h, gradient)
        painter.end()
        return image

    def put(image, widget, at):
        """Draw ``widget`` on ``image`` at ``at``, with a soft shadow as a window has."""
        app.processEvents()
        picture = widget.grab()
        painter = QPainter(image)
        for i, alpha in enumerate((40, 26, 14)):
            painter.fillRect(QRect(at + QPoint(2 + 2 * i, 3 + 2 * i), picture.size()),
                             QColor(0, 0, 0, alpha))
        painter.drawPixmap(at, picture)
        painter.end()

    def centred(size, widget):
        w, h = size
        return QPoint(max(0, (w - widget.width()) // 2), max(0, (h - widget.height()) // 2))

    def save(image, state, lang, theme_name, size, full_colour=False):
        name = f"{state}-{lang}-{theme_name}-{size[0]}x{size[1]}.png"
        save_small(image, os.path.join(OUT, name), full_colour,
                   keep=theme.THEMES[theme_name].values())
        result["saved"].append(name)
        print("saved", os.path.join("docs", "screenshots", name))

    @defer.inlineCallbacks
    def play():
        alice, bob, carol = client("alice", "en"), client("bob", "en"), client("carol", "en")
        alice.login.show()
        fill(alice.login, "alice", avatar_a)
        alice.login.submit()
        yield wait_for(lambda: alice.main is not None)
        bob.login.show()
        fill(bob.login, "bob", avatar_b)
        bob.login.submit()
        yield wait_for(lambda: bob.main is not None)
        a, b = alice.state, bob.state
        result["typist"] = bob
        alice.main.input.sticker_dir = os.path.join(base, "stickers-alice")
        yield alice.session.set_topic("lobby", "Class of 2026: questions welcome")
        a.send("Good morning everyone! 👋 Today: networking basics.")
        yield sleep(0.3)
        b.send("Morning! Can you share the slides? 🙏")
        yield sleep(0.3)
        a.send("Sure, the notes are coming as a file. 你好，同学们！")
        a.send_file(notes, "#lobby")
        yield sleep(0.5)
        b.send_file(photo, "#lobby")
        yield wait_for(lambda: any(i.is_image and i.transfer is not None
                                   and i.transfer.state.value == "done"
                                   for i in a.log("#lobby").items))
        b.send("Thanks! That's the whiteboard from yesterday.")
        yield sleep(0.3)
        happy = stickers.builtin_sets()[0].stickers[0]
        thanks = stickers.builtin_sets()[2].stickers[1]
        bob.main._send_sticker(thanks.path)
        yield wait_for(lambda: any(i.is_sticker for i in a.log("#lobby").items))
        yield sleep(0.3)
        alice.main._send_sticker(happy.path)
        yield wait_for(lambda: len([i for i in a.log("#lobby").items if i.is_sticker]) == 2
                       and all(i.msg_id for i in a.log("#lobby").items if i.is_sticker))
        # carol comes by (presence in the conversation), and says hello
        carol.login.show()
        fill(carol.login, "carol", avatar_c)
        carol.login.submit()
        yield wait_for(lambda: carol.main is not None)
        carol.state.send("Hi all, sorry I'm late!")
        yield sleep(0.2)
        carol.state.send("👋😅")                  # emoji alone: large, grouped under her name
        yield sleep(0.3)
        a.send("Slides and exercises: https://example.org/net101 (chapter 2)")
        yield sleep(0.3)
        # four students at once: one line for their coming online, one for joining the lobby
        from chat.qtclient.session import Session
        students = [Session(reactor) for _ in range(4)]
        yield defer.gatherResults([
            s.login("127.0.0.1", port, name, PASSWORD, register=True)
            for s, name in zip(students, ("dave", "erin", "frank", "gina"))])
        yield sleep(0.8)
        # a private chat, with a burn-after-reading message
        b.send("Psst, can we move the lab to Thursday?", conv="@alice")
        b.send("The door code is 4711", burn=300, conv="@alice")   # outlasts the run
        yield sleep(0.5)
        a.send("Thursday works, I'll tell the class.", conv="@bob")
        bob.state.set_active(True)
        bob.state.select("@alice")               # bob reads: alice sees the read mark
        yield sleep(0.8)
        # alice downloads the notes so that the file card shows its finished state
        item = [i for i in a.log("#lobby").items if i.file and not i.is_image][0]
        transfer = a.download(item, alice.settings.download_dir)
        yield transfer.finished
        # alice's own sticker, and a login window that is not logged in (carol's, cleared)
        panel_dir = alice.main.input.sticker_dir
        from chat.qtclient.stickers import import_picture
        import_picture(own_sticker, panel_dir)
        carol.logout()
        # something typed for bob and not sent: a draft, under his name in the sidebar
        a.conversations.set_draft("@bob", "Also: who has the lab keys?")
        photo_id = [i for i in a.log("#lobby").items if i.is_image][0].msg_id
        main = alice.main
        main.move(0, 0)
        a.set_active(True)
        for theme_name in THEMES:
            alice.settings.theme = theme_name       # what the settings dialog shows
            theme.apply(theme_name)
            for lang in LANGS:
                for t in (alice.translator, carol.translator):
                    t.set_language(lang)
                for size in SIZES:
                    yield shoot_all(alice, carol, main, a, lang, theme_name, size, photo_id)
        result["code"] = 0

    @defer.inlineCallbacks
    def shoot_all(alice, carol, main, a, lang, theme_name, size, photo_id):
        tr = alice.translator.tr
        w, h = size
        main.resize(w, h)
        main.showNormal()
        yield sleep(0.3)
        # the login window, filled in; and with an error
        login = carol.login
        login.reset_after_logout()
        fill(login, "carol", avatar_c)
        login.register.setChecked(False)
        login.show()
        login.adjustSize()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, login, centred(size, login))
        save(image, "login", lang, theme_name, size)
        login.show_error(tr("server_unreachable", host="127.0.0.1", port=5999,
                            reason=describe_reason(tr, "refused")))
        login.adjustSize()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, login, centred(size, login))
        save(image, "login-error", lang, theme_name, size)
        # the guest choice (a server started with --allow-guests): a name, no password
        login._clear_error()
        login.user.setText("visitor" if lang == "en" else "访客")
        login.guest.setChecked(True)
        login.adjustSize()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, login, centred(size, login))
        save(image, "login-guest", lang, theme_name, size)
        login.guest.setChecked(False)
        # thrown out by an admin: back at the login window, which says why (defect 6)
        login.user.setText("carol")
        login.reset_after_logout(describe_bye(alice.translator, "kicked", "kicked by alice: "
                                              + ("testing" if lang == "en" else "测试")))
        login.adjustSize()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, login, centred(size, login))
        save(image, "login-kicked", lang, theme_name, size)
        login._clear_error()
        login.hide()
        # the very first start: no language saved yet (defect 1), the preselected one first
        from chat.qtclient.widgets.language import LanguageDialog
        dialog = LanguageDialog(preselected=lang)
        dialog.show()
        dialog.adjustSize()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, dialog, centred(size, dialog))
        save(image, "language", lang, theme_name, size)
        dialog.hide()
        dialog.deleteLater()
        # the room
        a.select("#lobby")
        yield sleep(0.4)
        main.view.scrollToBottom()
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "room", lang, theme_name, size)
        # text selected in the conversation (the theme's selection colours)
        row = next(r for r, i in enumerate(a.log("#lobby").items) if "example.org" in i.text)
        main.view.select_text(row, 0, row, len("Slides and exercises"))
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "selection", lang, theme_name, size)
        main.view.clear_selection()
        # the quick switcher (Ctrl+K), a few letters typed
        switcher = main.open_switcher()
        switcher.query.setText("r")
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, switcher, switcher.geometry().topLeft() - main.geometry().topLeft())
        save(image, "switcher", lang, theme_name, size)
        switcher.hide()
        # upload cards in each phase: a picture being sent, a file the server refused, a big
        # video being prepared (hashed; newest, so the small screen shows it too); drawn from
        # transfers in those states
        lobby = a.log("#lobby")
        cards = upload_cards(alice)
        for card in cards:
            lobby.append(card)
        main.view.scrollToBottom()
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "upload", lang, theme_name, size)
        for card in cards:
            lobby.remove(lobby.items.index(card))
        # bob typing: his client sends a real notice, alice's window says so under the room
        typist = result["typist"]
        typist.session.client.typists.message_sent("#lobby")     # not held back for 3 s
        typist.session.typing("#lobby")
        yield wait_for(lambda: main.typing_line.text() != "")
        yield sleep(0.2)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "typing", lang, theme_name, size)
        alice.session.client.typists.clear()                     # not in the other pictures
        main.typing_line.refresh()
        # the emoji picker and the sticker panel, open over it
        for state, opener, popup in (
                ("emoji", main.input.open_emoji, lambda: main.input.picker),
                ("stickers", main.input.open_stickers, lambda: main.input.sticker_panel)):
            opener()
            yield sleep(0.3)
            widget = popup()
            image = screen(size, theme_name)
            put(image, main, QPoint(0, 0))
            put(image, widget, widget.geometry().topLeft() - main.geometry().topLeft())
            save(image, state, lang, theme_name, size)
            widget.hide()
        # the history window, with thumbnails
        alice.open_history("#lobby")
        history = alice.history_windows["#lobby"]
        history.resize(min(780, w - 40), min(560, h - 40))
        yield wait_for(lambda: history.loaded)
        yield sleep(0.4)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, history, centred(size, history))
        save(image, "history", lang, theme_name, size)
        history.hide()
        # a history result opened: the photo's message, highlighted
        yield alice.show_message("#lobby", photo_id)
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "history-result", lang, theme_name, size)
        main.view._end_highlight()
        # the private chat
        a.select("@bob")
        yield sleep(0.5)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        save(image, "private", lang, theme_name, size)
        a.select("#lobby")
        # settings (an admin's), the admin panel, its lock screen, the image viewer
        dialog = SettingsDialog(alice.translator, alice.settings, main, admin=True)
        dialog.show()
        dialog.adjustSize()
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, dialog, centred(size, dialog))
        save(image, "settings", lang, theme_name, size)
        dialog.close()
        dialogs.append(dialog)          # deleted with the main window
        alice.open_admin()
        panel = alice.admin_panel
        panel.resize(min(1000, w - 40), min(680, h - 40))
        if panel.is_locked:
            panel.unlock(PASSWORD)
        yield sleep(0.6)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, panel, centred(size, panel))
        save(image, "admin", lang, theme_name, size)
        panel.lock_now()
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, panel, centred(size, panel))
        save(image, "admin-locked", lang, theme_name, size)
        panel.unlock(PASSWORD)
        panel.hide()
        viewer = show_image(main, photo)
        viewer.resize(min(900, w - 80), min(620, h - 60))
        yield sleep(0.3)
        image = screen(size, theme_name)
        put(image, main, QPoint(0, 0))
        put(image, viewer, centred(size, viewer))
        save(image, "image-viewer", lang, theme_name, size, full_colour=True)
        viewer.close()

    def upload_cards(alice):
        from chat.client.transfers import Transfer, TransferState
        from chat.qtclient.models import ChatItem, Delivery, ItemKind
        from chat.qtclient.state import _now_ts
        gib, mib = 1 << 30, 1 << 20
        shown = []
        for name, path, size, state, fields in (
                ("diagram.png", diagram, os.path.getsize(diagram), TransferState.SENDING,
                 {"done": int(os.path.getsize(diagram) * 0.61), "speed": 2.4 * mib}),
                ("recordings.zip", None, int(2.1 * gib), TransferState.FAILED,
                 {"error": ("too_large", "recordings.zip is 2,254,857,830 bytes, over this "
                                         "server's limit of 104,857,600 bytes")}),
                ("field-trip.mp4", None, int(1.4 * gib), TransferState.HASHING,
                 {"hashed": int(0.53 * gib)})):
            mime = "image/png" if path else "application/octet-stream"
            transfer = Transfer("up", name, size, path=path or os.path.join(files, name),
                                target="#lobby", mime=mime, state=state)
            for key, value in fields.items():
                setattr(transfer, key, value)
            shown.append(ChatItem(
                ItemKind.MESSAGE, sender=alice.session.me, own=True, cid=f"upload-{name}",
                delivery=Delivery.PENDING, ts=_now_ts(), transfer=transfer,
                file={"name": name, "size": size, "mime": mime}))
        return shown

    def done(_):
        app.quit()

    def failed(failure):
        failure.printTraceback(file=sys.stderr)
        sys.stderr.flush()
        app.quit()

    reactor.callLater(0, lambda: play().addCallbacks(done, failed))
    app.exec()
    qt_reactor.shutdown(reactor)
    if result["code"] == 0:
        total = sum(os.path.getsize(os.path.join(OUT, n)) for n in result["saved"])
        print(f"{len(result['saved'])} screenshots, {total / 1e6:.1f} MB")
    return result["code"]


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # every picture is saved and the server stopped: skip the interpreter's teardown of the
    # Qt objects, which crashed now and then (one run in three) in PyQt's order of deletion
    os._exit(code)
