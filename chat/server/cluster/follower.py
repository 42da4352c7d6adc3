"""The reactor side of the stream: read what lies above our position, hand it on, in order.

Woken by the listener (any reason: a notification, a reconnection, the timer), the follower
reads the rows above its position from the tables (one query at a time, never two in flight,
so items are handed on exactly once and in position order), calls ``apply(item)`` for each
and moves its position past it. A wake-up during a read makes it read again afterwards; a
full page makes it read on at once. A failed read is logged and retried at the next wake-up.
"""

from twisted.internet import defer
from twisted.logger import Logger


class StreamFollower:
    """Reads ``storage.stream_after(position, page)`` and applies each item."""

    log = Logger()

    def __init__(self, storage, apply, position: int = 0, page: int = 500):
        self.storage = storage
        self.apply = apply          # (StoredMessage | StreamEvent, files by id) -> None
        self.position = position
        self.page = page
        self._reading = False
        self._again = False
        self._idle = []             # Deferreds of caught_up()

    def wake(self, reason: str = "") -> None:
        if self._reading:
            self._again = True
            return
        self._read()

    def caught_up(self):
        """Fires once a read that started after this call has finished (tests, shutdown)."""
        d = defer.Deferred()
        self._idle.append(d)
        self.wake("caught_up")
        return d

    def _read(self) -> None:
        self._reading = True
        self._again = False
        waiting, self._idle = self._idle, []
        d = self.storage.stream_after(self.position, self.page)
        d.addCallbacks(self._got, self._failed)
        d.addBoth(self._done, waiting)

    def _got(self, result) -> None:
        items, more, files = result
        for item in items:
            if item.id <= self.position:
                continue
            try:
                self.apply(item, files)
            except Exception:
                self.log.failure("applying stream item {id} failed", id=item.id)
            self.position = item.id
        if more:
            self._again = True

    def _failed(self, failure) -> None:
        self._again = False          # the next wake-up tries again: no busy loop while down
        self.log.warn("reading the stream above {position} failed: {why}",
                      position=self.position, why=failure.getErrorMessage())

    def _done(self, _result, waiting) -> None:
        self._reading = False
        for d in waiting:
            d.callback(self.position)
        if self._again or self._idle:
            self._read()
