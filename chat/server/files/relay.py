"""``--lite``: a published file stays only until its recipients have it.

The recipients are fixed when the file is published: the other account of a private chat, or
the members of the room (everybody for ``@all``) except the sender. Once each of them has
downloaded the whole file, or ``ttl`` seconds after publishing, whichever comes first, the file
is deleted. A file with no recipient at all waits for its ttl.

"The whole file" may come in pieces: a download cut and resumed from where it stopped counts
once its pieces join up from byte 0 to the end. A download of the end alone does not.
"""


class RelayExpiry:
    """Who still has to download each published file, and the ttl timers."""

    def __init__(self, clock, ttl: float, delete):
        self.clock = clock
        self.ttl = ttl
        self.delete = delete                 # (file id) -> None
        self._awaiting: dict[int, set[int]] = {}
        self._timers: dict[int, object] = {}
        self._have: dict[tuple[int, int], int] = {}   # (file, account) -> bytes from 0 on

    def published(self, file_id: int, recipients) -> None:
        self._awaiting[file_id] = set(recipients)
        self._timers[file_id] = self.clock.callLater(self.ttl, self._due, file_id)

    def downloaded(self, file_id: int, account_id: int, offset: int, sent: int,
                   size: int) -> None:
        """``account_id`` was sent ``sent`` bytes of the file from ``offset``."""
        waiting = self._awaiting.get(file_id)
        if not waiting or account_id not in waiting:
            return
        key = (file_id, account_id)
        have = self._have.get(key, 0)
        if offset <= have:
            have = max(have, offset + sent)
        if have < size:
            self._have[key] = have
            return
        self._have.pop(key, None)
        waiting.discard(account_id)
        if not waiting:
            self._due(file_id)

    def awaiting(self, file_id: int) -> set:
        return set(self._awaiting.get(file_id, ()))

    def _due(self, file_id: int) -> None:
        timer = self._timers.pop(file_id, None)
        if timer is not None and timer.active():
            timer.cancel()
        for account_id in self._awaiting.pop(file_id, ()):
            self._have.pop((file_id, account_id), None)
        self.delete(file_id)

    def stop(self) -> None:
        for timer in self._timers.values():
            if timer.active():
                timer.cancel()
        self._timers.clear()
