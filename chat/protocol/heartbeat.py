"""Per-connection heartbeat: ping a silent peer, drop a dead one (server and client alike).

Sans-IO apart from the injected clock (``IReactorTime``: the reactor, or ``task.Clock`` in
tests). Receiving data only stores a float (this runs for every read on every connection);
the single timer reschedules itself lazily from the last activity instead of being reset on
every frame.
"""

PING_AFTER = 30.0
TIMEOUT = 90.0


class Heartbeat:
    """Calls ``ping()`` after ``ping_after`` s of silence and ``expire()`` after ``timeout`` s."""

    __slots__ = ("clock", "ping", "expire", "ping_after", "timeout", "last", "_pinged_for", "_call")

    def __init__(self, clock, ping, expire, ping_after: float = PING_AFTER, timeout: float = TIMEOUT):
        self.clock = clock
        self.ping = ping
        self.expire = expire
        self.ping_after = ping_after
        self.timeout = timeout
        self.last = 0.0
        self._pinged_for = None
        self._call = None

    def start(self) -> None:
        self.last = self.clock.seconds()
        self._call = self.clock.callLater(self.ping_after, self._check)

    def activity(self) -> None:
        self.last = self.clock.seconds()

    def stop(self) -> None:
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _check(self) -> None:
        now = self.clock.seconds()
        silent = now - self.last
        if silent >= self.timeout:
            self._call = None
            self.expire()
            return
        if silent >= self.ping_after:
            if self._pinged_for != self.last:  # one ping per silence, not one per check
                self._pinged_for = self.last
                self.ping()
            due = self.last + self.timeout
        else:
            due = self.last + self.ping_after
        self._call = self.clock.callLater(max(due - now, 0.0), self._check)
