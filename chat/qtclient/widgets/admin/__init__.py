"""The admin panel: who is online, rooms, notices, files for everyone, the live monitor.

One module per part: :mod:`.panel` (:class:`AdminPanel`, its status line and locking when
unattended), one module per page (:mod:`.sessions`, :mod:`.rooms`, :mod:`.notices`,
:mod:`.files`, :mod:`.monitor`), :mod:`.lock_screen`, :mod:`.dialogs` (the kick/ban/unban
confirmation), and the shared pieces :mod:`.tab`, :mod:`.target_chooser`, :mod:`.wording`
and :mod:`.styles`. The names below are what the rest of the client uses.
"""

from .dialogs import REASON_MAX, ConfirmDialog
from .monitor import MONITOR_KEEP
from .panel import IDLE_CHECK_MS, PRESENCE_REFRESH_MS, AdminPanel
from .rooms import PAGES_MAX
from .styles import ERROR_STYLE, OK_STYLE
from .wording import address, describe_error, duration, local_time

__all__ = [
    "AdminPanel", "ConfirmDialog", "ERROR_STYLE", "IDLE_CHECK_MS", "MONITOR_KEEP", "OK_STYLE",
    "PAGES_MAX", "PRESENCE_REFRESH_MS", "REASON_MAX", "address", "describe_error", "duration",
    "local_time",
]
