"""Twisted's reactor on Qt's event loop, through qt-reactor's ``qreactor`` (Qt 6 via qtpy).

Call :func:`install` once, after the ``QApplication`` exists and before anything imports
``twisted.internet.reactor``: the network then runs in Qt's own loop, with no thread of its
own. Disk work (file transfers) still goes to Twisted's thread pool.
"""

import os


def install():
    """Install the Qt reactor (idempotent) and start it without blocking; returns it."""
    os.environ["QT_API"] = "pyqt6"      # qtpy reads this when qreactor imports it
    import sys
    if "twisted.internet.reactor" in sys.modules:
        from twisted.internet import reactor
        if type(reactor).__name__ != "QtReactor":
            raise RuntimeError("another Twisted reactor is installed already")
        return reactor
    import qreactor
    qreactor.install()
    from twisted.internet import reactor
    # runReturn: the reactor runs from Qt's loop, which QApplication.exec() (or a test) drives
    reactor.runReturn(installSignalHandlers=False)
    return reactor


def shutdown(reactor) -> None:
    """After Qt's loop has ended: stop the thread pool that file transfers used, whose
    threads would otherwise keep the process alive (the reactor's own shutdown triggers need
    a running loop, which is gone by then)."""
    pool = getattr(reactor, "threadpool", None)
    if pool is not None and pool.started:
        pool.stop()
