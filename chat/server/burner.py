"""Burn-after-reading: deletes a message's content when its time is up.

The storage says when a message is due (everybody read it, then its TTL ran); this schedules
the deletion on the injected clock, carries it out through the storage and reports it so the
server can tell the clients. Deadlines are stored, so ``start`` picks them up after a restart.
"""

from twisted.internet import defer
from twisted.logger import Logger

RETRY_AFTER = 5.0


class Burner:
    """Schedules ``storage.burn`` for each BurnDue and calls ``on_burned(conv, ids)``."""

    log = Logger()

    def __init__(self, storage, clock, on_burned):
        self.storage = storage
        self.clock = clock
        self.on_burned = on_burned
        self._calls: dict[int, object] = {}

    @defer.inlineCallbacks
    def start(self):
        for due in (yield self.storage.pending_burns()):
            self.schedule(due)

    def stop(self) -> None:
        for call in self._calls.values():
            if call.active():
                call.cancel()
        self._calls.clear()

    def schedule(self, due) -> None:
        if due.message_id in self._calls:
            return
        delay = max(due.deadline / 1000.0 - self.clock.seconds(), 0.0)
        self._calls[due.message_id] = self.clock.callLater(delay, self._burn, due)

    @property
    def pending(self) -> int:
        return len(self._calls)

    def _burn(self, due) -> None:
        d = defer.maybeDeferred(self.storage.burn, [due.message_id])
        d.addCallbacks(self._burned, self._failed, callbackArgs=(due,), errbackArgs=(due,))

    def _burned(self, _result, due) -> None:
        self._calls.pop(due.message_id, None)
        self.on_burned(due.conv, [due.message_id])

    def _failed(self, failure, due) -> None:
        # keep the content no longer than needed: try again soon, never give up silently
        self.log.failure("burning message {id} failed; retrying", failure, id=due.message_id)
        self._calls[due.message_id] = self.clock.callLater(RETRY_AFTER, self._burn, due)
