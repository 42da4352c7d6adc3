"""Reading a blob for a download, big ones past the page cache (``O_DIRECT``).

A download reads each byte once, and the blob of a big file is rarely still in the page cache
(an upload streams past it, :mod:`chat.writeback`). Read through the cache, every page is
first allocated to the cache, filled, copied out and dropped again; on the virtual machines we
measure on that costs 1.5-3.9 CPU-seconds of kernel time per GiB, where ``O_DIRECT`` reads
the disk straight into our own buffer for 0.12-0.16 (bench/page_cache.py; docs/BENCHMARKS.md,
section 5). ``O_DIRECT``
wants the buffer, the offset and the length aligned to the disk's block size: the buffer is an
``mmap`` (page-aligned), reads start and end on :data:`ALIGN` boundaries, and the bytes the
download asked for are cut out of it. Small blobs (pictures, documents: likely read again
soon) and file systems that refuse ``O_DIRECT`` are read through the cache as before.

Blocking: every method runs in the file I/O pool, one call at a time per reader.
"""

import errno
import mmap
import os

from chat.writeback import drop_behind

ALIGN = 4096
"""Offsets and lengths of direct reads are multiples of this (covers 512-byte and 4 KiB
block devices)."""


class BlobReader:
    """An open blob; :meth:`read` returns byte ranges of it as lists of ``bytes`` pieces."""

    def __init__(self, path: str, size: int):
        self.path = path
        self.direct = False
        self._buffer = None
        fd = None
        if drop_behind(size) and hasattr(os, "O_DIRECT"):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
                self.direct = True
            except OSError as e:
                if e.errno != errno.EINVAL:     # EINVAL: this file system has no O_DIRECT
                    raise
        if fd is None:
            fd = os.open(path, os.O_RDONLY)
        self.fd = fd

    def read(self, position: int, size: int, piece: int = 0) -> list:
        """Bytes [position, position + size) (fewer at the end of the file) as pieces of
        ``piece`` bytes (0: one piece), each its own ``bytes``: a body frame each, sent as it
        is (Twisted's transports take bytes, not views)."""
        piece = piece or size
        if self.direct:
            try:
                return self._read_direct(position, size, piece)
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                self._fall_back()       # alignment stricter than ALIGN: the cache it is
        return self._read_cached(position, size, piece)

    def _read_cached(self, position: int, size: int, piece: int) -> list:
        pieces = []
        at, end = position, position + size
        while at < end:
            data = os.pread(self.fd, min(piece, end - at), at)
            if not data:
                break
            pieces.append(data)
            at += len(data)
        return pieces

    def _read_direct(self, position: int, size: int, piece: int) -> list:
        start = position - position % ALIGN
        stop = -(-(position + size) // ALIGN) * ALIGN
        if self._buffer is None or len(self._buffer) < stop - start:
            self._release_buffer()
            self._buffer = mmap.mmap(-1, stop - start)
        view = memoryview(self._buffer)
        try:
            got = 0
            while start + got < stop:     # a direct read may return less than asked
                n = os.preadv(self.fd, [view[got:stop - start]], start + got)
                if n <= 0:
                    break                 # the end of the file
                got += n
                if n % ALIGN:
                    break                 # a short read ends on the file's last byte
            end = min(start + got, position + size)
            return [bytes(view[at - start:min(at + piece, end) - start])
                    for at in range(position, end, piece)]
        finally:
            view.release()

    def _fall_back(self) -> None:
        fd = os.open(self.path, os.O_RDONLY)
        os.close(self.fd)
        self.fd = fd
        self.direct = False
        self._release_buffer()

    def _release_buffer(self) -> None:
        # not close(): after a failed read the traceback may still hold a view of it; the
        # mapping goes with its last reference
        self._buffer = None

    def close(self) -> None:
        self._release_buffer()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
