"""The server's data is private to the account that runs it, whatever the umask.

The data directory holds private messages, password hashes and every file sent: with the
usual umask 022 its folders would be 0755 and its files 0644, readable by every local user.
So everything the server makes there is made 0700 (folders) or 0600 (files) explicitly, and
the daemon's process runs with umask 077 for what others create for it (twistd's log and pid
files, SQLite's -wal and -shm files, which SQLite also gives the database file's mode).
An existing data directory that is wider is not changed behind the operator's back, only
warned about at start (:func:`wider_than_private`).
"""

import os
import stat

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077


def use_private_umask() -> None:
    """From now on this process creates nothing that others may read (the daemon, at start)."""
    os.umask(PRIVATE_UMASK)


def make_private_dirs(path: str) -> None:
    """``os.makedirs`` with 0700 for every folder it makes, the intermediate ones too (which
    ``os.makedirs`` would make with the umask's mode); the umask can only narrow it."""
    path = os.path.abspath(path)
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, PRIVATE_DIR)
        except FileExistsError:
            if not os.path.isdir(folder):
                raise


def private_opener(path: str, flags: int) -> int:
    """An ``open(..., opener=)`` that creates the file 0600."""
    return os.open(path, flags, PRIVATE_FILE)


def create_private_file(path: str) -> None:
    """Make ``path`` an empty 0600 file if it does not exist (a new SQLite database: SQLite
    gives its -wal and -shm files the database file's mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def wider_than_private(*paths: str) -> list[str]:
    """The ones of ``paths`` (existing folders or files) that others may read or enter,
    each as ``"path (mode 0755)"``; the start-up warning lists them."""
    wide = []
    for path in paths:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            continue
        if mode & 0o077:
            wide.append(f"{path} (mode {mode:04o})")
    return wide
