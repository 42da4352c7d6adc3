"""The native (JSON) transport's encoding of events: once per event, however many receive it.

Fan-out hands the same event object to every peer of a room. :func:`event_frame` keeps the
encoded frame on the event itself (in its ``__dict__``, which frozen dataclasses still have;
equality and hashing ignore it), so the first native peer pays for the encoding and the
others write the same bytes. Other transports render the event their own way and leave this
alone. A per-viewer event (a private message's ``conv`` differs per viewer) is a separate
object per viewer, so its frames never mix.
"""

from chat.protocol.codec import control_frame

_KEY = "_native_frame"


def event_frame(event) -> bytes:
    """The complete control frame of ``event``, encoded at the first call only."""
    cache = event.__dict__
    frame = cache.get(_KEY)
    if frame is None:
        frame = cache[_KEY] = control_frame(event.to_dict())
    return frame
