"""Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, installed by ``make
install``) driven by Selenium, for the browser client's end-to-end tests and screenshots.

Nothing here downloads a browser or a driver: both paths are given, and Selenium Manager is
told to stay offline. Driver calls block for a few milliseconds each; the waits between them
(:func:`wait_until`) give the reactor its turn, so a native test client in the same process
keeps receiving.
"""

import os
import shutil
import tempfile
import time

from twisted.internet import defer, reactor, task

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PHONE = (360, 740)
DESKTOP = (1280, 800)


class BrowserTimeout(AssertionError):
    """A condition in the page did not come true in time."""


def chromium(lang: str = "en", size=DESKTOP, accept_self_signed: bool = False):
    """A new headless Chromium with its own empty profile (removed at ``quit``);
    ``accept_self_signed`` for a test server's own certificate."""
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="chat-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                     "--disable-background-networking", "--disable-sync",
                     "--disable-component-update", "--hide-scrollbars",
                     f"--window-size={size[0]},{size[1]}", f"--lang={lang}",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if accept_self_signed:
        options.accept_insecure_certs = True
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(*size)
    # the page's own size exactly (a window's outer size is not), a touch screen for a phone
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": size[0], "height": size[1], "deviceScaleFactor": 1,
        "mobile": size[0] < 700})
    original_quit = driver.quit

    def quit_and_clean():
        try:
            original_quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)
    driver.quit = quit_and_clean
    return driver


@defer.inlineCallbacks
def wait_until(condition, timeout: float = 15, what: str = "condition", interval=0.05):
    """Poll ``condition()`` (a driver call) until it returns something true; fires with it."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:          # an element not there yet, a stale one
            last_error = error
        if time.monotonic() > deadline:
            raise BrowserTimeout(f"timed out waiting for {what}"
                                 + (f" (last error: {last_error!r})" if last_error else ""))
        yield task.deferLater(reactor, interval, lambda: None)


def console_errors(driver) -> list:
    """Severe messages of the page's console (a script error, a CSP violation)."""
    try:
        entries = driver.get_log("browser")
    except Exception:
        return []
    return [e["message"] for e in entries if e.get("level") == "SEVERE"]
