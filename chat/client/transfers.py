"""File transfers of the client core: what one transfer is, and the pieces that move its bytes.

* :func:`hash_file` computes a file's SHA-256 before it is offered;
* :class:`UploadStream` is an ``IPushProducer`` on the connection's transport: it reads the
  file a chunk at a time in a thread and writes body frames only while the transport wants
  more, so memory stays at a chunk or two whatever the file's size;
* :class:`DownloadSink` takes a reply's body frames as they arrive and writes them in
  batches, in order, to a partial file it holds alone (a lock), and hashes each batch as
  read back from the disk, the write of a batch and the hash of the one before in two threads
  side by side; it pauses the transport while the disk is behind; at the end it checks the
  size on disk and the SHA-256 and only then moves the file into the download folder, under
  a local name (:mod:`chat.client.savename`) that overwrites nothing. A big file's pages
  leave the page cache once on the disk (:mod:`chat.writeback`). A partial download stays as
  ``.chat-<id>.part`` for a later resume (unless the download is cancelled: then it is
  deleted).

Disk work runs through an injected ``run(f, *args) -> Deferred`` (``deferToThread`` for real,
a synchronous call in tests).
"""

import enum
import errno
import hashlib
import os
from dataclasses import dataclass, field
from typing import Optional

from twisted.internet import defer, interfaces
from twisted.python.failure import Failure
from zope.interface import implementer

try:
    import fcntl
except ImportError:          # Windows: no advisory locks; one client per folder there
    fcntl = None

from chat.client.savename import save_path
from chat.protocol.framing import FILE_CHUNK
from chat.producers import registered_producer
from chat.serial import SerialQueue, nothing
from chat.writeback import WritebackWindow, drop_behind

HIGH_WATER = 32 * FILE_CHUNK
"""Bytes of a download waiting for the disk above which the transport stops reading."""
LOW_WATER = 8 * FILE_CHUNK
"""... and below which it reads again."""
HASH_READ = 1 << 20
"""Bytes read back from the disk per step of a download's hash."""
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
READ_CHUNKS = 4
"""Body frames an upload reads from the disk in one go."""
PROGRESS_EVERY = 0.25
"""Seconds between two progress reports of one transfer (state changes are reported at once)."""
SPEED_WINDOW = 2.0
"""Seconds of history the speed is averaged over."""
HASH_STEP = 16 << 20
"""Bytes of an upload hashed in one trip to the thread (progress is reported between them)."""


class TransferState(enum.Enum):
    HASHING = "hashing"        # computing the SHA-256 before the offer
    WAITING = "waiting"        # for a connection (offline) or the server's turn
    OFFERING = "offering"
    SENDING = "sending"
    RECEIVING = "receiving"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"    # by the user: never resumed

    @property
    def ended(self) -> bool:
        """A final state: the transfer's ``finished`` has fired (or is firing)."""
        return self in (TransferState.DONE, TransferState.FAILED, TransferState.CANCELLED)


class ChecksumMismatch(Exception):
    """A downloaded file did not match its SHA-256: it is deleted, never shown as received."""


@dataclass(eq=False)
class Transfer:
    """One upload (``direction`` "up") or download ("down"), as the interface shows it."""
    direction: str
    name: str
    size: Optional[int]
    path: Optional[str] = None        # up: the source; down: the saved file once DONE
    target: Optional[str] = None      # up: "#room", "@user" or "@all"
    folder: Optional[str] = None      # down: where the file goes
    mime: Optional[str] = None        # up: the type offered
    file_id: Optional[int] = None
    file: Optional[dict] = None       # the server's view of the file
    sha256: Optional[str] = None
    state: TransferState = TransferState.WAITING
    done: int = 0                     # bytes the other side has, resumed ones included
    hashed: int = 0                   # up: bytes of the source hashed so far (HASHING)
    resumed_from: int = 0
    speed: float = 0.0                # bytes per second over the last seconds
    error: Optional[tuple] = None     # (code, message) once FAILED
    finished: Optional[defer.Deferred] = None   # fires once DONE, FAILED or CANCELLED
    cancelling: bool = False          # cancel() was called; CANCELLED follows (or DONE: too late)
    restarted: bool = False           # down: the partial kept from before had changed on the
                                      # disk; it was deleted and the download began again
    _samples: list = field(default_factory=list, repr=False)
    _reported: float = field(default=float("-inf"), repr=False)
    # what cancel() stops (see chat.client.files.FileTransfers): a local wait (hashing, the
    # link, the offer), or the upload or download request running on the connection
    _wait: Optional[defer.Deferred] = field(default=None, repr=False)
    _request: Optional[defer.Deferred] = field(default=None, repr=False)
    _conn: object = field(default=None, repr=False)
    _stream: object = field(default=None, repr=False)

    @property
    def percent(self) -> float:
        if not self.size:
            return 100.0 if self.state is TransferState.DONE else 0.0
        return 100.0 * self.done / self.size

    def moved(self, now: float, done: int) -> None:
        """Record progress at clock time ``now`` and update the speed."""
        self.done = done
        samples = self._samples
        samples.append((now, done))
        while len(samples) > 2 and samples[1][0] <= now - SPEED_WINDOW:
            samples.pop(0)
        span = now - samples[0][0]
        self.speed = (done - samples[0][1]) / span if span > 0 else 0.0

    def due(self, now: float) -> bool:
        """Whether a progress report is due (at most one per PROGRESS_EVERY)."""
        if now - self._reported >= PROGRESS_EVERY:
            self._reported = now
            return True
        return False


def sha256_of(path: str):
    """``(sha256 hex, size)`` of the file at ``path``. Blocking: call it in a thread."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _hash_step(path: str, offset: int, digest):
    """Hash up to HASH_STEP bytes of ``path`` from ``offset`` into ``digest``: ``(bytes read,
    the file's size)``; fewer bytes than HASH_STEP mean its end. Each step opens the file
    itself: a step still running after a cancel shares nothing with anybody."""
    done = 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(offset)
        while done < HASH_STEP:
            chunk = f.read(min(1 << 20, HASH_STEP - done))
            if not chunk:
                break
            digest.update(chunk)
            done += len(chunk)
    return done, size


def hash_file(path: str, run, on_progress=None) -> defer.Deferred:
    """Fires with ``(sha256 hex, size)`` of the file at ``path``. With ``on_progress``, the
    file is hashed in steps of HASH_STEP bytes, each in ``run`` (a thread; a small file takes
    one), and ``on_progress(bytes hashed, size)`` is called after each (on the reactor): a
    big file's hashing shows how far it is, and a cancel stops it at the next step."""
    if on_progress is None:
        return run(sha256_of, path)
    return _hash_in_steps(path, run, on_progress)


@defer.inlineCallbacks
def _hash_in_steps(path: str, run, on_progress):
    digest, done = hashlib.sha256(), 0
    while True:
        n, size = yield run(_hash_step, path, done, digest)
        done += n
        if n < HASH_STEP:
            return digest.hexdigest(), done
        on_progress(done, max(size, done))


def partial_path(folder: str, file_id: int) -> str:
    """Where the bytes of a download in progress wait (hidden, named by the file's id)."""
    return os.path.join(folder, f".chat-{file_id}.part")


@implementer(interfaces.IPushProducer)
class UploadStream:
    """Writes ``path`` from ``offset`` to the end as body frames, paced by the transport."""

    def __init__(self, path: str, offset: int, total: int, run, on_progress,
                 chunk: int = FILE_CHUNK):
        self.path = path
        self.offset = offset
        self.size = total - offset          # the bytes this request carries
        self.run = run
        self.on_progress = on_progress      # (bytes of the file the server has) -> None
        self.chunk = chunk
        self.sent = 0
        self._file = None
        self._conn = None
        self._request_id = None
        self._paused = False
        self._reading = False
        self._stopped = False
        self.failed = None                  # an OSError while reading, if any

    def start(self, conn, request_id: int) -> None:
        self._conn, self._request_id = conn, request_id
        conn.transport.registerProducer(self, True)
        self._read_next()

    def _read_next(self) -> None:
        if self._paused or self._reading or self._stopped or self.sent >= self.size:
            return
        self._reading = True
        # several chunks per trip to the thread: the trip, not the read, was the cost
        want = min(self.chunk * READ_CHUNKS, self.size - self.sent)
        d = self.run(self._read, self.offset + self.sent, want)
        d.addCallbacks(self._got, self._read_failed)

    def _read(self, position: int, want: int) -> list:
        """Up to ``want`` bytes from ``position``, a chunk per bytes object: each becomes a
        body frame as it is (transports take bytes, and a slice would be a copy)."""
        if self._file is None:
            self._file = open(self.path, "rb")
        self._file.seek(position)
        pieces = []
        while want > 0:
            data = self._file.read(min(self.chunk, want))
            if not data:
                break
            pieces.append(data)
            want -= len(data)
        return pieces

    def _got(self, pieces: list) -> None:
        self._reading = False
        if self._stopped:
            self._close_file()       # stopped while this read was in the thread
            return
        if not pieces:
            # the file shrank since it was hashed: the server would refuse the result anyway
            return self._read_failed(OSError(f"{self.path} changed while it was being sent"))
        for data in pieces:
            self._conn.write_body(self._request_id, data)
            self.sent += len(data)
        self.on_progress(self.offset + self.sent)
        if self.sent >= self.size:
            self._finish()
        else:
            self._read_next()

    def _read_failed(self, failure) -> None:
        self._reading = False
        if self._stopped:
            self._close_file()       # cancelled meanwhile: nothing left to fail
            return
        self.failed = failure.value if hasattr(failure, "value") else failure
        # the request cannot be completed: closing the link is the only honest end, and the
        # resume after the reconnect starts from what the server really has
        self._finish()
        if self._conn is not None:
            self._conn.abort()

    def _finish(self) -> None:
        self._stopped = True
        if self._conn is not None and self._conn.transport is not None:
            self._conn.transport.unregisterProducer()
        self._close_file()

    def _close_file(self) -> None:
        # never while a read runs in a thread: _got or _read_failed closes it then
        if self._file is not None and not self._reading:
            f, self._file = self._file, None
            self.run(f.close)

    def cancel(self) -> None:
        """The transfer was cancelled: no body frame is written after this; the producer is
        unregistered and the file closed."""
        if self._stopped:
            return
        self._stopped = True
        transport = self._conn.transport if self._conn is not None else None
        if transport is not None and registered_producer(transport) is self:
            transport.unregisterProducer()
        self._close_file()

    # IPushProducer
    def pauseProducing(self):
        self._paused = True

    def resumeProducing(self):
        self._paused = False
        self._read_next()

    def stopProducing(self):
        self._stopped = True
        self._close_file()


class DownloadBusy(OSError):
    """Another download (another program, or another client in this one) holds the partial
    file: two writers would mix their bytes, so the second one does not start."""


class PartialChanged(ChecksumMismatch):
    """A resumed download did not match: the partial file kept from before was changed (or
    damaged) on the disk. It is deleted; the download starts again from the first byte."""


def _lock(fd: int) -> None:
    """Hold the partial file for this download alone (an advisory lock; released on close,
    also when the program is killed)."""
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise DownloadBusy(errno.EBUSY, "the file is already being downloaded into this "
                           "folder by another program") from None


class DownloadSink:
    """Receives a download's body (see ClientConnection.request's ``sink``).

    The partial file is held under an exclusive lock while the download runs, and written at
    its own offsets (never opened for appending). The SHA-256 is taken over what is on the
    disk: a resume hashes the partial's bytes before it asks for the rest, and each batch
    written is read back from the file (in the hash thread, beside the next write) and hashed.
    The file counts as received only once its size on disk and that digest match the
    server's; a resumed one that does not match raises :class:`PartialChanged`.
    """

    def __init__(self, folder: str, file_id: int, run, on_begin, on_progress):
        self.folder = folder
        self.file_id = file_id
        self.run = run
        self.on_begin = on_begin            # (ok data) -> None
        self.on_progress = on_progress      # (bytes of the file on disk) -> None
        self.partial = partial_path(folder, file_id)
        self.conn = None                    # set before the request: pauses its transport
        self.offset = 0
        self.final_path = None
        self._file = None                   # the partial, written (unbuffered, locked)
        self._reader = None                 # the partial, read back for the hash
        self._digest = None
        self._writes = SerialQueue(run)     # open, writes, close: one after the other
        self._hashes = SerialQueue(run)     # the SHA-256, each batch after its write
        self._batch = []                    # chunks waiting for the batch in the threads
        self._in_flight = 0                 # batches in the threads
        self._queued = 0
        self._paused = False
        self._written = 0
        self._end = 0
        self._window = None
        self._failure = None
        self._write_error = None            # set in the write thread, seen by the hash thread
        self._buffer = None
        self.name = None                    # from the server's file view, in begin()
        self.expected_sha256 = None
        self.expected_size = None

    def prepare(self) -> defer.Deferred:
        """Open (or create) the partial file, lock it and hash what it holds; fires with its
        size (the offset to ask for)."""
        prepared = self._writes.submit(self._prepare)
        self._hashes.after(prepared)     # no hash before the digest holds the partial's bytes
        return prepared

    def _prepare(self) -> int:                  # in a thread
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(self.partial, os.O_RDWR | os.O_CREAT | _O_BINARY | _O_CLOEXEC, 0o600)
        try:
            _lock(fd)
            self._file = os.fdopen(fd, "r+b", buffering=0)
        except BaseException:
            os.close(fd)
            raise
        self._reader = open(self.partial, "rb", buffering=0)
        self._buffer = bytearray(HASH_READ)
        self._digest = hashlib.sha256()
        size = self._hash_on_disk(None)
        self._file.seek(size)
        self.offset = self._written = self._end = size
        self._window = WritebackWindow(self._file.fileno(), size)
        return size

    def _hash_on_disk(self, n) -> int:
        """Read ``n`` more bytes of the partial (all of it if None) and hash them."""
        buffer, view, done = self._buffer, memoryview(self._buffer), 0
        while n is None or done < n:
            want = len(buffer) if n is None else min(len(buffer), n - done)
            got = self._reader.readinto(view[:want])
            if not got:
                break
            self._digest.update(view[:got])
            done += got
        if n is not None and done < n:
            raise ChecksumMismatch(f"{self.partial} was shortened on the disk while it was "
                                   "being downloaded")
        return done

    # -- what ClientConnection calls
    def begin(self, data: dict, size: int) -> None:
        view = data["file"]
        self.name = view["name"]
        self.expected_sha256 = view["sha256"]
        self.expected_size = view.get("size")
        if self._window is not None:
            # set before the first write is handed to a thread (prepare has run)
            self._window.drop = drop_behind(view.get("size") or 0)
        self.on_begin(data)

    def write(self, chunk) -> None:
        self._queued += len(chunk)
        if self._queued > HIGH_WATER and not self._paused and self.conn is not None:
            self._paused = True
            self.conn.transport.pauseProducing()
        # chunks that arrive while a batch is in the threads go together in the next one
        self._batch.append(chunk)
        if not self._in_flight:
            self._submit_batch()

    def _submit_batch(self) -> None:
        batch, self._batch = self._batch, []
        self._in_flight += 1
        n = sum(len(chunk) for chunk in batch)
        written = self._writes.submit(self._write_batch, batch)
        self._hashes.after(written)      # what is hashed is read back once it is written
        hashed = self._hashes.submit(self._hash_batch, n)
        defer.gatherResults([written, hashed], consumeErrors=True).addBoth(self._batch_done, n)

    def _write_batch(self, batch) -> None:      # in a thread
        if self._write_error is not None or self._failure is not None or self._file is None:
            return                # the disk failed: the rest is not written
        try:
            for chunk in batch:
                view = memoryview(chunk)
                while view:
                    view = view[self._file.write(view):]
                # bounded dirty pages: a gigabyte of them would stall every fsync on the machine
                self._end += len(chunk)
                if self._window.due(self._end):
                    self._window.wrote(self._end)
        except BaseException as exc:
            self._write_error = exc
            raise

    def _hash_batch(self, n: int) -> None:      # in a thread, beside the next _write_batch
        if self._write_error is not None or self._reader is None:
            return                # nothing (or not all) was written: the download fails
        self._hash_on_disk(n)

    def _batch_done(self, result, n: int) -> None:
        self._in_flight -= 1
        self._queued -= n
        if isinstance(result, Failure):
            if self._failure is None:
                self._failure = result.value.subFailure \
                    if result.check(defer.FirstError) else result
        else:
            self._written += n
            self.on_progress(self._written)
        if self._batch and not self._in_flight:
            self._submit_batch()
        if self._paused and self._queued < LOW_WATER:
            self._paused = False
            if self.conn is not None and self.conn.connected:
                self.conn.transport.resumeProducing()

    def _flush(self) -> None:
        """No more data comes: what waits for the batch in the threads goes now."""
        if self._batch:
            self._submit_batch()

    def finish(self) -> defer.Deferred:
        """All bytes arrived: wait for the disk, check the SHA-256, move the file in place."""
        self._flush()
        self._writes.after(self._hashes.submit(nothing))   # _complete reads the digest
        return self._writes.submit(self._complete)

    def _complete(self) -> str:                 # in a thread, after every write and hash
        if self._failure is not None:
            self._failure.raiseException()
        expected = self.expected_sha256
        self._file.flush()
        os.fsync(self._file.fileno())
        on_disk = os.fstat(self._file.fileno()).st_size
        # the digest holds every byte of the file as read from the disk, in order; a longer
        # file (bytes past the end of a partial from elsewhere) cannot match either
        matched = on_disk == self.expected_size and self._digest.hexdigest() == expected
        if not matched:
            self._close(True)
            kind = PartialChanged if self.offset else ChecksumMismatch
            raise kind(f"the downloaded data does not match its SHA-256 ({expected[:12]}...)")
        path = save_path(self.folder, self.name)
        if os.name == "nt":          # an open file cannot be renamed there
            self._close(False)
        os.replace(self.partial, path)   # save_path just checked that nothing is there
        self._close(False)               # the lock goes with the file, after the rename
        self.final_path = path
        return path

    def discard(self) -> defer.Deferred:
        """The server refused the download, or the user cancelled it: the partial file goes
        (also one left by an earlier attempt, without ``prepare``, unless another download
        holds it)."""
        self._flush()
        return self._writes.submit(self._close, True)

    def abort(self) -> None:
        """The link went: keep the partial file for a resume."""
        self._flush()                    # what arrived is kept
        self._writes.submit(self._close, False)

    def _close(self, remove: bool) -> None:   # in a thread
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()
        f, self._file = self._file, None
        if f is None and remove:
            # not opened by this sink: only a partial nobody holds is removed
            try:
                fd = os.open(self.partial, os.O_RDWR | _O_BINARY | _O_CLOEXEC)
            except FileNotFoundError:
                return
            f = os.fdopen(fd, "r+b", buffering=0)
            try:
                _lock(fd)
            except DownloadBusy:
                f.close()
                return
        if remove and f is not None:
            try:
                os.remove(self.partial)    # before the close: the lock still holds
            except FileNotFoundError:
                pass
        if f is not None:
            f.close()
