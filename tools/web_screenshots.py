"""Screenshots of the browser client: ``make web-screenshots``.

Starts a real server (``--web-port``) on free loopback ports, plays a short conversation with
native protocol clients (bob and carol: room messages, a picture, a sticker, a private chat
with a burn-after-reading message), then logs alice in with headless Chromium in English and
Chinese, light and dark, on a desktop (1280x800) and a phone (360x740) screen and saves
each state to ``docs/screenshots/web-<state>-<lang>-<theme>-<size>.png`` (8-bit PNGs, as
``tools/screenshots.py`` writes them).
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools"))
OUT = os.path.join(ROOT, "docs", "screenshots")
PASSWORD = "correct horse"
DESKTOP = (1280, 800)
PHONE = (360, 740)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Native:
    """A blocking native protocol client, enough to play the conversation."""

    def __init__(self, port, name, register=True):
        from chat.protocol.framing import FrameDecoder
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.decoder = FrameDecoder(1 << 24)
        self.next_id = 0
        self.request("hello", version=1, client="screenshots")
        if register:
            self.request("register", username=name, password=PASSWORD)
        self.request("login", username=name, password=PASSWORD)

    def _send(self, obj):
        from chat.protocol.codec import control_frame
        self.sock.sendall(control_frame(obj))

    def request(self, kind, body=b"", **fields):
        from chat.protocol.framing import iter_body_frames
        self.next_id += 1
        rid = self.next_id
        if body:
            fields["body"] = len(body)
        self._send({"type": kind, "id": rid, **fields})
        for frame in iter_body_frames(rid, body, 262144):
            self.sock.sendall(frame)
        while True:
            data = self.sock.recv(1 << 16)
            if not data:
                raise SystemExit(f"{kind}: connection closed")
            for payload in self.decoder.feed(data):
                if payload[:1] != b"{":
                    continue
                obj = json.loads(bytes(payload))
                if obj.get("id") == rid:
                    if obj["type"] == "error":
                        raise SystemExit(f"{kind}: {obj}")
                    return obj.get("data", {})

    def send(self, to, text, **fields):
        self.next_id += 1
        return self.request("send", to=to, text=text, cid=f"s-{time.time()}-{self.next_id}", **fields)

    def send_file(self, to, name, data, mime):
        offer = self.request("file_offer", to=to, name=name, size=len(data),
                             sha256=hashlib.sha256(data).hexdigest(), mime=mime)
        if offer["offset"] < len(data):
            self.request("upload", body=data[offer["offset"]:], file=offer["file"]["id"],
                         offset=offer["offset"])


def picture(path, w, h, hue, label):
    from screenshots import make_image
    make_image(path, w, h, hue, label)
    with open(path, "rb") as f:
        return f.read()


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtGui import QGuiApplication, QImage
    app = QGuiApplication(sys.argv[:1])          # fonts for the sample picture, PNG writing
    from screenshots import save_small
    from tests.support.browser import chromium
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base = tempfile.mkdtemp(prefix="chat-web-shots-")
    port, web = free_port(), free_port()
    twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
    server = subprocess.Popen(
        [twistd, "-n", "--pidfile=", "--logfile", os.path.join(base, "server.log"), "chatserver",
         "--port", f"tcp:{port}:interface=127.0.0.1", "--web-port", f"tcp:{web}:interface=127.0.0.1",
         "--data-dir", os.path.join(base, "data"), "--admin", "alice", "--name", "classroom",
         "--hash-time", "1", "--hash-memory", "8"], cwd=base)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
        alice = Native(port, "alice")
        bob = Native(port, "bob")
        carol = Native(port, "carol")
        alice.request("logout")
        bob.send("#lobby", "Good morning! The slides for today are in #physics.")
        carol.send("#lobby", "早上好！我马上到 🚲")
        photo = picture(os.path.join(base, "lab.png"), 480, 300, 200, "Lab 3")
        bob.send_file("#lobby", "lab-setup.png", photo, "image/png")
        with open(os.path.join(ROOT, "chat", "qtclient", "sticker_sets", "faces", "happy.png"), "rb") as f:
            carol.send_file("#lobby", "happy.png", f.read(), "image/png; sticker")
        carol.send("#lobby", "Can someone share the homework sheet? 作业在哪里？")
        bob.send_file("#lobby", "homework-week-12.pdf", b"%PDF-1.4\n" + b"0" * 180000, "application/pdf")
        bob.send("@alice", "Are you coming to the lab after lunch?")
        bob.send("@alice", "The door code is 4711 (this one burns after reading)", burn=300)
        os.makedirs(OUT, exist_ok=True)
        count = 0
        for lang in ("en", "zh"):
            for theme in ("light", "dark"):
                for size in (DESKTOP, PHONE):
                    count += shoot(chromium, By, Keys, save_small, QImage, web, lang, theme, size, bob)
        print(f"wrote {count} screenshots to {OUT}")
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(base, ignore_errors=True)
    del app
    return 0


def shoot(chromium, By, Keys, save_small, QImage, web, lang, theme, size, bob) -> int:
    driver = chromium(lang, size)
    written = 0
    tag = f"{lang}-{theme}-{size[0]}x{size[1]}"

    def save(state):
        nonlocal written
        time.sleep(0.4)
        png = driver.get_screenshot_as_png()
        image = QImage.fromData(png, "PNG")
        save_small(image, os.path.join(OUT, f"web-{state}-{tag}.png"))
        written += 1

    def wait(condition, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{tag}: timed out")
            time.sleep(0.1)

    def click(selector, by=By.CSS_SELECTOR):
        # the lists are drawn again as events come: find the element anew until it holds
        def attempt():
            driver.find_element(by, selector).click()
            return True
        wait(attempt)

    try:
        driver.get(f"http://127.0.0.1:{web}/")
        driver.execute_script(f"localStorage.setItem('chat.theme', '{theme}');"
                              f"localStorage.setItem('chat.lang', '{lang}');")
        driver.get(f"http://127.0.0.1:{web}/")
        wait(lambda: driver.find_element(By.ID, "login-user").is_displayed())
        driver.find_element(By.ID, "login-user").send_keys("alice")
        save("login")
        driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-submit").click()
        wait(lambda: driver.find_element(By.ID, "app-view").is_displayed())
        phone = size == PHONE
        if phone:
            save("list")
            click('#room-list [data-conv="#lobby"]')
        wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#log .msg")) >= 6)
        wait(lambda: driver.execute_script(
            "return [...document.querySelectorAll('#log img')].every(i => i.complete && i.naturalWidth)"))
        driver.find_element(By.ID, "message-input").send_keys("See you at 2 — 下午两点见")
        save("room")
        driver.find_element(By.ID, "message-input").clear()
        if not phone:
            driver.find_element(By.ID, "emoji-button").click()
            save("emoji")
            driver.find_element(By.ID, "emoji-button").click()
            driver.find_element(By.ID, "sticker-button").click()
            wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#sticker-grid img"))
            save("stickers")
            driver.find_element(By.ID, "sticker-button").click()
        else:
            driver.find_element(By.ID, "back").click()
        click('#private-list [data-conv="@bob"]')
        wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#log .msg")) >= 2)
        driver.find_element(By.ID, "burn").click()
        if not driver.execute_script("return document.getElementById('log').textContent"
                                     ".includes('after lunch 👍')"):
            driver.find_element(By.ID, "message-input").send_keys("Yes, after lunch 👍")
            driver.find_element(By.ID, "message-input").send_keys(Keys.ENTER)
            time.sleep(0.5)
        bob.request("read", conv="@alice", up_to=2 ** 40)     # the read mark on alice's side
        wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#log .read-mark"))
        driver.find_element(By.ID, "message-input").send_keys("🙂")
        save("private")
        if not phone:
            driver.find_element(By.ID, "open-settings").click()
            save("settings")
            driver.find_element(By.CSS_SELECTOR, "#settings-dialog button.primary").click()
            driver.find_element(By.ID, "open-admin").click()
            wait(lambda: driver.find_elements(By.CSS_SELECTOR, "#sessions-body tr"))
            driver.find_element(By.ID, "info-user").send_keys("bob")   # the account lookup
            driver.find_element(By.ID, "info-look").click()
            wait(lambda: driver.find_element(By.ID, "user-info").is_displayed()
                 and driver.find_elements(By.CSS_SELECTOR, "#info-fields dt"))
            save("admin")
    finally:
        driver.quit()
    return written


if __name__ == "__main__":
    sys.exit(main())
