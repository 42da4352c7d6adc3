"""Operations that must run one at a time and in order, through a runner that may be a thread.

Used by the server (a file's writes and hashes) and the client core (a download's). A
:class:`SerialQueue` holds what waits; ``run(f, *args) -> Deferred`` runs one operation
(``deferToThread``, a pool of one's own, or a synchronous call in tests).
"""

from collections import deque

from twisted.internet import defer
from twisted.python.failure import Failure

_WAIT = object()
"""Marks an entry of a :class:`SerialQueue` that waits for a Deferred instead of running."""


class SerialQueue:
    """Operations on one file, run through ``run`` one at a time, in submission order.

    A synchronous ``run`` (tests) completes each operation inside ``submit``; the loop below
    then runs the next one without recursing, however many are queued.
    """

    def __init__(self, run):
        self._run = run
        self._queue: deque = deque()
        self._busy = False
        self._looping = False

    @property
    def run(self):
        """How this queue runs an operation (the file I/O pool), for a queue beside it."""
        return self._run

    @property
    def idle(self) -> bool:
        return not self._busy and not self._queue

    def submit(self, f, *args) -> defer.Deferred:
        """Fires with ``f(*args)``'s result once every operation submitted before has run."""
        d = defer.Deferred()
        self._queue.append((f, args, d))
        self._next()
        return d

    def after(self, waited: defer.Deferred) -> None:
        """Hold the queue until ``waited`` fires: operations submitted later wait for it too.

        Takes no thread, and leaves ``waited``'s result (or failure) to its owner."""
        self.submit(_WAIT, waited)

    def _next(self) -> None:
        if self._looping:
            return
        self._looping = True
        try:
            while self._queue and not self._busy:
                f, args, d = self._queue.popleft()
                self._busy = True
                if f is _WAIT:
                    args[0].addBoth(self._waited, d)
                else:
                    self._run(f, *args).addBoth(self._finished, d)
        finally:
            self._looping = False

    def _waited(self, result, d):
        self._finished(None, d)
        return result

    def _finished(self, result, d) -> None:
        self._busy = False
        if isinstance(result, Failure):
            d.errback(result)
        else:
            d.callback(result)
        self._next()


def nothing() -> None:
    """A no-op for a queue: it fires once everything submitted before it is done."""
