"""Helpers of the Qt tests that import nothing with side effects.

Test modules import from here, never from conftest.py: ``trial tests`` imports every test
module, and conftest.py installs the Qt reactor, which a trial process must not do (it has
its own reactor; the Qt tests are pytest functions that trial does not run).
"""

PASSWORD = "correct horse"


def qt_reactor():
    """The Qt reactor that conftest.py installed."""
    from twisted.internet import reactor
    return reactor


def wait_deferred(qtbot, d, timeout=15000):
    """Run Qt's loop (and so the reactor) until ``d`` fires; return its result or raise."""
    box = {}
    d.addCallbacks(lambda r: box.update(ok=r), lambda f: box.update(fail=f))
    qtbot.waitUntil(lambda: bool(box), timeout=timeout)
    if "fail" in box:
        box["fail"].raiseException()
    return box["ok"]


def log_in(qtbot, server, name, register=True, translator=None, **state_options):
    """A Session and a ChatState logged in to ``server`` as ``name``, looking at #lobby."""
    from chat.qtclient.i18n import Translator
    from chat.qtclient.session import Session
    from chat.qtclient.state import ChatState
    session = Session(qt_reactor())
    state = ChatState(session, translator or Translator("en"), **state_options)
    state.set_active(True)
    wait_deferred(qtbot, session.login("127.0.0.1", server.port, name, PASSWORD,
                                       register=register))
    qtbot.waitUntil(lambda: state.current == "#lobby", timeout=5000)
    return session, state
