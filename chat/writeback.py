"""Writing a big file without piling up dirty pages: a sliding writeback window.

A gigabyte written at full speed sits in the page cache as dirty pages, and the next
``fsync`` anywhere on the machine can wait for the kernel to write them: the server's
database commits a chat message with an fsync, and bench/files.py measured chat p99 going
from 2 ms to over 200 ms during a 1 GiB upload. Syncing every few MiB with ``fdatasync``
bounds that, but stalls the writer on every step. On Linux, ``sync_file_range`` does better:
after each STEP bytes it *starts* the writeback of the step just written and *waits* for the
one before it, which by then is usually done. Dirty data stays under two steps, and the writer
rarely waits. Elsewhere (or if the call fails) it falls back to ``fdatasync`` per step.

For a file of :data:`DROP_BEHIND_SIZE` or more, pages that have reached the disk are then
dropped from the page cache (``drop``; ``posix_fadvise(DONTNEED)``, what ``dd oflag=nocache``
does): a gigabyte written once need not push a gigabyte of other files (the database's among
them) out of the cache, and the next writes reuse the pages just freed. That matters on the
virtual machines we measure on, where touching memory the host has taken back costs 1.1-1.6
CPU-seconds of kernel time per GiB, and a gigabyte written through the cache 3.2-3.9
(bench/page_cache.py; docs/BENCHMARKS.md, section 5). Smaller files, the
pictures and documents people open or download again soon, stay cached.

Used from threads (file I/O never runs on the reactor); one window per open file.
"""

import ctypes
import ctypes.util
import os

STEP = 8 << 20

DROP_BEHIND_SIZE = 64 << 20
"""Files at least this large are streamed past the page cache (see above), when written
through a window and when the server reads them for a download."""

_WAIT_BEFORE, _WRITE, _WAIT_AFTER = 1, 2, 4


def _load_sync_file_range():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_sync_file_range = _load_sync_file_range()


def drop_behind(size: int) -> bool:
    """Whether a file of ``size`` bytes is streamed past the page cache."""
    return size >= DROP_BEHIND_SIZE and hasattr(os, "posix_fadvise")


class WritebackWindow:
    """Call :meth:`wrote` with the file's new end after each write (after ``flush()``);
    ``drop`` (see :func:`drop_behind`) lets what reached the disk leave the page cache."""

    def __init__(self, fileno: int, start: int = 0, step: int = STEP, drop: bool = False):
        self.fileno = fileno
        self.step = step
        self.drop = drop
        self.started = start        # writeback was started for bytes before this
        self.previous = start       # ... and is complete (waited for) before this

    def due(self, end: int) -> bool:
        return end - self.started >= self.step

    def wrote(self, end: int) -> None:
        if not self.due(end):
            return
        if _sync_file_range is not None:
            if (_sync_file_range(self.fileno, self.started, end - self.started, _WRITE) == 0
                    and _sync_file_range(self.fileno, self.previous,
                                         self.started - self.previous,
                                         _WAIT_BEFORE | _WRITE | _WAIT_AFTER) == 0):
                self._dropped(self.previous, self.started)
                self.previous, self.started = self.started, end
                return
        os.fdatasync(self.fileno)
        self._dropped(self.previous, end)
        self.previous = self.started = end

    def _dropped(self, start: int, end: int) -> None:
        """[start, end) is on the disk: its pages may leave the cache."""
        if self.drop and end > start:
            os.posix_fadvise(self.fileno, start, end - start, os.POSIX_FADV_DONTNEED)
