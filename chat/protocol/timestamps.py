"""Wire form of times: UTC ISO 8601 with milliseconds, e.g. ``2026-11-24T23:59:01.123Z``.

Inside the server and the storage a time is an integer count of milliseconds since the epoch.
"""

import time
from datetime import datetime

_last_second = (None, "")
"""The last whole second formatted, and its text: a busy server stamps many messages within
one second, and formatting a date was a tenth of the CPU of storing a message (issue 18)."""


def format_ts(ms: int) -> str:
    global _last_second
    seconds, millis = divmod(int(ms), 1000)
    cached, text = _last_second        # one tuple: read and replaced whole, safe in threads
    if cached != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, text)
    return f"{text}.{millis:03d}Z"


def now_ms(clock) -> int:
    """Milliseconds since the epoch by ``clock`` (anything with ``seconds()``, e.g. a reactor)."""
    return int(clock.seconds() * 1000)


def parse_ts(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)
