"""Wire form of times: UTC ISO 8601 with milliseconds, e.g. ``2026-11-24T23:59:01.123Z``.

Inside the server and the storage a time is an integer count of milliseconds since the epoch.
"""

from datetime import datetime, timezone


def format_ts(ms: int) -> str:
    seconds, millis = divmod(int(ms), 1000)
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def now_ms(clock) -> int:
    """Milliseconds since the epoch by ``clock`` (anything with ``seconds()``, e.g. a reactor)."""
    return int(clock.seconds() * 1000)


def parse_ts(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)
