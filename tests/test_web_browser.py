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

    async def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chat-web-e2e-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.web_port = free_port()
        self.server = ServerProcess(os.path.join(self.tmp, "server"), args=FAST_HASH + [
            "--web-port", port_spec(self.web_port)])
        self.addCleanup(self.server.stop)
        await self.server.start()
        self.url = f"http://127.0.0.1:{self.web_port}/"
        self.natives = []
        self.addCleanup(self._close_natives)

    async def _close_natives(self):
        for client in self.natives:
            await client.abort()

    def browser(self, lang=None, size=DESKTOP):
        driver = chromium(lang or self.lang, size)
        self.addCleanup(driver.quit)
        self.addCleanup(self._no_console_errors, driver)
        driver.get(self.url)
        return driver

    def _no_console_errors(self, driver):
        # a script error or a Content-Security-Policy refusal shows here
        # (a WebSocket refused while the server is down is the browser's network log)
        errors = [e for e in console_errors(driver) if "ERR_CONNECTION_REFUSED" not in e]
        self.assertEqual(errors, [], "errors in the browser's console")

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
        entry = driver.find_element(By.CSS_SELECTOR, '#private-list [data-conv="@bob"]')
        self.assertIn("1 unread", entry.get_attribute("aria-label"))
        entry.send_keys(Keys.ENTER)
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
