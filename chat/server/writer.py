"""Group commit of messages: many sends, one storage transaction.

A send is acknowledged only after its message is committed. Committing each message alone
would cap the server at one disk sync per message; instead, while one batch is being written,
every message that arrives waits for the next batch, so the batch size grows with the load by
itself and an idle server still writes a lone message at once.

Message ids and times are assigned here, in arrival order, so ids increase with time; unless
the storage numbers messages itself (``assigns_ids``: a cluster node, whose ids come from the
storing transaction, see chat.server.cluster), when the ids come from the results.
A resend of a message that is still being written (same sender and client id) waits for the
first copy instead of being written twice; the storage catches resends of stored ones.
"""

from dataclasses import replace

from twisted.internet import defer
from twisted.logger import Logger

from chat.server.metrics import NullMetrics
from chat.protocol.timestamps import now_ms
from chat.server.storage import NewMessage, StorageError, StoreResult


class MessageWriter:
    """Turns ``submit(...)`` calls into batched ``storage.store_messages`` calls."""

    log = Logger()

    def __init__(self, storage, clock, max_batch: int = 1000, metrics=NullMetrics()):
        self.storage = storage
        self.metrics = metrics     # chat.server.metrics: messages stored, store latency
        self.clock = clock
        self.max_batch = max_batch
        self.assigns_ids = getattr(storage, "assigns_ids", False)
        self.next_id = 1
        self._queue: list[tuple[NewMessage, defer.Deferred]] = []
        # (sender, cid) -> Deferreds of resends that arrived while the first copy is written
        self._in_flight: dict[tuple[int, str], list[defer.Deferred]] = {}
        self._writing = False

    @defer.inlineCallbacks
    def start(self):
        self.next_id = (yield self.storage.max_message_id()) + 1

    def newest_id(self) -> int:
        """The id of the newest message accepted so far (0 if none)."""
        return self.next_id - 1

    def seen(self, message_id: int) -> None:
        """A message stored elsewhere (another node) has this id."""
        if message_id >= self.next_id:
            self.next_id = message_id + 1

    def submit(self, conv, sender_id, sender, text, cid, burn_ttl=None, burn_recipients=(),
               file_id=None):
        """Fires with ``(NewMessage, StoreResult)`` once stored (or found to be a duplicate).

        With ``file_id`` the message publishes that file: the storage marks the file complete
        in the same transaction."""
        key = (sender_id, cid)
        resends = self._in_flight.get(key)
        if resends is not None:
            copy = defer.Deferred()
            resends.append(copy)
            return copy
        message = NewMessage(0 if self.assigns_ids else self.next_id, conv, sender_id, sender,
                             text, now_ms(self.clock), cid, burn_ttl, tuple(burn_recipients),
                             file_id)
        if not self.assigns_ids:
            self.next_id += 1
        done = defer.Deferred()
        self._in_flight[key] = []
        self._queue.append((message, done))
        if not self._writing:
            self._write_next()
        return done

    def _write_next(self) -> None:
        if not self._queue:
            return
        batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        self._writing = True
        d = defer.maybeDeferred(self.storage.store_messages, [message for message, _ in batch])
        d.addBoth(self._batch_done, batch)

    def _batch_done(self, results, batch) -> None:
        self._writing = False
        resends = [self._in_flight.pop((message.sender_id, message.cid), [])
                   for message, _ in batch]
        if isinstance(results, list):
            stored = sum(1 for result in results if not result.duplicate)
            # from the arrival of the batch's first message (its ts) to its commit
            self.metrics.stored(stored, max(0.0, self.clock.seconds() - batch[0][0].ts / 1000))
            for (message, done), result, copies in zip(batch, results, resends):
                if self.assigns_ids and not result.duplicate:
                    message = replace(message, id=result.id)
                    self.seen(result.id)
                done.callback((message, result))
                for copy in copies:
                    copy.callback((message, StoreResult(result.id, result.ts, True,
                                                        result.burn_deadline)))
        else:
            if isinstance(results.value, StorageError):
                # an operational fault (disk full, database locked), not a bug: no traceback
                error = results.value
                self.log.error("storing {n} messages failed, their senders get an error: "
                               "{error}", n=len(batch), error=error)
            else:
                self.log.failure("storing {n} messages failed", results, n=len(batch))
                error = StorageError(str(results.value))
            for (_message, done), copies in zip(batch, resends):
                for waiting in [done, *copies]:
                    waiting.errback(error)
        self._write_next()
