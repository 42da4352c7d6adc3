"""What the page cache costs on this machine: the figures behind chat/writeback.py's drop-behind
and chat/server/files/reader.py's direct reads.

    .venv/bin/python bench/page_cache.py [--size-mib 1024] [--dir DIR]

Prints CPU seconds (user, system) and MB/s for:
* touching fresh anonymous memory, then the same memory again;
* writing a file through the page cache with the writeback window, without and with
  drop-behind (chat.writeback.WritebackWindow), and with O_DIRECT;
* reading it back through the cache (dropping behind) and with O_DIRECT.
The file lives in --dir (default: the repository, i.e. the disk the server's data would be on).
"""

import argparse
import mmap
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from chat.writeback import WritebackWindow  # noqa: E402

MiB = 1 << 20
BLOCK = MiB


def measured(name, size, f):
    t0, c0 = time.perf_counter(), os.times()
    f()
    t1, c1 = time.perf_counter(), os.times()
    print(f"{name:44} {size / (t1 - t0) / 1e6:7.0f} MB/s   user {c1.user - c0.user:5.2f} s"
          f"   sys {c1.system - c0.system:5.2f} s", flush=True)


def touch(m, size, value):
    for at in range(0, size, mmap.PAGESIZE):
        m[at] = value


def write_file(path, size, buf, flags=0, window=True, drop=False):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | flags)
    try:
        w = WritebackWindow(fd, drop=drop)
        for at in range(0, size, BLOCK):
            os.write(fd, buf)
            if window:
                w.wrote(at + BLOCK)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_file(path, buf, flags=0):
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        if not flags:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        at = 0
        while True:
            n = os.preadv(fd, [buf], at)
            if n <= 0:
                break
            if not flags:
                os.posix_fadvise(fd, at, n, os.POSIX_FADV_DONTNEED)
            at += n
    finally:
        os.close(fd)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--dir", default=str(REPO))
    args = parser.parse_args()
    size = args.size_mib * MiB
    m = mmap.mmap(-1, size)
    measured("touch fresh anonymous memory", size, lambda: touch(m, size, 1))
    measured("touch the same memory again", size, lambda: touch(m, size, 2))
    m.close()
    buf = mmap.mmap(-1, BLOCK)          # page-aligned, as O_DIRECT wants
    buf.write(os.urandom(BLOCK))
    fd, path = tempfile.mkstemp(prefix=".page-cache-bench-", dir=args.dir)
    os.close(fd)
    try:
        measured("write, window, pages kept in the cache", size,
                 lambda: write_file(path, size, buf))
        os.remove(path)
        measured("write, window, pages dropped behind", size,
                 lambda: write_file(path, size, buf, drop=True))
        os.remove(path)
        measured("write, O_DIRECT", size,
                 lambda: write_file(path, size, buf, os.O_DIRECT, window=False))
        measured("read through the cache, dropping behind", size,
                 lambda: read_file(path, buf))
        measured("read, O_DIRECT", size, lambda: read_file(path, buf, os.O_DIRECT))
    finally:
        os.remove(path)


if __name__ == "__main__":
    main()
