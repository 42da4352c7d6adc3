"""The slow-reader rule, shared by every transport: output a peer does not read is bounded.

A transport registers an :class:`OutputBacklog` as the streaming producer of its Twisted
transport. Twisted pauses it when the transport holds more than its buffer size for the
socket (the peer is not reading what it gets) and resumes it when that has gone out. What the
peer is sent meanwhile is counted; once more than ``max_output_buffer`` bytes wait, the peer
must be dropped: a chat server cannot keep megabytes for every stalled phone.
"""


class OutputBacklog:
    """Counts the bytes written while the peer is behind (an ``IPushProducer``)."""

    __slots__ = ("limit", "waiting", "paused")

    def __init__(self, limit: int):
        self.limit = limit           # 0: no limit
        self.waiting = 0             # bytes written since the transport fell behind
        self.paused = False

    def pauseProducing(self):
        self.paused = True

    def resumeProducing(self):
        self.paused = False
        self.waiting = 0

    def stopProducing(self):
        self.paused = False

    def caught_up(self) -> None:
        """The transport took everything (e.g. a download's producer may write again)."""
        self.waiting = 0

    def over(self, n: int) -> bool:
        """Count ``n`` bytes written while behind; True once more than the limit wait."""
        self.waiting += n
        return bool(self.limit) and self.waiting > self.limit
