"""Operational faults (a full disk, a read-only file system, a database that cannot write)
told apart from bugs, for the log.

A full disk is something the operator must hear about in one clear line, not a critical
traceback that looks like a crash; an unexpected exception still gets its traceback.
"""

import errno
from typing import Optional

from twisted.python.failure import Failure

from chat.server.storage import StorageError

DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def disk_trouble(failure) -> Optional[str]:
    """What went wrong, in a few words, if ``failure`` (a Failure or an exception) is an
    operational fault of the disk or the database; None for anything else (a bug)."""
    error = failure.value if isinstance(failure, Failure) else failure
    if isinstance(error, StorageError):
        return str(error)
    if isinstance(error, OSError) and error.errno in DISK_ERRNOS:
        return error.strerror or errno.errorcode.get(error.errno, str(error.errno))
    return None


def log_failure(log, failure, what: str, **fields) -> None:
    """Log that ``what`` (a format string) failed: one warning line for a disk fault, a
    traceback for anything else. ``failure`` may be None inside an ``except`` block."""
    failure = failure if failure is not None else Failure()
    trouble = disk_trouble(failure)
    if trouble is not None:
        log.warn(what + " failed: {trouble}", trouble=trouble, **fields)
    else:
        log.failure(what + " failed", failure, **fields)
