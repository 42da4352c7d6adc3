"""The bytes of files on disk, stored once per content under their SHA-256.

Layout under the store's root (``<data-dir>/files``, or a temporary directory with ``--lite``)::

    <sha[:2]>/<sha>      a complete, verified file (content-addressed: one copy per content)
    partial/<file id>    an upload in progress (kept for a resume)

A partial becomes a blob only after its SHA-256 matched: it is flushed to the disk (``fsync``)
and then renamed, which is atomic, so a blob is always whole and right, even after a crash. No
name from the network is ever part of a path: paths are made of a checked hex digest and of
integer ids.

Every method that touches the disk is *blocking* and runs in the file I/O pool
(:mod:`chat.server.files.io`); none of them is ever called on the reactor thread.
"""

import hashlib
import os
import shutil
import tempfile

from chat.server.private import make_private_dirs, private_opener
from chat.server.files.reader import BlobReader
from chat.writeback import WritebackWindow, drop_behind

HASH_READ = 1 << 20
"""Bytes read at a time when hashing what is already on disk (resume, verification)."""


class PartialLost(Exception):
    """A partial upload holds fewer bytes than the server had counted (the disk lost some)."""


class FileStore:
    """Paths of blobs and partials under ``root``, and the blocking operations on them."""

    def __init__(self, root: str, temporary: bool = False):
        self.root = root
        self.temporary = temporary      # created for this run (--lite): removed at stop

    @classmethod
    def in_temporary_directory(cls) -> "FileStore":
        """A store in a new private temporary directory (``--lite``), removed by ``remove``."""
        return cls(tempfile.mkdtemp(prefix="chat-files-"), temporary=True)

    # -- paths
    def blob_path(self, sha256: str) -> str:
        return os.path.join(self.root, sha256[:2], sha256)

    def partial_path(self, file_id: int) -> str:
        return os.path.join(self.root, "partial", str(int(file_id)))

    # -- blocking operations (file I/O pool only)
    def prepare(self) -> None:
        make_private_dirs(os.path.join(self.root, "partial"))

    def remove(self) -> None:
        """Delete the whole store (only a temporary one)."""
        if self.temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def partial_size(self, file_id: int) -> int:
        try:
            return os.path.getsize(self.partial_path(file_id))
        except FileNotFoundError:
            return 0

    def free_space(self) -> int:
        """Bytes the disk of the store has free for this process."""
        return shutil.disk_usage(self.root).free

    def has_blob(self, sha256: str, size: int) -> bool:
        try:
            return os.path.getsize(self.blob_path(sha256)) == size
        except FileNotFoundError:
            return False

    def remove_partial(self, file_id: int) -> None:
        _unlink(self.partial_path(file_id))

    def remove_blob(self, sha256: str) -> None:
        _unlink(self.blob_path(sha256))

    def open_partial(self, file_id: int, offset: int, size: int = 0):
        """Open the partial to append at ``offset``; returns ``(file, sha256 state)`` with the
        first ``offset`` bytes hashed already (a resume). Raises PartialLost if the partial is
        shorter than ``offset``. ``size`` (the whole file's) decides whether its pages stay
        in the page cache (see :mod:`chat.writeback`)."""
        path = self.partial_path(file_id)
        digest = hashlib.sha256()
        drop = drop_behind(size)
        if offset == 0:
            f = open(path, "wb", opener=private_opener)
            f.writeback = WritebackWindow(f.fileno(), drop=drop)
            return f, digest
        try:
            f = open(path, "r+b")
        except FileNotFoundError:
            raise PartialLost(f"the partial upload of file {file_id} is gone") from None
        try:
            have = _hash_into(digest, f, offset)
            if have < offset:
                raise PartialLost(f"the partial upload of file {file_id} holds {have} bytes, "
                                  f"not {offset}")
            f.truncate(offset)   # what lay beyond the offset the client was given is dropped
            f.seek(offset)
            f.writeback = WritebackWindow(f.fileno(), offset, drop=drop)
        except BaseException:
            f.close()
            raise
        return f, digest

    @staticmethod
    def write(f, data) -> None:
        """Append ``data`` to a partial (hashing it is the caller's, in a thread of its own)."""
        f.write(data)
        # a few MiB of dirty pages at most, or the database's fsync of every chat message
        # waits behind a gigabyte of writeback (see chat/writeback.py)
        window = f.writeback
        end = f.tell()
        if window.due(end):
            f.flush()
            window.wrote(end)

    @staticmethod
    def close(f) -> int:
        """Close a partial after an interrupted upload; returns the bytes it holds.

        A disk that is full (or failing) does not make this fail: what did not reach the disk
        is lost, and the partial holds what did, a prefix of the upload (writes are in order),
        which a resume starts from (and rehashes)."""
        try:
            try:
                f.flush()
            except OSError:
                pass
            return os.fstat(f.fileno()).st_size
        finally:
            try:
                f.close()
            except OSError:
                pass      # the same failed flush again; the descriptor is closed all the same

    def partial_ids(self) -> list[int]:
        """The file ids of every partial on disk (the start-up looks for orphans)."""
        try:
            names = os.listdir(os.path.join(self.root, "partial"))
        except FileNotFoundError:
            return []
        return [int(name) for name in names if name.isdigit() and name.isascii()]

    def commit(self, f, digest, file_id: int, sha256: str) -> bool:
        """The upload is complete: make it durable and, if its hash matches, the blob of
        ``sha256``. A mismatch deletes the partial. Returns whether it matched."""
        try:
            f.flush()
            os.fsync(f.fileno())
        finally:
            f.close()
        return self._settle(file_id, digest.hexdigest() == sha256, sha256)

    def verify_partial(self, file_id: int, sha256: str, size: int) -> bool:
        """Hash a partial that already holds every byte (an upload whose end was cut between
        the last byte and the check); commit it as :meth:`commit` does."""
        digest = hashlib.sha256()
        path = self.partial_path(file_id)
        try:
            with open(path, "rb") as f:
                have = _hash_into(digest, f, size + 1)
                os.fsync(f.fileno())
        except FileNotFoundError:
            return False
        return self._settle(file_id, have == size and digest.hexdigest() == sha256, sha256)

    def store_empty(self, sha256: str) -> None:
        """The blob of the empty file (a 0-byte offer needs no upload)."""
        path = self.blob_path(sha256)
        if not os.path.exists(path):
            make_private_dirs(os.path.dirname(path))
            with open(path + ".new", "wb", opener=private_opener) as f:
                os.fsync(f.fileno())
            os.replace(path + ".new", path)
            _sync_directory(os.path.dirname(path))

    def _settle(self, file_id: int, matched: bool, sha256: str) -> bool:
        partial = self.partial_path(file_id)
        if not matched:
            _unlink(partial)
            return False
        blob = self.blob_path(sha256)
        make_private_dirs(os.path.dirname(blob))
        # the same content uploaded twice at once: either copy is the same bytes
        os.replace(partial, blob)
        _sync_directory(os.path.dirname(blob))
        return True

    def open_blob(self, sha256: str, size: int = 0) -> BlobReader:
        """Open a blob of ``size`` bytes for a download (a big one is read past the page
        cache: :mod:`chat.server.files.reader`)."""
        return BlobReader(self.blob_path(sha256), size)

    @staticmethod
    def read(reader: BlobReader, position: int, size: int, piece: int = 0) -> list:
        """Bytes [position, position + size) of an open blob as ``bytes`` pieces of ``piece``
        bytes (0: one piece): each becomes a body frame as it is, never copied again."""
        return reader.read(position, size, piece)

    @staticmethod
    def close_blob(reader: BlobReader) -> None:
        reader.close()


def _hash_into(digest, f, limit: int) -> int:
    """Hash at most ``limit`` bytes of ``f`` from its start; returns how many there were."""
    f.seek(0)
    done = 0
    while done < limit:
        chunk = f.read(min(HASH_READ, limit - done))
        if not chunk:
            break
        digest.update(chunk)
        done += len(chunk)
    return done


def _unlink(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def _sync_directory(path: str) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
