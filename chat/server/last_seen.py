"""Accounts' last-seen times written to storage, and written again later if a write failed.

A last-seen time is written when an account goes offline. On a full disk that write fails;
it is not worth an error to anyone, but it is worth keeping: the newest time of each such
account is held here and written again every :data:`RETRY` seconds (on the injected clock)
until it goes through, and once more when the server stops. One warning line says so.
"""

from twisted.internet import defer
from twisted.logger import Logger

from chat.server.faults import log_failure

RETRY = 30.0
"""Seconds before failed last-seen writes are tried again."""


class LastSeenWriter:
    """Writes last-seen times; keeps the ones that failed and retries them."""

    log = Logger()

    def __init__(self, storage, clock):
        self.storage = storage
        self.clock = clock
        self.failed: dict[int, int] = {}    # account id -> the newest time not yet written
        self._retry = None

    def save(self, account_id: int, now: int) -> defer.Deferred:
        """Write ``now`` (ms) as the account's last-seen time; fires None even if it failed
        (it is then retried)."""
        d = self.storage.set_last_seen(account_id, now)
        d.addErrback(self._failed, account_id, now)
        return d

    def _failed(self, failure, account_id: int, now: int) -> None:
        if self.failed.get(account_id, -1) < now:
            self.failed[account_id] = now
        log_failure(self.log, failure, "saving the last-seen time of account {id}",
                    id=account_id)
        if self._retry is None:
            self._retry = self.clock.callLater(RETRY, self.retry)

    def retry(self) -> defer.Deferred:
        """Write every time that failed before (the timer, and the server's stop)."""
        self._retry = None
        waiting, self.failed = self.failed, {}
        return defer.DeferredList([self.save(account_id, now)
                                   for account_id, now in waiting.items()])

    def stop(self) -> defer.Deferred:
        """One last try at what failed; no more timers."""
        if self._retry is not None:
            self._retry.cancel()
        d = self.retry()
        if self._retry is not None:     # failed again: the storage is closing, give up
            self._retry.cancel()
            self._retry = None
        return d
