"""How the admin panel words what it shows: local times, addresses, durations, errors."""

from chat.cli import format as cli_format
from chat.client.connection import NotConnected, RequestFailed
from chat.qtclient import errors, models


def local_time(ts, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A wire timestamp in local time (``ts`` itself if it cannot be read)."""
    moment = models.local_time(ts if isinstance(ts, str) else None)
    return moment.strftime(fmt) if moment is not None else (ts or "")


def address(host: str, port) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def duration(translator, seconds: float) -> str:
    """``42 s``, ``5 min`` or ``2 h 5 min`` in the translator's language."""
    return cli_format.duration(translator.tr, seconds, "admin_duration")


def describe_error(translator, failure) -> str:
    """A failed request (a Failure or an exception) in the translator's language."""
    exc = getattr(failure, "value", failure)
    tr = translator.tr
    if isinstance(exc, RequestFailed):
        key = "code_" + exc.code
        try:
            name = tr(key)
        except KeyError:
            name = exc.code          # a code newer than this client
        return tr("error", code=name, message=errors.describe_error(translator, exc.code,
                                                                   exc.message))
    if isinstance(exc, NotConnected):
        return tr("not_connected")
    return tr("admin_failed_status", message=str(exc) or type(exc).__name__)
