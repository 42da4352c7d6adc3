"""Where file work runs: a dedicated thread pool (one file's operations keep their order
through :class:`chat.serial.SerialQueue`).

Writing, reading and hashing file data must never happen on the reactor thread. It does not go
to the reactor's shared pool either: a burst of uploads would then delay password hashing and
every other ``deferToThread`` user. :class:`FileIO` owns a small pool of its own; tests inject
a synchronous ``run`` instead (see tests/harness.py), so that a whole transfer happens inside
one ``dataReceived`` call.
"""

import os
import threading

from twisted.internet import defer, threads
from twisted.python.threadpool import ThreadPool

FILE_THREADS = 4
"""Threads of the file I/O pool: enough to keep a few disks busy, few enough that file work
cannot take every core from the reactor."""

FILE_NICE = 10
"""How much lower the pool's threads are scheduled than the reactor's (Linux nice, per
thread): when a chat message arrives during a big transfer, the thread that hashes or writes
the file yields its core to the reactor that delivers the message."""

_lowered = threading.local()


def _lower_priority() -> None:
    """Once per pool thread: lower its own scheduling priority (where the system allows)."""
    if getattr(_lowered, "done", False):
        return
    _lowered.done = True
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + FILE_NICE)
    except (AttributeError, OSError):
        pass     # no per-thread priorities here: the threads run at the process's


def _in_pool_thread(f, *args):
    _lower_priority()
    return f(*args)


class FileIOStopped(Exception):
    """File work was asked for after the server stopped its file I/O."""


class FileIO:
    """``run(f, *args) -> Deferred``: ``f(*args)`` in the file I/O pool.

    The pool's threads start with the first file work, not before (a server nobody sends
    files to has none), and stop with ``stop``, which first waits for the work already handed
    over, or when the reactor shuts down. With ``run_in_thread`` (tests) no pool is made and
    that function is used instead.
    """

    def __init__(self, reactor=None, threads: int = FILE_THREADS, run_in_thread=None):
        self._reactor = reactor
        self._threads = threads
        self._run_in_thread = run_in_thread
        self._pool = None
        self._pending: set = set()
        self._stopped = False

    def start(self) -> None:
        self._stopped = False

    @defer.inlineCallbacks
    def stop(self):
        while self._pending:
            yield defer.DeferredList(list(self._pending), consumeErrors=True)
        self._stopped = True
        self._stop_pool()

    def _start_pool(self) -> None:
        if self._reactor is None:
            from twisted.internet import reactor
            self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=self._threads, name="chat-file-io")
        self._pool.start()
        # its threads must not keep the process alive if stop() is never called
        self._trigger = self._reactor.addSystemEventTrigger("during", "shutdown",
                                                            self._stop_pool)

    def _stop_pool(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()
            try:
                self._reactor.removeSystemEventTrigger(self._trigger)
            except (ValueError, TypeError, KeyError):
                pass    # called by that very trigger

    def run(self, f, *args) -> defer.Deferred:
        if self._stopped:
            return defer.fail(FileIOStopped("the server is stopping"))
        if self._run_in_thread is not None:
            d = self._run_in_thread(f, *args)
        else:
            if self._pool is None:
                self._start_pool()
            d = threads.deferToThreadPool(self._reactor, self._pool, _in_pool_thread, f, *args)
        if not d.called:
            self._pending.add(d)
            d.addBoth(self._done, d)
        return d

    def _done(self, result, d):
        self._pending.discard(d)
        return result
