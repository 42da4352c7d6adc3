"""The two directions of a file transfer, each with its own flow control.

* :class:`UploadSink` takes an upload's body frames as they arrive and hands them, a batch at a
  time and in order, to the file I/O pool: the write and the SHA-256 of a batch run in two
  threads side by side (both release the GIL), so the hash costs no time of its own. When more than
  :data:`HIGH_MARK` bytes wait for the disk it pauses the connection's transport (the kernel's
  receive buffer fills and TCP slows the sender down); under :data:`LOW_MARK` it resumes. So an
  upload holds at most about ``HIGH_MARK`` bytes in memory whatever the file's size.
* :class:`DownloadProducer` is an ``IPushProducer`` on the connection's transport: it reads the
  file :data:`READ_CHUNKS` frames at a time in the pool, at most :data:`READ_AHEAD` frames
  ahead, and writes body frames only while the transport has not asked it to pause.
"""

from collections import deque

from twisted.internet import defer, interfaces
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from chat.protocol.framing import FILE_CHUNK
from chat.serial import SerialQueue, nothing
from chat.server.faults import log_failure

HIGH_MARK = 8 * 1024 * 1024
"""Bytes of one upload waiting for the disk above which the connection stops being read. Big
enough that the batches handed to the pool are big (one trip, one hash call, one write per
few MiB): 2 MiB gave 328-419 MB/s in bench/files.py, 8 MiB 478-642, for 11-13 MiB more RSS
(docs/BENCHMARKS.md, section 5)."""
LOW_MARK = 2 * 1024 * 1024
"""... and below which it is read again."""
READ_CHUNKS = 8
"""Body frames a download reads from the disk in one trip to the pool: the trip, not the read,
is what costs (bench/files.py)."""
READ_AHEAD = 16
"""Body frames read and not yet taken by the transport above which no further read starts
(so at most READ_AHEAD + READ_CHUNKS - 1 frames wait in memory)."""


class UploadSuperseded(Exception):
    """A newer upload of the same file (the client reconnected) took over from this one."""


class UploadSink:
    """Writes one upload's body to the partial file of ``file_id`` from ``offset``.

    ``queue`` is the file's :class:`~chat.serial.SerialQueue`, shared with any later
    upload of the same file, so a resume starts only after this one's writes are done.
    ``peer`` (chat.server.session.IPeer) stops and resumes reading for flow control, and its
    ``keep_alive()`` is called for every write that completes while it is paused (the peer is
    not silent, the disk is slow);
    ``progress()`` for every write that completes; ``size`` is the whole file's (big files
    bypass the page cache, see :mod:`chat.writeback`). ``finish()`` fires with whether the data
    matched ``sha256`` (the partial is then the file's blob, or deleted); ``abort()`` closes
    the partial, which stays for a resume, and fires with the bytes it holds.
    """

    log = Logger()

    def __init__(self, queue, store, file_id: int, sha256: str, offset: int, peer,
                 progress=lambda: None, size: int = 0, counted=lambda n: None):
        self.queue = queue
        self.store = store
        self.file_id = file_id
        self.sha256 = sha256
        self.offset = offset
        self.peer = peer
        self.progress = progress
        self.counted = counted     # bytes written to disk, for the metrics
        self.accepted = 0          # bytes taken from the connection
        self.queued = 0            # ... of which not yet written
        self.peak = 0              # the most that ever waited (tests check the bound)
        self.paused = False
        self.closed = False        # finishing, aborted or superseded: no more data
        self.superseded = False
        self._file = None
        self._digest = None
        self._failure = None
        self._batch = []                 # chunks for the next write in the pool
        self._writing = False            # a batch is in the pool
        self._hashing = SerialQueue(queue.run)   # beside the writes, in order of its own
        opened = queue.submit(store.open_partial, file_id, offset, size)
        opened.addCallbacks(self._opened, self._failed)
        self._hashing.after(opened)   # no hash before the digest exists (a resume rehashes)

    @property
    def position(self) -> int:
        """The offset in the file up to which the server has (or is writing) the bytes."""
        return self.offset + self.accepted

    def _opened(self, result) -> None:
        self._file, self._digest = result

    def _failed(self, failure) -> None:
        if self._failure is None:
            self._failure = failure
            log_failure(self.log, failure, "writing file {id}", id=self.file_id)

    # -- data in
    def write(self, data) -> None:
        if self.closed:
            return      # a superseded upload's frames still in flight: dropped
        n = len(data)
        self.accepted += n
        self.queued += n
        if self.queued > self.peak:
            self.peak = self.queued
        if self.queued >= HIGH_MARK and not self.paused:
            self.paused = True
            self.peer.pause_reading()
        # chunks that arrive while a write is in the pool go together in the next one: one
        # thread round trip per batch instead of per chunk
        self._batch.append(data)
        if not self._writing:
            self._submit_batch()

    def _submit_batch(self) -> None:
        batch, self._batch = self._batch, []   # taken on the reactor thread, never shared
        self._writing = True
        n = sum(len(data) for data in batch)
        written = self.queue.submit(self._write_batch, batch)
        hashed = self._hashing.submit(self._hash_batch, batch)
        defer.gatherResults([written, hashed], consumeErrors=True).addBoth(self._written, n)

    def _write_batch(self, batch) -> None:   # in the pool
        # _file and _failure were set on the reactor thread before this ran (SerialQueue runs
        # an operation only after the previous one's callbacks)
        if self._file is not None and self._failure is None:
            for data in batch:
                self.store.write(self._file, data)

    def _hash_batch(self, batch) -> None:    # in the pool, beside _write_batch
        # the digest comes with the opened partial, which this queue waited for; it is touched
        # by this queue alone until the commit
        if self._digest is not None:
            for data in batch:
                self._digest.update(data)

    def _written(self, result, n: int) -> None:
        if isinstance(result, Failure) and result.check(defer.FirstError):
            result = result.value.subFailure
        self._writing = False
        if self._batch:
            self._submit_batch()
        self.queued -= n
        if isinstance(result, Failure):
            self._failed(result)
        else:
            self.counted(n)
            self.progress()
        if self.paused:
            self.peer.keep_alive()
            if self.queued < LOW_MARK:
                self._resume()

    def _resume(self) -> None:
        if self.paused:
            self.paused = False
            self.peer.resume_reading()     # not if it is gone (IPeer.resume_reading)

    # -- the end
    def finish(self):
        """Every byte has arrived: fires with True (the file's blob now exists) or False (the
        hash did not match: the partial is deleted); fails if the disk failed."""
        self.closed = True
        self._resume()
        if self._batch:             # the last chunks go to the disk before the commit
            self._submit_batch()
        # the commit reads the digest: the file's queue holds until the last hash is done
        self.queue.after(self._hashing.submit(nothing))
        return self.queue.submit(self._commit)

    def _commit(self) -> bool:                 # in the pool
        if self.superseded:
            raise UploadSuperseded(f"a newer upload of file {self.file_id} took over")
        if self._failure is not None or self._file is None:
            if self._file is not None:
                self.store.close(self._file)
            raise OSError(f"file {self.file_id} could not be written")
        return self.store.commit(self._file, self._digest, self.file_id, self.sha256)

    def abort(self):
        """The connection was lost (or a newer upload took over): close the partial, which
        keeps what arrived. Fires with the bytes it holds (None if it had ended already)."""
        if self.closed:
            return defer.succeed(None)
        self.closed = True
        self._resume()
        if self._batch:             # what arrived is kept for the resume
            self._submit_batch()
        return self.queue.submit(self._close)

    def supersede(self):
        """Make way for a newer upload of the same file; fires like :meth:`abort`."""
        self.superseded = True
        return self.abort()

    def _close(self) -> int:                   # in the pool
        if self._file is not None:
            return self.store.close(self._file)
        return self.store.partial_size(self.file_id)


@implementer(interfaces.IPushProducer)
class DownloadProducer:
    """Streams bytes ``offset`` to ``size`` of the blob of ``sha256`` as body frames.

    The connection calls ``start(write, done)``: ``write(data)`` sends one body frame and
    ``done(complete)`` is called once, at the end (``complete`` false if it was stopped or the
    file could not be read). ``on_end(complete, sent)`` tells the file handlers.
    """

    log = Logger()

    def __init__(self, run, store, sha256: str, offset: int, size: int, on_end=None,
                 chunk: int = FILE_CHUNK, counted=lambda n: None):
        self.run = run
        self.store = store
        self.sha256 = sha256
        self.offset = offset
        self.length = size - offset
        self.on_end = on_end or (lambda complete, sent: None)
        self.chunk = chunk
        self.counted = counted         # bytes handed to the transport, for the metrics
        self.sent = 0
        self.paused = False
        self.ended = False
        self._write = None
        self._done = None
        self._file = None
        self._opening = False
        self._reading = False
        self._next = offset            # where the next read starts
        self._ready: deque = deque()   # chunks read and not yet written
        self._pumping = False
        self._again = False

    def start(self, write, done) -> None:
        if self.ended:
            return
        self._write, self._done = write, done
        if self.length <= 0:
            return self._end(True)
        self._opening = True
        self.run(self.store.open_blob, self.sha256, self.offset + self.length).addCallbacks(
            self._opened, self._failed)

    def _opened(self, f) -> None:
        self._opening = False
        self._file = f
        if self.ended:
            return self._close()
        self._pump()

    def _pump(self) -> None:
        # a synchronous file runner (tests) calls back into here from inside a read; looping
        # instead of recursing keeps the stack flat for a file of any size
        if self._pumping:
            self._again = True
            return
        self._pumping = True
        try:
            self._again = True
            while self._again and not self.ended:
                self._again = False
                self._step()
        finally:
            self._pumping = False

    def _step(self) -> None:
        while self._ready and not self.paused and not self.ended:
            data = self._ready.popleft()
            self.sent += len(data)
            self.counted(len(data))
            try:
                self._write(data)    # may call pauseProducing at once (the transport is full)
            except Exception:
                # a bug, not the disk; but the download must end, not hang (the client resumes)
                return self._failed(Failure())
        if self.ended:
            return
        if self.sent >= self.length:
            return self._end(True)
        if (self._reading or self._file is None
                or len(self._ready) >= READ_AHEAD or self._next >= self.offset + self.length):
            return
        size = min(self.chunk * READ_CHUNKS, self.offset + self.length - self._next)
        position, self._next = self._next, self._next + size
        self._reading = True
        self.run(self.store.read, self._file, position, size, self.chunk).addCallbacks(
            self._read, self._failed, callbackArgs=(size,))

    def _read(self, pieces: list, size: int) -> None:
        self._reading = False
        if self.ended:
            return self._close()
        if sum(map(len, pieces)) != size:
            return self._failed(Failure(OSError(
                f"the file {self.sha256[:12]}... is shorter than recorded")))
        self._ready.extend(pieces)
        self._pump()

    def _failed(self, failure) -> None:
        self._opening = self._reading = False
        if not self.ended:
            self.log.failure("a download of file {sha} failed", failure,
                             sha=self.sha256[:12])
            self._end(False)
        self._close()

    def _end(self, complete: bool) -> None:
        if self.ended:
            return
        self.ended = True
        self._ready.clear()
        if not self._reading and not self._opening:
            self._close()
        if self._done is not None:
            self._done(complete)
        self.on_end(complete, self.sent)

    def _close(self) -> None:
        if self._file is not None:
            f, self._file = self._file, None
            self.run(self.store.close_blob, f).addErrback(lambda _: None)

    # -- IPushProducer
    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        if self.paused:
            self.paused = False
            if self._write is not None:
                self._pump()

    def stopProducing(self) -> None:
        self._end(False)
