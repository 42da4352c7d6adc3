"""The browser client in a real browser: headless Chromium (Debian's, driven by Selenium)
against the real ``twistd chatserver --web-port`` in a child process on 127.0.0.1, with
native protocol clients (tests/support/wire.py) on the same server's TCP port.

Nothing is skipped: ``make install`` installs chromium, chromium-driver and selenium.
"""

import os
import shutil
import tempfile

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from twisted.trial import unittest

from tests.support.browser import DESKTOP, PHONE, chromium, console_errors, wait_until
from tests.support.server_process import ServerProcess, free_port, port_spec
from tests.support.wire import login_client

FAST_HASH = ["--hash-time", "1", "--hash-memory", "8"]
PASSWORDS = {"alice": "alice-Pa55word-7f3k", "bob": "bob-Pa55word-q9zx",
             "carol": "carol-Pa55word-m2vd"}


def from_alice(event):
    return event["msg"]["from"] == "alice"


class BrowserCase(unittest.TestCase):
    """A server with a web port per test; browsers and native clients closed afterwards."""

    timeout = 120
    lang = "en"
    server_args = ()

    async def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chat-web-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.web_port = free_port()
        self.server = ServerProcess(os.path.join(self.tmp, "server"), args=FAST_HASH + [
            "--web-port", self.web_port_spec(), *self.server_args])
        self.addCleanup(self.server.stop)
        await self.server.start()
        self.url = f"{self.scheme}://127.0.0.1:{self.web_port}/"
        self.natives = []
        self.addCleanup(self._close_natives)

    def web_port_spec(self):
        return port_spec(self.web_port)

    async def _close_natives(self):
        for client in self.natives:
            await client.abort()

    scheme = "http"

    def browser(self, lang=None, size=DESKTOP):
        driver = chromium(lang or self.lang, size, accept_self_signed=self.scheme == "https")
        self.addCleanup(driver.quit)
        self.addCleanup(self._no_console_errors, driver)
        driver.get(self.url)
        return driver

    def _no_console_errors(self, driver):
        # a script error or a Content-Security-Policy refusal shows here
        # (a WebSocket refused while the server is down is the browser's network log)
        allowed = ["ERR_CONNECTION_REFUSED", *self.console_allowed]
        errors = [e for e in console_errors(driver)
                  if not any(text in e for text in allowed)]
        self.assertEqual(errors, [], "errors in the browser's console")

    # network-log lines a test causes on purpose (never a script error)
    console_allowed = ()

    async def native(self, name, register=True):
        client = await login_client(self.server.port, name, PASSWORDS[name], register=register)
        self.natives.append(client)
        return client

    async def sign_in(self, driver, name, register=True):
        await wait_until(lambda: driver.find_element(By.ID, "login-user").is_displayed(),
                         what="the login form")
        if register:
            driver.find_element(By.ID, "login-mode").click()
        driver.find_element(By.ID, "login-user").send_keys(name)
        driver.find_element(By.ID, "login-password").send_keys(PASSWORDS[name])
        if register:
            driver.find_element(By.ID, "login-password2").send_keys(PASSWORDS[name])
        driver.find_element(By.ID, "login-submit").click()
        await wait_until(lambda: driver.find_element(By.ID, "app-view").is_displayed(),
                         what=f"{name}'s main view")
        await wait_until(lambda: "#lobby" in driver.find_element(By.ID, "conv-title").text
                         or not driver.find_element(By.ID, "conversation").is_displayed(),
                         what="the lobby")

    def open_conv(self, driver, key):
        def attempt():
            selector = '#people-list' if key.startswith("@") else '#room-list'
            for item in driver.find_elements(By.CSS_SELECTOR, "#room-list [data-conv], #private-list [data-conv]"):
                if item.get_attribute("data-conv") == key:
                    item.click()
                    return True
            if key.startswith("@"):
                for person in driver.find_elements(By.CSS_SELECTOR, f"{selector} [data-user]"):
                    if person.get_attribute("data-user") == key[1:]:
                        person.click()
                        return True
            return False
        return wait_until(attempt, what=f"{key} in the lists")

    def type_message(self, driver, text):
        box = driver.find_element(By.ID, "message-input")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def log_texts(self, driver):
        return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#log .msg .text")]

    async def wait_text(self, driver, text, timeout=15):
        return await wait_until(lambda: text in self.log_texts(driver), timeout,
                                what=f"{text!r} in the browser's log")


class BrowserChatTests(BrowserCase):

    async def test_login_send_and_receive_with_a_native_client(self):
        bob = await self.native("bob")
        driver = self.browser()
        self.assertEqual(driver.find_element(By.ID, "login-submit").text, "Log in")
        await self.sign_in(driver, "alice")

        self.type_message(driver, "hello from the browser 你好 👋")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual((event["msg"]["from"], event["msg"]["text"], event["msg"]["conv"]),
                         ("alice", "hello from the browser 你好 👋", "#lobby"))
        # the browser shows its message once, acknowledged (an id, no "sending")
        await wait_until(lambda: driver.find_element(
            By.CSS_SELECTOR, f'#log .msg[data-id="{event["msg"]["id"]}"]'), what="the ack")
        self.assertEqual(self.log_texts(driver).count("hello from the browser 你好 👋"), 1)

        await bob.send_message("#lobby", "hi alice, from the terminal", cid="n-1")
        await self.wait_text(driver, "hi alice, from the terminal")

        # a private message: a private chat with an unread badge, opened by keyboard
        await bob.send_message("@alice", "a secret", cid="n-2")
        item = await wait_until(lambda: driver.find_element(
            By.CSS_SELECTOR, '#private-list [data-conv="@bob"] .badge'), what="the badge")
        self.assertEqual(item.text, "1")
        # found again each time: the list is drawn anew when presence or unread counts change
        await wait_until(lambda: "1 unread" in (driver.find_element(
            By.CSS_SELECTOR, '#private-list [data-conv="@bob"]').get_attribute("aria-label") or ""),
            what="the unread count in the entry's label")
        def press_enter():
            # found again on each try: a redraw between finding and typing (presence, a
            # count) leaves a stale or not yet interactable element
            entry = driver.find_element(By.CSS_SELECTOR, '#private-list [data-conv="@bob"]')
            entry.send_keys(Keys.ENTER)
            return True
        await wait_until(press_enter, what="Enter on @bob's entry")
        await self.wait_text(driver, "a secret")
        await wait_until(lambda: not driver.find_elements(
            By.CSS_SELECTOR, '#private-list [data-conv="@bob"] .badge'), what="the badge to go")
        read = await bob.next_event("read", timeout=10)
        self.assertEqual((read["conv"], read["user"]), ("@alice", "alice"))
        self.type_message(driver, "only for bob")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual((event["msg"]["conv"], event["msg"]["text"]), ("@alice", "only for bob"))

    async def test_an_unacknowledged_message_is_resent_once_after_reconnecting(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")
        # the test closes the socket while the server's ok is on its way: Chromium's network
        # log may say so (seen once in CI); that is the break under test, not a script error
        self.console_allowed = ("Data frame received after close",)
        # the send goes out, then the link breaks before its ok can be read
        driver.execute_script(
            "const s = chatApp.session; s.send('#lobby', 'sent across a break');"
            "s.link.close();")
        first = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(first["msg"]["text"], "sent across a break")
        # the client reconnects by itself, resends with the same cid; the server has it
        await wait_until(lambda: driver.find_element(By.ID, "link-state").get_attribute(
            "data-state") == "online" and driver.find_elements(
            By.CSS_SELECTOR, f'#log .msg[data-id="{first["msg"]["id"]}"]'), timeout=20,
            what="the reconnect and the ack")
        self.assertEqual(self.log_texts(driver).count("sent across a break"), 1)
        await bob.send_message("#lobby", "after", cid="n-after")
        await self.wait_text(driver, "after")
        history = (await bob.request("history", conv="#lobby"))["messages"]
        self.assertEqual([m["text"] for m in history].count("sent across a break"), 1)

    async def test_messages_typed_while_the_server_is_down_arrive_after_its_restart(self):
        driver = self.browser()
        await self.sign_in(driver, "alice")
        self.type_message(driver, "before the restart")
        await wait_until(lambda: driver.find_elements(
            By.CSS_SELECTOR, "#log .msg[data-id]:not([data-id=''])"), what="the first ack")
        await self.server.stop()
        await wait_until(lambda: driver.find_element(By.ID, "link-state").get_attribute(
            "data-state") != "online", what="the browser to notice")
        self.type_message(driver, "typed while offline")
        pending = driver.find_element(By.CSS_SELECTOR, "#log .msg:last-child")
        self.assertEqual(pending.get_attribute("data-id"), "")
        self.assertIn("sending", pending.text)
        await self.server.start()
        bob = await self.native("bob")
        await wait_until(lambda: driver.find_element(By.ID, "link-state").get_attribute(
            "data-state") == "online", timeout=40, what="the reconnect")
        await wait_until(lambda: driver.find_element(
            By.CSS_SELECTOR, "#log .msg:last-child").get_attribute("data-id"), timeout=10,
            what="the resent message's ack")
        history = (await bob.request("history", conv="#lobby"))["messages"]
        self.assertEqual([m["text"] for m in history],
                         ["before the restart", "typed while offline"])
        self.assertEqual(self.log_texts(driver).count("typed while offline"), 1)


class ChineseBrowserTests(BrowserCase):
    lang = "zh-CN"

    async def test_the_client_in_chinese(self):
        bob = await self.native("bob")
        driver = self.browser()
        self.assertEqual(driver.find_element(By.ID, "login-submit").text, "登录")
        await self.sign_in(driver, "alice")
        self.assertEqual(driver.find_element(By.ID, "send").text, "发送")
        self.assertEqual(driver.find_element(By.ID, "rooms-title").text, "房间")
        self.type_message(driver, "你好，世界")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(event["msg"]["text"], "你好，世界")
        await bob.send_message("#lobby", "收到", cid="n-1")
        await self.wait_text(driver, "收到")
        self.assertEqual(driver.execute_script("return document.documentElement.lang"), "zh-CN")
        # nothing but the address, language and theme is kept in localStorage
        keys = driver.execute_script("return Object.keys(localStorage).sort()")
        self.assertLessEqual(set(keys), {"chat.server", "chat.lang", "chat.theme"})
        self.assertEqual(driver.execute_script("return document.cookie"), "")


class ThreeClientsCase(BrowserCase):
    """Two browser users and a chat-cli user: a room, private chats, a file each way, and a
    server restart. Run once in English and once in Chinese (both UIs, both terminals)."""

    timeout = 180

    def downloads_to(self, driver):
        folder = os.path.join(self.tmp, f"downloads-{len(os.listdir(self.tmp))}")
        os.makedirs(folder)
        driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": folder})
        return folder

    async def run_three_clients(self):
        from tests.support.cli_process import CliProcess
        cli_lang = "zh" if self.lang.startswith("zh") else "en"
        carol = CliProcess.spawn(self.server.port, "carol", "--register", lang=cli_lang)
        self.addCleanup(carol.kill)
        await carol.wait_for(r"Welcome|欢迎")
        alice = self.browser()
        await self.sign_in(alice, "alice")
        bob = self.browser()
        await self.sign_in(bob, "bob")
        clock = r"\[\d\d:\d\d:\d\d\] "

        # a room: every one of the three sees every line once
        self.type_message(alice, "good morning 早上好")
        await self.wait_text(bob, "good morning 早上好")
        await carol.wait_for(clock + r"alice: good morning 早上好$")
        carol.type("hello from the terminal 终端")
        await self.wait_text(alice, "hello from the terminal 终端")
        await self.wait_text(bob, "hello from the terminal 终端")

        # private chats: bob to alice from the people list; carol to alice with /msg
        await self.open_conv(bob, "@alice")
        self.type_message(bob, "psst, alice")
        await self.open_conv(alice, "@bob")
        await self.wait_text(alice, "psst, alice")
        carol.type("/msg @alice only for you")
        await self.open_conv(alice, "@carol")
        await self.wait_text(alice, "only for you")
        self.type_message(alice, "got it, carol")
        await carol.wait_for(r"alice -> (you|你): got it, carol$")
        self.assertNotIn("only for you", self.log_texts(bob))

        # a file from a browser to the terminal
        await self.open_conv(alice, "#lobby")
        await self.open_conv(bob, "#lobby")
        data = os.urandom(700_000) + "终".encode()
        path = os.path.join(self.tmp, "report 报告.bin")
        with open(path, "wb") as f:
            f.write(data)
        alice.execute_script("document.getElementById('file-input').hidden = false")
        alice.find_element(By.ID, "file-input").send_keys(path)
        await wait_until(lambda: bob.find_elements(By.CSS_SELECTOR, "#log [data-download]"),
                         timeout=30, what="the file in bob's browser")
        carol.type("/files")
        line = await carol.wait_for(r"^  /get \d+ +report 报告\.bin")
        file_id = line.split()[1]
        folder = os.path.join(self.tmp, "carol-downloads")
        carol.type(f"/get {file_id} {folder}")
        await carol.wait_for(r"SHA-256|校验", timeout=30)
        with open(os.path.join(folder, "report 报告.bin"), "rb") as f:
            self.assertEqual(f.read(), data)

        # a file from the terminal to a browser, saved by the browser
        sent = os.urandom(300_000)
        source = os.path.join(self.tmp, "from-carol.dat")
        with open(source, "wb") as f:
            f.write(sent)
        saved_to = self.downloads_to(bob)
        carol.type(f"/send {source}")
        button = await wait_until(lambda: [b for b in bob.find_elements(
            By.CSS_SELECTOR, "#log [data-download]") if "from-carol.dat" in
            b.get_attribute("aria-label")], timeout=30, what="carol's file in bob's browser")
        button[0].click()
        target = os.path.join(saved_to, "from-carol.dat")
        await wait_until(lambda: os.path.exists(target) and os.path.getsize(target) == len(sent),
                         timeout=30, what="the download on disk")
        with open(target, "rb") as f:
            self.assertEqual(f.read(), sent)

        # the server restarts: all three come back by themselves and talk on
        await self.server.stop()
        for driver in (alice, bob):
            await wait_until(lambda d=driver: d.find_element(By.ID, "link-state").get_attribute(
                "data-state") != "online", what="the browsers to notice")
        await self.server.start()
        for driver in (alice, bob):
            await wait_until(lambda d=driver: d.find_element(By.ID, "link-state").get_attribute(
                "data-state") == "online", timeout=45, what="the browsers to reconnect")
        self.type_message(alice, "after the restart 重启之后")
        await self.wait_text(bob, "after the restart 重启之后", timeout=20)
        await carol.wait_for(clock + r"alice: after the restart 重启之后$", timeout=45)
        self.assertEqual(self.log_texts(bob).count("after the restart 重启之后"), 1)


class ThreeClientsEnglishTests(ThreeClientsCase):
    lang = "en"

    async def test_two_browsers_and_a_terminal_in_english(self):
        await self.run_three_clients()


class ThreeClientsChineseTests(ThreeClientsCase):
    lang = "zh-CN"

    async def test_two_browsers_and_a_terminal_in_chinese(self):
        await self.run_three_clients()


class BrowserUiTests(BrowserCase):
    """What a user sees and does: the phone layout, keyboard only, ARIA roles, the live switch
    of language and theme, history paging, burn after reading, admin basics, notifications."""

    server_args = ("--send-rate", "0")      # the history test fills a room quickly

    async def test_a_phone_shows_one_pane_at_a_time(self):
        driver = self.browser(size=PHONE)
        await self.sign_in(driver, "alice")
        sidebar, conversation = driver.find_element(By.ID, "sidebar"), driver.find_element(By.ID, "conversation")
        self.assertTrue(sidebar.is_displayed())
        self.assertFalse(conversation.is_displayed())
        self.assertLessEqual(driver.execute_script("return document.documentElement.scrollWidth"), 360)
        driver.find_element(By.CSS_SELECTOR, '#room-list [data-conv="#lobby"]').click()
        await wait_until(lambda: conversation.is_displayed() and not sidebar.is_displayed(),
                         what="the conversation alone")
        self.type_message(driver, "from a phone")
        await wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, "#log .msg[data-id]:not([data-id=''])"),
                         what="the ack")
        self.assertLessEqual(driver.execute_script("return document.documentElement.scrollWidth"), 360)
        driver.find_element(By.ID, "back").click()
        await wait_until(lambda: sidebar.is_displayed() and not conversation.is_displayed(),
                         what="the list again")

    async def test_keyboard_only_with_aria_roles(self):
        bob = await self.native("bob")
        driver = self.browser()
        await wait_until(lambda: driver.switch_to.active_element.get_attribute("id") == "login-user",
                         what="the focus in the user name")
        active = lambda: driver.switch_to.active_element      # noqa: E731
        # register with the keyboard alone: the link to the form for a new account is a button
        active().send_keys("alice")
        active().send_keys(Keys.TAB)
        active().send_keys(PASSWORDS["alice"])
        active().send_keys(Keys.TAB)          # the submit button
        active().send_keys(Keys.TAB)          # "Create an account"
        self.assertEqual(active().get_attribute("id"), "login-mode")
        active().send_keys(Keys.ENTER)
        driver.find_element(By.ID, "login-password2").send_keys(PASSWORDS["alice"], Keys.ENTER)
        await wait_until(lambda: driver.find_element(By.ID, "app-view").is_displayed(), what="the main view")
        await wait_until(lambda: active().get_attribute("id") == "message-input", what="the input focused")
        active().send_keys("typed without a mouse", Keys.ENTER)
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(event["msg"]["text"], "typed without a mouse")
        # the roles screen readers need
        self.assertEqual(driver.find_element(By.ID, "log").get_attribute("role"), "log")
        self.assertEqual(driver.find_element(By.ID, "room-list").get_attribute("role"), "listbox")
        self.assertEqual(driver.find_element(By.ID, "people-list").get_attribute("role"), "listbox")
        lobby = driver.find_element(By.CSS_SELECTOR, '#room-list [data-conv="#lobby"]')
        self.assertEqual((lobby.get_attribute("role"), lobby.get_attribute("aria-selected")), ("option", "true"))
        # a private chat by keyboard: into the people list, arrow down to bob, Enter
        await bob.send_message("@alice", "hi", cid="k-1")
        await wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, '#people-list [data-user="bob"]'), what="bob listed")
        driver.find_element(By.CSS_SELECTOR, "#people-list [tabindex='0']").send_keys(Keys.ARROW_DOWN)
        await wait_until(lambda: active().get_attribute("data-user") == "bob", what="bob focused")
        active().send_keys(Keys.ENTER)
        await wait_until(lambda: driver.find_element(By.ID, "conv-title").text == "@bob", what="@bob open")
        # the emoji panel opens with Enter, Escape closes it and gives the focus back
        driver.find_element(By.ID, "emoji-button").send_keys(Keys.ENTER)
        await wait_until(lambda: driver.find_element(By.ID, "emoji-panel").is_displayed(), what="the panel")
        self.assertEqual(driver.find_element(By.ID, "emoji-button").get_attribute("aria-expanded"), "true")
        active().send_keys(Keys.ARROW_RIGHT)
        active().send_keys(Keys.ESCAPE)
        await wait_until(lambda: not driver.find_element(By.ID, "emoji-panel").is_displayed(), what="closed")
        self.assertEqual(active().get_attribute("id"), "emoji-button")

    async def test_language_and_theme_switch_at_once(self):
        driver = self.browser()
        await self.sign_in(driver, "alice")
        self.assertEqual(driver.find_element(By.ID, "send").text, "Send")
        driver.find_element(By.ID, "open-settings").click()
        from selenium.webdriver.support.ui import Select
        Select(driver.find_element(By.ID, "settings-lang")).select_by_value("zh")
        self.assertEqual(driver.find_element(By.ID, "send").text, "发送")
        self.assertEqual(driver.find_element(By.ID, "rooms-title").text, "房间")
        self.assertEqual(driver.find_element(By.ID, "settings-title").text, "设置")
        self.assertEqual(driver.find_element(By.ID, "link-state").text, "在线")
        Select(driver.find_element(By.ID, "settings-theme")).select_by_value("dark")
        self.assertEqual(driver.execute_script("return document.documentElement.dataset.theme"), "dark")
        background = driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        self.assertEqual(background, "rgb(21, 24, 29)")
        # kept for the next visit, and nothing else is
        self.assertEqual(driver.execute_script(
            "return [localStorage.getItem('chat.lang'), localStorage.getItem('chat.theme')]"), ["zh", "dark"])
        driver.refresh()
        await wait_until(lambda: driver.find_element(By.ID, "login-submit").text == "登录", what="Chinese again")
        self.assertEqual(driver.execute_script("return document.documentElement.dataset.theme"), "dark")
        keys = driver.execute_script("return Object.keys(localStorage).sort()")
        self.assertLessEqual(set(keys), {"chat.server", "chat.lang", "chat.theme"})

    async def test_history_pages_back_to_the_beginning(self):
        bob = await self.native("bob")
        # more than the login's look back (the last 300 messages): the rest is paged
        from twisted.internet import defer
        await defer.gatherResults([bob.send_message("#lobby", f"old {i:03}", cid=f"h-{i}")
                                   for i in range(420)])
        driver = self.browser()
        await self.sign_in(driver, "alice")
        await self.wait_text(driver, "old 419")
        self.assertNotIn("old 000", self.log_texts(driver))
        for _ in range(12):
            if "old 000" in self.log_texts(driver):
                break
            before = len(self.log_texts(driver))
            # scrolling to the top loads a page; the button does the same from the keyboard
            driver.execute_script("document.getElementById('log-wrap').scrollTop = 0")
            try:
                await wait_until(lambda: len(self.log_texts(driver)) > before, timeout=3,
                                 what="an older page")
            except AssertionError:
                driver.find_element(By.ID, "load-older").click()
                await wait_until(lambda: len(self.log_texts(driver)) > before,
                                 what="an older page after the button")
        texts = self.log_texts(driver)
        self.assertEqual(texts, [f"old {i:03}" for i in range(420)])     # in order, none twice
        await wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#log .start").is_displayed(),
                         what="the beginning")

    async def test_burn_after_reading(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")
        await bob.send_message("@alice", "this burns", cid="b-1", burn=1)
        await self.open_conv(driver, "@bob")
        await self.wait_text(driver, "this burns")
        burned = await bob.next_event("burned", timeout=15)
        self.assertEqual(burned["conv"], "@alice")
        await wait_until(lambda: "this burns" not in self.log_texts(driver), what="the text gone")
        # alice's own burn message: the box ticked, the message marked
        driver.find_element(By.ID, "burn").click()
        self.type_message(driver, "mine burns too")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(event["msg"]["burn"], 5)

    async def test_search_a_sticker_and_read_marks(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")
        await bob.send_message("#lobby", "the quick brown fox", cid="s-1")
        await bob.send_message("#lobby", "a lazy dog", cid="s-2")
        await self.wait_text(driver, "a lazy dog")
        # search: only what matches is shown, with how many were found
        driver.find_element(By.ID, "search").send_keys("FOX")
        await wait_until(lambda: self.log_texts(driver) == ["the quick brown fox"],
                         what="only the match shown")
        self.assertEqual(driver.find_element(By.ID, "search-count").text, "1 found")
        driver.find_element(By.ID, "search").send_keys(Keys.ESCAPE)
        await wait_until(lambda: "a lazy dog" in self.log_texts(driver), what="all shown again")
        # a sticker: one click sends it, bob gets a file message, the browser shows it large
        driver.find_element(By.ID, "sticker-button").click()
        choice = await wait_until(lambda: driver.find_element(
            By.CSS_SELECTOR, "#sticker-grid button.sticker-choice"), what="the stickers")
        choice.click()
        event = await bob.next_event("message", timeout=15, match=from_alice)
        self.assertEqual(event["msg"]["file"]["mime"], "image/png; sticker")   # the mark
        await wait_until(lambda: driver.find_element(
            By.CSS_SELECTOR, "#log .msg.sticker img.sticker-img").get_attribute("src"),
            what="the sticker drawn")
        # read marks: alice's private message shows "read" once bob has read it
        await self.open_conv(driver, "@bob")
        self.type_message(driver, "did you see it?")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(driver.find_elements(By.CSS_SELECTOR, "#log .read-mark"), [])
        await bob.request("read", conv="@alice", up_to=event["msg"]["id"])
        mark = await wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#log .read-mark"),
                                what="the read mark")
        self.assertEqual(mark.text, "✓ read")

    async def test_presence_online_then_last_seen(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")

        def bob_entry():
            # found anew each time: the list is redrawn on every presence change
            return driver.find_element(By.CSS_SELECTOR, '#people-list li[data-user="bob"]')

        def bob_online():
            return bool(bob_entry().find_elements(By.CSS_SELECTOR, ".dot.on"))

        await wait_until(bob_online, what="bob shown online")
        self.assertIn("online", bob_entry().get_attribute("aria-label"))
        await wait_until(lambda: driver.find_element(By.ID, "online-count").get_attribute("textContent").strip()
                         == "(2 online)", what="two online")
        await bob.abort()
        self.natives.remove(bob)
        await wait_until(lambda: not bob_online(), timeout=15, what="bob shown offline")
        label = bob_entry().get_attribute("aria-label")
        self.assertIn("last seen", label)
        await wait_until(lambda: driver.find_element(By.ID, "online-count").get_attribute("textContent").strip()
                         == "(1 online)", what="one online")
        # offline people sort after the online ones (alice herself)
        names = [e.get_attribute("data-user") for e in
                 driver.find_elements(By.CSS_SELECTOR, "#people-list li")]
        self.assertEqual(names, ["alice", "bob"])

    async def test_admin_notice_and_kick(self):
        driver = self.browser()
        await self.sign_in(driver, "alice")         # the first account is an admin
        bob = await self.native("bob")
        driver.find_element(By.ID, "open-admin").click()
        row = await wait_until(lambda: [r for r in driver.find_elements(By.CSS_SELECTOR, "#sessions-body tr")
                                        if r.text.startswith("bob")], what="bob's session")
        driver.find_element(By.ID, "notice-text").send_keys("fire drill at 10")
        driver.find_element(By.ID, "notice-send").click()
        notice = await bob.next_event("notice", timeout=10)
        self.assertEqual((notice["from"], notice["text"]), ("alice", "fire drill at 10"))
        row[0].find_element(By.XPATH, ".//td[last()]/button[1]").click()       # Kick
        prompt = await wait_until(lambda: driver.switch_to.alert, what="the reason prompt")
        prompt.send_keys("testing")
        prompt.accept()
        bye = await bob.next_event("bye", timeout=10)
        self.assertEqual((bye["code"], bye["message"]), ("kicked", "kicked by alice: testing"))

        # bob's account looked up (Enter in the field): offline now, in #lobby, not banned
        driver.find_element(By.ID, "info-user").send_keys("bob", Keys.ENTER)
        def fields():
            return driver.execute_script(
                "const f = {}; for (const dt of document.querySelectorAll('#info-fields dt'))"
                " f[dt.textContent] = dt.nextElementSibling.textContent; return f")
        await wait_until(lambda: fields().get("Rooms") == "#lobby", what="bob's account")
        self.assertTrue(fields()["Status"].startswith("last seen"), fields())
        self.assertEqual(fields()["Banned"], "no")
        self.assertFalse(driver.find_element(By.ID, "info-kick").is_displayed())   # not online
        self.assertFalse(driver.find_element(By.ID, "info-unban").is_displayed())
        driver.find_element(By.ID, "info-ban").click()
        prompt = await wait_until(lambda: driver.switch_to.alert, what="the reason prompt")
        prompt.send_keys("spam")
        prompt.accept()
        await wait_until(lambda: fields()["Banned"] == "yes: spam", what="the ban shown")
        from tests.support.wire import RequestError
        with self.assertRaises(RequestError) as refused:
            await login_client(self.server.port, "bob", PASSWORDS["bob"], register=False)
        self.assertEqual(refused.exception.code, "banned")
        driver.find_element(By.ID, "info-unban").click()
        await wait_until(lambda: fields()["Banned"] == "no", what="the unban shown")
        bob = await self.native("bob", register=False)       # may log in again
        # a notice to bob alone, from his account's view
        await wait_until(lambda: driver.find_element(By.ID, "sessions-refresh").click() or [
            r for r in driver.find_elements(By.CSS_SELECTOR, "#sessions-body tr") if r.text.startswith("bob")],
            what="bob's new session")
        driver.find_element(By.CSS_SELECTOR, "#sessions-body tr:nth-child(2) button.link").click()
        await wait_until(lambda: driver.find_element(By.ID, "info-notice").is_displayed(), what="bob online")
        driver.find_element(By.ID, "notice-text").send_keys("only to bob")
        driver.find_element(By.ID, "info-notice").click()
        notice = await bob.next_event("notice", timeout=10)
        self.assertEqual((notice["text"], notice.get("to")), ("only to bob", "bob"))

    async def test_notification_while_the_tab_is_hidden(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")
        other_device = await self.native("alice", register=False)   # hears alice's reads
        # the page is made to look hidden, with notifications allowed (a headless browser has
        # no desktop to show them on: the page's calls are recorded instead)
        driver.execute_script("""
            window.shown = [];
            window.Notification = class { constructor(title, options) { shown.push([title, options.body]); }
                                          close() {} static get permission() { return 'granted'; } };
            Object.defineProperty(document, 'hidden', {get: () => true, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));""")
        await bob.send_message("#lobby", "while you were away", cid="n-hidden")
        shown = await wait_until(lambda: driver.execute_script("return window.shown"), what="a notification")
        self.assertEqual(shown, [["bob in #lobby", "while you were away"]])
        # not counted as read while hidden: the badge stays until the tab is seen again
        self.assertEqual(driver.find_element(By.CSS_SELECTOR, '#room-list [data-conv="#lobby"] .badge').text, "1")
        driver.execute_script("""
            Object.defineProperty(document, 'hidden', {get: () => false, configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));""")
        await wait_until(lambda: not driver.find_elements(By.CSS_SELECTOR, '#room-list [data-conv="#lobby"] .badge'),
                         what="the badge to go")
        read = await other_device.next_event("read", timeout=10)
        self.assertEqual((read["conv"], read["user"]), ("#lobby", "alice"))


class TlsBrowserTests(BrowserCase):
    """``--web-port ssl:...``: the page over HTTPS and the chat over wss://, with the
    certificate ``--make-cert`` writes (the browser is told to accept it)."""

    scheme = "https"

    def web_port_spec(self):
        from chat.server.certs import make_certificate, ssl_port_string
        key, cert, _ = make_certificate(os.path.join(self.tmp, "tls"), ["127.0.0.1", "localhost"])
        return ssl_port_string(key, cert, self.web_port) + ":interface=127.0.0.1"

    async def test_https_and_wss(self):
        bob = await self.native("bob")
        driver = self.browser()
        await self.sign_in(driver, "alice")
        self.assertTrue(driver.execute_script("return chatApp.session.url").startswith("wss://"))
        self.type_message(driver, "over TLS")
        event = await bob.next_event("message", timeout=10, match=from_alice)
        self.assertEqual(event["msg"]["text"], "over TLS")
        await bob.send_message("#lobby", "back over TLS", cid="t-1")
        await self.wait_text(driver, "back over TLS")


class AvatarTests(BrowserCase):

    async def test_register_with_a_picture(self):
        picture = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "chat", "qtclient", "sticker_sets", "animals", "cat.png")
        with open(picture, "rb") as f:
            png = f.read()
        driver = self.browser()
        await wait_until(lambda: driver.find_element(By.ID, "login-user").is_displayed(),
                         what="the login form")
        driver.find_element(By.ID, "login-mode").click()
        driver.find_element(By.ID, "login-user").send_keys("alice")
        driver.find_element(By.ID, "login-password").send_keys(PASSWORDS["alice"])
        driver.find_element(By.ID, "login-password2").send_keys(PASSWORDS["alice"])
        driver.find_element(By.ID, "login-avatar").send_keys(picture)
        driver.find_element(By.ID, "login-submit").click()
        await wait_until(lambda: driver.find_element(By.CSS_SELECTOR, "#me-avatar img"),
                         what="the picture beside the name")
        bob = await self.native("bob")
        reply = await bob.request("get_avatar", user="alice")
        self.assertEqual(reply["avatar_type"], "image/png")
        self.assertEqual(reply["size"], len(png))
