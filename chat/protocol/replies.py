"""What an ``ok`` carries when body frames follow it: one type for both sides.

A server handler returns a :class:`Reply` to answer with data and a body (an avatar); the
client connection fires a request's Deferred with one when such an ``ok`` and all its body
bytes have arrived. Plain ``ok`` data stays a dict on both sides.
"""


class Reply:
    """An ``ok``'s data followed by ``body`` bytes (sent in body frames tagged with the id)."""

    __slots__ = ("data", "body")

    def __init__(self, data: dict, body: bytes):
        self.data = data
        self.body = body

    def __repr__(self) -> str:
        return f"Reply({self.data!r}, <{len(self.body)} bytes>)"
