"""The pieces that move a file's bytes on the client, without a server: upload stream,
download sink, hostile names on the receiving side, progress and speed."""

import hashlib
import os
import tempfile

from twisted.internet import defer
from twisted.internet.testing import StringTransport
from twisted.trial import unittest

from chat.client.transfers import (
    HIGH_WATER, READ_CHUNKS, ChecksumMismatch, DownloadSink, Transfer, TransferState, UploadStream,
    hash_file, partial_path)
from chat.protocol.errors import ProtocolError
from chat.client.savename import save_path
from chat.protocol.framing import FILE_CHUNK


def run_now(f, *args):
    """The thread runner of the tests: call at once."""
    return defer.maybeDeferred(f, *args)


class HeldRunner:
    """A thread runner whose calls wait until ``release()``: a slow disk."""

    def __init__(self):
        self.calls = []

    def __call__(self, f, *args):
        d = defer.Deferred()
        self.calls.append((d, f, args))
        return d

    def release(self, n=None):
        todo, self.calls = (self.calls, []) if n is None else (self.calls[:n], self.calls[n:])
        for d, f, args in todo:
            d.callback(f(*args))


class FakeConnection:
    """What UploadStream and DownloadSink use of a ClientConnection."""

    def __init__(self):
        self.transport = StringTransport()
        self.connected = True
        self.frames = []

    def write_body(self, request_id, data):
        self.frames.append((request_id, bytes(data)))

    def abort(self):
        self.connected = False


class UploadTests(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.data = os.urandom(FILE_CHUNK * READ_CHUNKS * 2 + 1000)
        self.path = os.path.join(self.dir, "data.bin")
        with open(self.path, "wb") as f:
            f.write(self.data)

    def test_hash(self):
        digest, size = self.successResultOf(hash_file(self.path, run_now))
        self.assertEqual((digest, size), (hashlib.sha256(self.data).hexdigest(), len(self.data)))

    def test_hash_in_steps_reports_how_far(self):
        from chat.client import transfers
        self.patch(transfers, "HASH_STEP", 4096)
        seen = []
        runner = HeldRunner()
        d = hash_file(self.path, runner, lambda done, size: seen.append((done, size)))
        steps = 0
        while runner.calls:                  # one trip to the thread per step, one at a time
            self.assertEqual(len(runner.calls), 1)
            runner.release()
            steps += 1
        self.assertEqual(steps, len(self.data) // 4096 + 1)
        self.assertEqual(self.successResultOf(d),
                         (hashlib.sha256(self.data).hexdigest(), len(self.data)))
        self.assertEqual(seen, [(4096 * n, len(self.data)) for n in range(1, steps)])

    def test_hash_in_steps_stops_when_cancelled(self):
        from chat.client import transfers
        self.patch(transfers, "HASH_STEP", 4096)
        runner = HeldRunner()
        d = hash_file(self.path, runner, lambda done, size: None)
        runner.release()
        d.cancel()
        self.failureResultOf(d, defer.CancelledError)
        runner.release()                     # the step under way when it was cancelled
        self.assertEqual(runner.calls, [])   # and no other after it

    def test_stream_from_an_offset_in_chunks(self):
        conn, progress = FakeConnection(), []
        stream = UploadStream(self.path, 1000, len(self.data), run_now, progress.append)
        self.assertEqual(stream.size, len(self.data) - 1000)
        stream.start(conn, 7)
        self.assertEqual([len(d) for _, d in conn.frames], [FILE_CHUNK] * 2 * READ_CHUNKS)
        self.assertEqual(b"".join(d for _, d in conn.frames), self.data[1000:])
        self.assertEqual(progress[-1], len(self.data))
        self.assertIsNone(conn.transport.producer)      # unregistered at the end

    def test_pause_stops_reading(self):
        conn, runner = FakeConnection(), HeldRunner()
        stream = UploadStream(self.path, 0, len(self.data), runner, lambda n: None)
        stream.start(conn, 7)
        self.assertIs(conn.transport.producer, stream)
        stream.pauseProducing()
        runner.release()                 # the read in flight completes and is written...
        self.assertEqual(len(conn.frames), READ_CHUNKS)
        self.assertEqual(runner.calls, [])   # ...but no new read starts while paused
        stream.resumeProducing()
        runner.release()
        runner.release()
        self.assertEqual(b"".join(d for _, d in conn.frames), self.data)

    def test_file_shrinking_underway_aborts(self):
        conn = FakeConnection()
        stream = UploadStream(self.path, 0, len(self.data) + 10, run_now, lambda n: None)
        stream.start(conn, 7)
        self.assertIsNotNone(stream.failed)
        self.assertFalse(conn.connected)


    def test_cancel_stops_at_once_and_closes_after_the_read_in_flight(self):
        conn, runner = FakeConnection(), HeldRunner()
        stream = UploadStream(self.path, 0, len(self.data), runner, lambda n: None)
        stream.start(conn, 7)
        runner.release()                 # the first read: written
        self.assertEqual(len(conn.frames), READ_CHUNKS)
        stream.cancel()                  # the second read is in the thread
        self.assertIsNone(conn.transport.producer)
        self.assertIsNotNone(stream._file)   # not closed under the reading thread
        runner.release()                 # the read comes back: dropped, and the file closes
        runner.release()
        self.assertEqual(len(conn.frames), READ_CHUNKS)
        self.assertIsNone(stream._file)
        self.assertEqual(runner.calls, [])
        self.assertTrue(conn.connected)  # a cancel is no failure: the link stays
        self.assertIsNone(stream.failed)
        stream.cancel()                  # twice is harmless


class DownloadTests(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.folder = os.path.join(self.dir, "downloads")
        self.data = os.urandom(FILE_CHUNK * 3 + 5)
        self.view = {"id": 31, "name": "report.pdf", "size": len(self.data),
                     "sha256": hashlib.sha256(self.data).hexdigest()}

    def sink(self, runner=run_now, view=None):
        begun, progress = [], []
        sink = DownloadSink(self.folder, 31, runner, begun.append, progress.append)
        sink.conn = FakeConnection()
        sink.begun, sink.progress = begun, progress
        return sink

    def receive(self, sink, data, offset=0, view=None):
        self.assertEqual(self.successResultOf(sink.prepare()), offset)
        sink.begin({"file": view or self.view, "offset": offset}, len(data) - offset)
        for start in range(offset, len(data), FILE_CHUNK):
            sink.write(data[start:start + FILE_CHUNK])
        return sink.finish()

    def test_saved_verified_and_never_overwriting(self):
        os.makedirs(self.folder)
        with open(os.path.join(self.folder, "report.pdf"), "wb") as f:
            f.write(b"an older report")
        sink = self.sink()
        self.successResultOf(self.receive(sink, self.data))
        self.assertEqual(sink.final_path, os.path.join(os.path.realpath(self.folder),
                                                       "report (1).pdf"))
        with open(sink.final_path, "rb") as f:
            self.assertEqual(f.read(), self.data)
        with open(os.path.join(self.folder, "report.pdf"), "rb") as f:
            self.assertEqual(f.read(), b"an older report")
        self.assertFalse(os.path.exists(partial_path(self.folder, 31)))

    def test_resume_from_the_partial_file(self):
        os.makedirs(self.folder)
        with open(partial_path(self.folder, 31), "wb") as f:
            f.write(self.data[:FILE_CHUNK + 7])
        sink = self.sink()
        self.successResultOf(self.receive(sink, self.data, offset=FILE_CHUNK + 7))
        with open(sink.final_path, "rb") as f:
            self.assertEqual(f.read(), self.data)

    def test_mismatch_is_never_received(self):
        sink = self.sink()
        bad = dict(self.view, sha256="0" * 64)
        self.failureResultOf(self.receive(sink, self.data, view=bad), ChecksumMismatch)
        self.assertEqual(os.listdir(self.folder), [])   # neither the file nor the partial

    def test_a_full_disk_fails_the_download_and_keeps_what_was_written(self):
        written = []

        def full_disk(f, *args):
            if f.__name__ == "_write_batch" and written:
                return defer.fail(OSError(28, "No space left on device"))
            if f.__name__ == "_write_batch":
                written.append(1)
            return run_now(f, *args)
        sink = self.sink(full_disk)
        failure = self.failureResultOf(self.receive(sink, self.data), OSError)
        self.assertEqual(failure.value.errno, 28)
        sink.abort()
        with open(partial_path(self.folder, 31), "rb") as f:
            self.assertEqual(f.read(), self.data[:FILE_CHUNK])   # kept for a resume
        self.assertEqual(os.listdir(self.folder), [".chat-31.part"])   # never "received"

    def test_discard_without_prepare_removes_an_earlier_partial(self):
        path = partial_path(self.dir, 9)
        with open(path, "wb") as f:
            f.write(b"from an earlier run")
        sink = DownloadSink(self.dir, 9, run_now, None, None)
        self.successResultOf(sink.discard())
        self.assertFalse(os.path.exists(path))
        self.successResultOf(sink.discard())     # nothing there: no error

    def test_abort_keeps_the_partial(self):
        sink = self.sink()
        self.successResultOf(sink.prepare())
        sink.begin({"file": self.view, "offset": 0}, len(self.data))
        sink.write(self.data[:FILE_CHUNK])
        sink.abort()
        with open(partial_path(self.folder, 31), "rb") as f:
            self.assertEqual(f.read(), self.data[:FILE_CHUNK])

    def test_hostile_names_from_the_server_stay_in_the_folder(self):
        for name in ("../../escape.txt", "/etc/passwd", "C:\\Windows\\x.dll", "CON",
                     "a\x00b", ".."):
            sink = self.sink()
            view = dict(self.view, name=name)
            self.failureResultOf(self.receive(sink, self.data, view=view), ProtocolError)
            os.remove(partial_path(self.folder, 31))
        sink = self.sink()
        self.successResultOf(self.receive(sink, self.data, view=dict(self.view, name="dir/ok.txt")))
        self.assertEqual(os.path.dirname(sink.final_path), os.path.realpath(self.folder))
        self.assertEqual(os.listdir(self.dir), ["downloads"])

    def test_symlink_in_the_folder_does_not_lead_out(self):
        os.makedirs(self.folder)
        outside = os.path.join(self.dir, "outside")
        os.symlink(outside, os.path.join(self.folder, "trap.txt"))
        path = save_path(self.folder, "trap.txt")
        self.assertEqual(path, os.path.join(os.path.realpath(self.folder), "trap (1).txt"))

    def test_slow_disk_pauses_the_transport(self):
        self.data = os.urandom(HIGH_WATER + 2 * FILE_CHUNK)
        self.view = dict(self.view, size=len(self.data),
                         sha256=hashlib.sha256(self.data).hexdigest())
        runner = HeldRunner()
        sink = self.sink(runner)
        d = sink.prepare()
        runner.release()
        self.successResultOf(d)
        sink.begin({"file": self.view, "offset": 0}, len(self.data))
        for start in range(0, len(self.data), FILE_CHUNK // 4):
            sink.write(self.data[start:start + FILE_CHUNK // 4])
        self.assertEqual(sink.conn.transport.producerState, "paused")
        self.assertGreater(sink._queued, HIGH_WATER)
        done = sink.finish()
        while runner.calls:
            runner.release(1)
        self.assertEqual(sink.conn.transport.producerState, "producing")
        self.successResultOf(done)


    def test_write_and_hash_run_side_by_side_in_any_order(self):
        # a resume: the digest must take the partial's bytes first, then every chunk in order,
        # and the check must wait for the last hash, whichever thread finishes first
        os.makedirs(self.folder)
        offset = FILE_CHUNK + 5
        with open(partial_path(self.folder, 31), "wb") as f:
            f.write(self.data[:offset])
        runner = HeldRunner()
        sink = self.sink(runner)
        prepared = sink.prepare()
        sink.begin({"file": self.view, "offset": offset}, len(self.data) - offset)
        sink.write(self.data[offset:offset + 100])     # before the partial was even opened
        sink.write(self.data[offset + 100:offset + FILE_CHUNK])
        runner.calls.reverse()                          # a hash would beat the open
        runner.release()
        self.assertEqual(self.successResultOf(prepared), offset)
        sink.write(self.data[offset + FILE_CHUNK:])
        done = sink.finish()
        while runner.calls:                             # the check would beat the last hash
            hashes = [c for c in runner.calls if c[1].__name__ == "_hash_batch"]
            others = [c for c in runner.calls if c not in hashes]
            runner.calls = others + hashes
            runner.release(1)
        self.successResultOf(done)
        with open(sink.final_path, "rb") as f:
            self.assertEqual(f.read(), self.data)


class TransferTests(unittest.TestCase):

    def test_percent_and_speed(self):
        t = Transfer("up", "x", 1000)
        t.moved(10.0, 0)
        t.moved(10.5, 250)
        t.moved(11.0, 500)
        self.assertEqual(t.percent, 50.0)
        self.assertEqual(t.speed, 500.0)
        t.moved(14.0, 800)       # the window forgets samples older than 2 s
        self.assertAlmostEqual(t.speed, 100.0)
        self.assertEqual(Transfer("up", "empty", 0, state=TransferState.DONE).percent, 100.0)
