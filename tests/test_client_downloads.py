"""Downloads that are really verified: one transfer per file and folder, a partial file held
by one download only, the SHA-256 taken over what is on the disk, a changed partial detected
and fetched again; the client core against a real ChatServer in memory."""

import hashlib
import os
import random
import shutil
import tempfile

try:
    import fcntl
except ImportError:
    fcntl = None

from twisted.internet import defer

from chat.client.transfers import DownloadSink, TransferState, partial_path
from chat.protocol.framing import FILE_CHUNK
from chat.server.files.io import FileIO
from tests import test_client_core as core_tests
from tests.test_client_core import ClientTestCase, Runner


class DownloadIntegrityTests(ClientTestCase):

    # the server with held file I/O and the shared file of the cancel tests
    setUp = core_tests.TransferCancelTests.setUp
    shared_file = core_tests.TransferCancelTests.shared_file

    def data(self, size, seed=1):
        return random.Random(seed).randbytes(size)

    def read(self, path):
        with open(path, "rb") as f:
            return f.read()

    def test_the_same_file_twice_at_once_is_one_download(self):
        # the bug: two downloads appended to one partial file, 11 bytes saved as 22 with the
        # wrong SHA-256 and "verified"; the second then failed on the vanished partial
        data = b"hello world"
        file_id = self.shared_file(data)
        bob = self.client("bob", run_in_thread=Runner())
        self.server_io.holding = True
        first = bob.download(file_id, self.folder)
        second = bob.download(file_id, self.folder + "/")     # the same folder
        self.assertIs(second, first)
        self.assertIs(bob.downloading(file_id, self.folder), first)
        self.server_io.holding = False
        self.server_io.release()
        self.net.pump()
        self.assertEqual(first.state, TransferState.DONE, first.error)
        self.assertEqual(os.listdir(self.folder), ["shared.bin"])
        self.assertEqual(self.read(first.path), data)
        self.assertIsNone(bob.downloading(file_id, self.folder))

    def test_the_same_file_twice_one_after_the_other(self):
        data = self.data(3 * FILE_CHUNK + 11)
        file_id = self.shared_file(data)
        bob = self.client("bob", run_in_thread=Runner())
        first = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(first.state, TransferState.DONE, first.error)
        second = bob.download(file_id, self.folder)
        self.assertIsNot(second, first)
        self.net.pump()
        self.assertEqual(second.state, TransferState.DONE, second.error)
        self.assertEqual(second.resumed_from, 0)
        self.assertEqual(sorted(os.listdir(self.folder)), ["shared (1).bin", "shared.bin"])
        self.assertEqual(self.read(first.path), data)
        self.assertEqual(self.read(second.path), data)

    def test_a_partial_left_by_a_killed_client_is_resumed(self):
        data = self.data(4 * FILE_CHUNK + 3)
        file_id = self.shared_file(data)
        os.makedirs(self.folder)
        with open(partial_path(self.folder, file_id), "wb") as f:
            f.write(data[:2 * FILE_CHUNK + 5])       # what was on disk when it was killed
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.DONE, transfer.error)
        self.assertEqual(transfer.resumed_from, 2 * FILE_CHUNK + 5)
        self.assertFalse(transfer.restarted)
        self.assertEqual(self.read(transfer.path), data)
        self.assertEqual(os.listdir(self.folder), ["shared.bin"])

    def test_a_partial_changed_on_disk_is_detected_and_downloaded_again(self):
        data = self.data(4 * FILE_CHUNK + 3)
        file_id = self.shared_file(data)
        os.makedirs(self.folder)
        changed = bytearray(data[:2 * FILE_CHUNK])
        changed[100] ^= 0xFF
        with open(partial_path(self.folder, file_id), "wb") as f:
            f.write(changed)
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.DONE, transfer.error)
        self.assertTrue(transfer.restarted)
        self.assertEqual(transfer.resumed_from, 0)       # the second attempt, from zero
        self.assertEqual(self.read(transfer.path), data)
        self.assertEqual(os.listdir(self.folder), ["shared.bin"])

    def test_a_partial_longer_than_the_file_is_downloaded_again(self):
        data = self.data(FILE_CHUNK + 3)
        file_id = self.shared_file(data)
        os.makedirs(self.folder)
        with open(partial_path(self.folder, file_id), "wb") as f:
            f.write(data + b"more than the file has")
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.DONE, transfer.error)
        self.assertTrue(transfer.restarted)
        self.assertEqual(self.read(transfer.path), data)

    def test_a_partial_held_by_another_program_is_not_shared(self):
        if fcntl is None:
            self.skipTest("no advisory locks on this system")
        data = self.data(FILE_CHUNK)
        file_id = self.shared_file(data)
        os.makedirs(self.folder)
        other = open(partial_path(self.folder, file_id), "ab")   # another chat-cli's download
        self.addCleanup(other.close)
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        other.write(b"its own bytes")
        other.flush()
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.FAILED)
        self.assertEqual(transfer.error[0], "busy")
        self.assertIn("already being downloaded", transfer.error[1])
        self.assertEqual(self.read(partial_path(self.folder, file_id)), b"its own bytes")
        # a cancelled download elsewhere does not delete the partial the other one holds
        self.successResultOf(DownloadSink(self.folder, file_id, Runner(), None, None).discard())
        self.assertTrue(os.path.exists(partial_path(self.folder, file_id)))

    def test_a_killed_program_leaves_no_lock(self):
        # the lock belongs to the open file: a killed program's goes with its process
        data = self.data(FILE_CHUNK + 1)
        file_id = self.shared_file(data)
        os.makedirs(self.folder)
        other = open(partial_path(self.folder, file_id), "ab")
        if fcntl is not None:
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        other.write(data[:10])
        other.close()                                    # what the kernel does at a kill
        bob = self.client("bob", run_in_thread=Runner())
        transfer = bob.download(file_id, self.folder)
        self.net.pump()
        self.assertEqual(transfer.state, TransferState.DONE, transfer.error)
        self.assertEqual(transfer.resumed_from, 10)

    def test_a_name_too_long_for_the_disk_is_shortened_keeping_the_extension(self):
        data = self.data(1000)
        carol_name = "报" * 86 + ".pdf"                   # 262 bytes in UTF-8
        from tests.harness import user
        from chat.protocol.framing import encode_body_frame
        carol = user(self.server, "carol")
        offered = carol.ok("file_offer", to="#lobby", name=carol_name, size=len(data),
                           sha256=hashlib.sha256(data).hexdigest())
        file_id = offered["file"]["id"]
        carol._next_id += 1
        carol.send({"type": "upload", "id": carol._next_id, "file": file_id, "offset": 0,
                    "body": len(data)})
        carol.raw(encode_body_frame(carol._next_id, data))
        self.assertEqual(carol.reply(carol._next_id)["type"], "ok")
        bob = self.client("bob", run_in_thread=Runner())
        first = bob.download(file_id, self.folder)
        self.net.pump()
        second = bob.download(file_id, self.folder)
        self.net.pump()
        for transfer in (first, second):
            self.assertEqual(transfer.state, TransferState.DONE, transfer.error)
            name = os.path.basename(transfer.path)
            self.assertLessEqual(len(name.encode()), 255)
            self.assertTrue(name.endswith(".pdf"), name)
            self.assertEqual(self.read(transfer.path), data)
        self.assertTrue(os.path.basename(second.path).endswith(" (1).pdf"))
        self.assertEqual(len(os.listdir(self.folder)), 2)      # no .part left behind


class DiskIsWhatIsHashedTests(ClientTestCase):
    """The sink alone: what is hashed is what was read back from the partial file."""

    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_a_byte_changed_on_disk_after_its_write_fails_the_check(self):
        data = random.Random(9).randbytes(3 * FILE_CHUNK)
        view = {"id": 5, "name": "x.bin", "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
        runner = Runner()
        runner.holding = True
        sink = DownloadSink(self.dir, 5, runner, lambda d: None, lambda n: None)
        prepared = sink.prepare()
        runner.release(1)
        self.assertEqual(self.successResultOf(prepared), 0)
        sink.begin({"file": view, "offset": 0}, len(data))
        sink.write(data[:FILE_CHUNK])
        runner.release(1)                        # the first batch is written, not yet hashed
        with open(partial_path(self.dir, 5), "r+b") as f:
            f.seek(7)
            f.write(b"X")                        # the disk holds something else now
        sink.write(data[FILE_CHUNK:])
        done = sink.finish()
        runner.holding = False
        runner.release()
        self.failureResultOf(done)
        self.assertEqual(os.listdir(self.dir), [])      # nothing saved, no partial kept

    def test_hashing_and_writing_never_run_on_the_calling_thread(self):
        calls = []

        def run(f, *args):
            calls.append(f.__name__)
            return defer.maybeDeferred(f, *args)
        data = b"abc" * 1000
        view = {"id": 6, "name": "y.bin", "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
        sink = DownloadSink(self.dir, 6, run, lambda d: None, lambda n: None)
        self.successResultOf(sink.prepare())
        sink.begin({"file": view, "offset": 0}, len(data))
        sink.write(data)
        self.successResultOf(sink.finish())
        self.assertEqual(set(calls) - {"nothing"},
                         {"_prepare", "_write_batch", "_hash_batch", "_complete"})
