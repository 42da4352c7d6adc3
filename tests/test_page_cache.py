"""Big files past the page cache: the writeback window's drop-behind and direct blob reads."""

import ctypes
import ctypes.util
import errno
import mmap
import os

from twisted.internet import defer
from twisted.trial import unittest

from chat import writeback
from chat.client.transfers import DownloadSink
from chat.server.files.reader import ALIGN, BlobReader
from chat.server.files.store import FileStore
from chat.writeback import WritebackWindow

PAGE = mmap.PAGESIZE
MiB = 1 << 20

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                       ctypes.c_int, ctypes.c_long)
_libc.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
_libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)


def resident_pages(path: str) -> int:
    """How many of the file's pages are in the page cache (``mincore`` on a mapping)."""
    size = os.path.getsize(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap failed")
        try:
            pages = -(-size // PAGE)
            vec = (ctypes.c_ubyte * pages)()
            if _libc.mincore(address, size, vec) != 0:
                raise OSError(ctypes.get_errno(), "mincore failed")
            return sum(v & 1 for v in vec)
        finally:
            _libc.munmap(address, size)
    finally:
        os.close(fd)


def write_through_window(path: str, data: bytes, drop: bool, step: int = MiB) -> None:
    with open(path, "wb") as f:
        window = WritebackWindow(f.fileno(), step=step, drop=drop)
        for at in range(0, len(data), 256 * 1024):
            f.write(data[at:at + 256 * 1024])
            f.flush()
            window.wrote(f.tell())
        f.flush()
        os.fsync(f.fileno())


class DropBehindTests(unittest.TestCase):
    def setUp(self):
        self.data = os.urandom(8 * MiB)

    def test_a_dropping_window_leaves_little_of_the_file_in_the_cache(self):
        kept, dropped = self.mktemp(), self.mktemp()
        write_through_window(kept, self.data, drop=False)
        write_through_window(dropped, self.data, drop=True)
        pages = len(self.data) // PAGE
        self.assertGreater(resident_pages(kept), pages // 2)
        # what is still cached is at most the last two steps, not yet synced by the window
        self.assertLessEqual(resident_pages(dropped), 2 * MiB // PAGE)
        with open(dropped, "rb") as f:
            self.assertEqual(f.read(), self.data)

    def test_only_big_files_are_dropped(self):
        self.assertFalse(writeback.drop_behind(writeback.DROP_BEHIND_SIZE - 1))
        self.assertTrue(writeback.drop_behind(writeback.DROP_BEHIND_SIZE))


class DropBehindWiringTests(unittest.TestCase):
    """Who asks for drop-behind: the server's partial upload and the client's download, by the
    whole file's size."""

    def setUp(self):
        self.patch(writeback, "DROP_BEHIND_SIZE", 1000)

    def test_a_big_upload_is_written_past_the_cache_and_a_small_one_is_not(self):
        store = FileStore(self.mktemp())
        store.prepare()
        for file_id, size, drop in ((1, 1000, True), (2, 999, False)):
            f, _ = store.open_partial(file_id, 0, size)
            self.addCleanup(f.close)
            self.assertIs(f.writeback.drop, drop)
        f.write(b"x" * 10)
        f.close()
        resumed, _ = store.open_partial(2, 10, 5000)     # a resume decides by the size too
        self.addCleanup(resumed.close)
        self.assertTrue(resumed.writeback.drop)

    def test_a_big_download_is_written_past_the_cache_and_a_small_one_is_not(self):
        folder = self.mktemp()
        for file_id, size, drop in ((1, 1000, True), (2, 999, False)):
            sink = DownloadSink(folder, file_id, lambda f, *a: defer.maybeDeferred(f, *a),
                                lambda data: None, lambda done: None)
            self.assertEqual(self.successResultOf(sink.prepare()), 0)
            sink.begin({"file": {"id": file_id, "name": "f.bin", "size": size,
                                 "sha256": "0" * 64}, "offset": 0}, size)
            self.assertIs(sink._window.drop, drop)
            self.successResultOf(sink.discard())


def direct_supported(path: str) -> bool:
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
        return True
    except OSError as e:
        if e.errno == errno.EINVAL:
            return False
        raise


class BlobReaderTests(unittest.TestCase):
    def setUp(self):
        # big enough to be read directly: the threshold lowered to a size a test can write
        self.patch(writeback, "DROP_BEHIND_SIZE", 64 * 1024)
        self.data = os.urandom(3 * MiB + 12345)     # the end is not on a block boundary
        self.path = self.mktemp()
        with open(self.path, "wb") as f:
            f.write(self.data)

    def open(self, size=None):
        reader = BlobReader(self.path, len(self.data) if size is None else size)
        self.addCleanup(reader.close)
        return reader

    def joined(self, reader, position, size, piece=0):
        pieces = reader.read(position, size, piece)
        for p in pieces:
            self.assertIsInstance(p, bytes)
        return pieces

    def test_a_big_blob_is_read_directly_where_the_file_system_can(self):
        self.assertEqual(self.open().direct, direct_supported(self.path))

    def test_a_small_blob_goes_through_the_cache(self):
        self.assertFalse(self.open(size=1000).direct)

    def test_ranges_at_any_offset_come_back_exact(self):
        reader = self.open()
        for position, size, piece in [(0, 256 * 1024, 0), (1, 1000, 0), (ALIGN - 1, 2, 0),
                                      (12345, 1 << 20, 256 * 1024), (777, 3 * MiB, 300000),
                                      (len(self.data) - 10, 10, 0)]:
            pieces = self.joined(reader, position, size, piece)
            self.assertEqual(b"".join(pieces), self.data[position:position + size])
            self.assertTrue(all(len(p) == piece for p in pieces[:-1]) if piece else
                            len(pieces) == 1)

    def test_past_the_end_it_returns_what_there_is(self):
        reader = self.open()
        tail = len(self.data) - 5000
        self.assertEqual(b"".join(self.joined(reader, tail, 1 << 20, 4096)), self.data[tail:])
        self.assertEqual(self.joined(reader, len(self.data), 4096), [])
        self.assertEqual(self.joined(reader, len(self.data) + 9999, 4096), [])

    def test_a_direct_read_refused_falls_back_to_the_cache(self):
        reader = self.open()
        if not reader.direct:
            raise unittest.SkipTest("this file system has no O_DIRECT")
        real = os.preadv

        def refuse(fd, buffers, position):
            if fd == reader.fd:
                raise OSError(errno.EINVAL, "Invalid argument")
            return real(fd, buffers, position)
        self.patch(os, "preadv", refuse)
        self.assertEqual(b"".join(self.joined(reader, 100, 5000)), self.data[100:5100])
        self.assertFalse(reader.direct)
        self.assertEqual(b"".join(self.joined(reader, 0, 10)), self.data[:10])

    def test_other_read_errors_are_not_hidden(self):
        reader = self.open()
        if not reader.direct:
            raise unittest.SkipTest("this file system has no O_DIRECT")

        def broken(fd, buffers, position):
            raise OSError(errno.EIO, "Input/output error")
        self.patch(os, "preadv", broken)
        self.assertRaises(OSError, reader.read, 0, 4096)
