"""Faults while storing: a locked database, a full disk, a client that vanishes mid-upload.

The rule under test: a sender hears ``ok`` only for what is stored; a storage fault is an
``error`` (``server_error``) to whoever asked, the server and everybody else go on, and once the
fault is gone the next requests succeed with nothing acknowledged before lost.

The locked database and the full disk use the real SQLiteStorage (its thread; the reactor
runs). "Locked" is another sqlite3 connection holding ``BEGIN EXCLUSIVE`` on the same file for
longer than the storage's busy timeout. "Full" is a real small filesystem: a tmpfs mounted for
the test (root only; skipped elsewhere) and filled up with a ballast file, whose removal is
"space returns".
"""

import os
import shutil
import sqlite3
import subprocess
import tempfile

from twisted.internet import defer, task
from twisted.trial import unittest

from chat.client.outbox import OutState
from chat.protocol.errors import NO_SPACE, QUOTA_EXCEEDED, SERVER_ERROR
from chat.protocol.framing import FILE_CHUNK
from chat.server.core import ChatServer, ServerConfig
from chat.server.storage import StorageError
from chat.server.storage.memory import MemoryStorage
from chat.server.storage.sqlite import SQLiteStorage
from tests.harness import (
    AwaitedReplies, Client, fast_hasher, make_server, sync_file_io, user)
from tests.test_client_core import ClientTestCase
from tests.test_server_files import (
    files_on_disk, next_id, offer, random_bytes, send_body, sha, start_upload, take_body,
    temp_dir, upload)


# -- a small filesystem that can be filled up

def small_filesystem(case, size_kib: int) -> str:
    """A tmpfs of ``size_kib`` mounted for the test, unmounted after it (skip if not root)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        raise unittest.SkipTest("mounting a small filesystem needs root")
    path = tempfile.mkdtemp(prefix="chat-small-fs-")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", path],
                          capture_output=True)
    if done.returncode != 0:
        os.rmdir(path)
        raise unittest.SkipTest(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")

    def unmount():
        subprocess.run(["umount", "-l", path], capture_output=True)
        os.rmdir(path)
    case.addCleanup(unmount)
    return path


def fill(root: str, leave: int = 0) -> str:
    """Write a ballast file until the filesystem of ``root`` is full (but for about ``leave``
    bytes); returns its path. Removing it is "space returns"."""
    ballast = os.path.join(root, "ballast")
    with open(ballast, "wb", buffering=0) as f:
        block = b"\0" * 65536
        while True:
            free = shutil.disk_usage(root).free - leave
            if free <= 0:
                break
            try:
                f.write(block[:min(len(block), free)])
            except OSError:
                break
    return ballast


# -- a server on SQLite, talked to while the reactor runs

class SQLiteServerCase(AwaitedReplies, unittest.TestCase):
    """A ChatServer on a real SQLiteStorage; file I/O synchronous, timers on a task.Clock."""

    timeout = 60
    busy_timeout_ms = 200
    disk_reserve = ServerConfig.disk_reserve

    def setUp(self):
        self.root = temp_dir(self)
        self.clock = task.Clock()
        self.clock.advance(1_800_000_000)
        self.server = None

    def tearDown(self):
        return self.server.stop() if self.server is not None else None

    @defer.inlineCallbacks
    def start(self):
        if self.server is not None:
            yield self.server.stop()
        self.server = ChatServer(
            ServerConfig(files_dir=os.path.join(self.root, "files"),
                         disk_reserve=self.disk_reserve),
            SQLiteStorage(os.path.join(self.root, "chat.db"), synchronous="NORMAL",
                          busy_timeout_ms=self.busy_timeout_ms),
            fast_hasher(), self.clock, file_io=sync_file_io())
        yield self.server.start()

    @property
    def db(self) -> str:
        return os.path.join(self.root, "chat.db")

    REPLY_POLLS = 5000        # a locked database answers only after its busy timeout

    @defer.inlineCallbacks
    def failed(self, client, kind, **fields):
        """The request must get ``server_error`` with a message for humans."""
        reply = yield self.request(client, kind, **fields)
        self.assertEqual((reply["type"], reply["code"]), ("error", SERVER_ERROR), reply)
        self.assertTrue(reply["message"])
        return reply

    @defer.inlineCallbacks
    def login(self, name, register=False):
        client = Client(self.server)
        yield self.ok(client, "hello", version=1)
        if register:
            yield self.ok(client, "register", username=name, password="correct horse")
        yield self.ok(client, "login", username=name, password="correct horse")
        client.events()
        return client

    @defer.inlineCallbacks
    def texts(self, client, conv="#lobby"):
        history = yield self.ok(client, "history", conv=conv)
        return [(m["id"], m.get("text")) for m in history["messages"]]

    def live_texts(self, client):
        self.clock.advance(0)          # the turn flusher's end of turn (on the test clock)
        return [event["msg"]["text"] for event in client.events("message")]

    @defer.inlineCallbacks
    def still_serving(self, *clients):
        """Every client is connected and answered (a ping goes through the server)."""
        for client in clients:
            self.assertFalse(client.closed)
            yield self.ok(client, "ping")


class DatabaseLockedTests(SQLiteServerCase):

    @defer.inlineCallbacks
    def test_send_while_locked_is_an_error_and_recovers_when_the_lock_goes(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        bob = yield self.login("bob", register=True)
        before = yield self.ok(alice, "send", to="#lobby", text="before", cid="c1")
        self.assertEqual(self.live_texts(bob), ["before"])
        self.assertEqual(self.live_texts(alice), ["before"])   # the sender's own copy

        locker = sqlite3.connect(self.db, isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("BEGIN EXCLUSIVE")    # held much longer than the 200 ms busy timeout
        try:
            yield self.failed(alice, "send", to="#lobby", text="during", cid="c2")
            yield self.failed(bob, "send", to="#lobby", text="bob's", cid="b1")
            self.assertEqual(self.live_texts(bob), [])        # nothing stored, nothing shown
            self.assertEqual(self.live_texts(alice), [])
            # the server goes on: both stay connected, and reading works (WAL readers do not
            # wait for a writer)
            yield self.still_serving(alice, bob)
            self.assertEqual((yield self.texts(bob)), [(before["msg_id"], "before")])
        finally:
            locker.execute("ROLLBACK")

        # the lock is gone: the client's retry (same cid) is stored once, and so is bob's
        during = yield self.ok(alice, "send", to="#lobby", text="during", cid="c2")
        self.assertFalse(during["duplicate"])
        self.assertGreater(during["msg_id"], before["msg_id"])
        yield self.ok(bob, "send", to="#lobby", text="bob's", cid="b1")
        again = yield self.ok(alice, "send", to="#lobby", text="during", cid="c2")
        self.assertEqual((again["msg_id"], again["duplicate"]), (during["msg_id"], True))
        self.assertEqual(self.live_texts(bob), ["during", "bob's"])
        yield self.start()                                   # and it is on the disk
        carol = yield self.login("carol", register=True)
        self.assertEqual([text for _, text in (yield self.texts(carol))],
                         ["before", "during", "bob's"])

    @defer.inlineCallbacks
    def test_other_writes_fail_the_same_way(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        locker = sqlite3.connect(self.db, isolation_level=None)
        self.addCleanup(locker.close)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            yield self.failed(alice, "create_room", room="dev")
            yield self.failed(alice, "file_offer", to="#lobby", name="a", size=3,
                              sha256=sha(b"abc"))
            yield self.still_serving(alice)
        finally:
            locker.execute("ROLLBACK")
        yield self.ok(alice, "create_room", room="dev")
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="a", size=3,
                                sha256=sha(b"abc"))
        self.assertEqual(offered["offset"], 0)


class DiskFullTests(SQLiteServerCase):
    """The data directory (database and files) on a 4 MiB tmpfs, filled by a ballast file."""

    disk_reserve = 64 * 1024       # of a 4 MiB disk

    def setUp(self):
        super().setUp()
        self.root = small_filesystem(self, 4096)

    @defer.inlineCallbacks
    def test_offer_the_disk_has_no_room_for_is_refused_before_any_byte(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        bob = yield self.login("bob", register=True)
        data = random_bytes(8 * FILE_CHUNK, seed=9)          # 2 MiB
        ballast = fill(self.root, leave=len(data))           # room for it, but not the reserve
        reply = yield self.request(alice, "file_offer", to="#lobby", name="big.bin",
                                   size=len(data), sha256=sha(data))
        self.assertEqual((reply["type"], reply["code"]), ("error", NO_SPACE), reply)
        self.assertIn("big.bin (2,097,152 bytes to send)", reply["message"])
        self.assertIn("try again later", reply["message"])
        self.assertEqual(self.server.files.catalog.partials, {})   # no file record was made
        self.assertEqual([path for path in files_on_disk(self.root)
                          if path.startswith(os.path.join("files", "partial"))], [])
        self.assertEqual(self.flushLoggedErrors(), [])        # a refusal, not a failure
        yield self.still_serving(alice, bob)
        os.remove(ballast)                                    # space returns
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="big.bin",
                                size=len(data), sha256=sha(data))
        self.assertEqual(offered["offset"], 0)

    @defer.inlineCallbacks
    def test_room_owed_to_a_running_upload_is_not_offered_twice(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        bob = yield self.login("bob", register=True)
        first = random_bytes(4 * FILE_CHUNK, seed=10)        # 1 MiB each
        second = random_bytes(4 * FILE_CHUNK, seed=11)
        ballast = fill(self.root, leave=len(first) + len(second) // 2 + self.disk_reserve)
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="first.bin",
                                size=len(first), sha256=sha(first))
        # running, 3/4 still to come
        request_id = start_upload(alice, offered["file"]["id"], first[:FILE_CHUNK],
                                  body=len(first))
        reply = yield self.request(bob, "file_offer", to="#lobby", name="second.bin",
                                   size=len(second), sha256=sha(second))
        self.assertEqual((reply["type"], reply["code"]), ("error", NO_SPACE), reply)
        send_body(alice, request_id, first[FILE_CHUNK:])
        done = yield self.reply(alice, request_id)
        self.assertEqual(done["type"], "ok", done)
        os.remove(ballast)

    @defer.inlineCallbacks
    def test_content_the_server_holds_needs_no_room(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        data = random_bytes(4 * FILE_CHUNK, seed=12)
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="a.bin",
                                size=len(data), sha256=sha(data))
        request_id = start_upload(alice, offered["file"]["id"], data)
        self.assertEqual((yield self.reply(alice, request_id))["type"], "ok")
        # room for the database's new record, not for the file's bytes and the reserve
        ballast = fill(self.root, leave=self.disk_reserve + len(data) // 2)
        again = yield self.ok(alice, "file_offer", to="#lobby", name="again.bin",
                              size=len(data), sha256=sha(data))
        self.assertEqual(again["offset"], len(data))          # published from what is held
        new = random_bytes(4 * FILE_CHUNK, seed=13)           # while new content is refused
        reply = yield self.request(alice, "file_offer", to="#lobby", name="new.bin",
                                   size=len(new), sha256=sha(new))
        self.assertEqual(reply.get("code"), NO_SPACE, reply)
        os.remove(ballast)

    @defer.inlineCallbacks
    def test_send_on_a_full_disk_is_an_error_and_recovers_when_space_returns(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        bob = yield self.login("bob", register=True)
        acked = []
        for n in range(3):
            acked.append((yield self.ok(alice, "send", to="#lobby", text=f"before {n}",
                                        cid=f"b{n}")))
        bob.events()

        ballast = fill(self.root)
        for n in range(3):     # every attempt fails, none is acknowledged
            yield self.failed(alice, "send", to="#lobby", text="during", cid="d")
        self.assertEqual(self.live_texts(bob), [])
        yield self.still_serving(alice, bob)
        self.assertEqual([text for _, text in (yield self.texts(bob))],
                         ["before 0", "before 1", "before 2"])

        os.remove(ballast)                                   # space returns
        during = yield self.ok(alice, "send", to="#lobby", text="during", cid="d")
        self.assertFalse(during["duplicate"])
        yield self.ok(bob, "send", to="#lobby", text="after", cid="a")
        self.assertEqual(self.live_texts(bob), ["during", "after"])
        yield self.start()
        carol = yield self.login("carol", register=True)
        history = yield self.texts(carol)
        self.assertEqual([text for _, text in history],
                         ["before 0", "before 1", "before 2", "during", "after"])
        self.assertEqual([i for i, _ in history[:3]], [a["msg_id"] for a in acked])

    @defer.inlineCallbacks
    def test_upload_on_a_full_disk_is_an_error_and_resumes_when_space_returns(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        bob = yield self.login("bob", register=True)
        data = random_bytes(8 * FILE_CHUNK, seed=7)          # 2 MiB, more than is left
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="big.bin",
                                size=len(data), sha256=sha(data))
        file_id = offered["file"]["id"]
        partial = os.path.join("files", "partial", str(file_id))

        ballast = fill(self.root, leave=3 * FILE_CHUNK // 2)
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                    "body": len(data)})
        send_body(alice, request_id, data)
        reply = yield self.reply(alice, request_id)
        self.assertEqual((reply["type"], reply["code"]), ("error", SERVER_ERROR), reply)
        # the partial keeps what reached the disk (a prefix of the file), for a resume
        held = files_on_disk(self.root)[partial]
        self.assertLess(held, len(data))
        with open(os.path.join(self.root, partial), "rb") as f:
            self.assertEqual(f.read(), data[:held])
        yield self.still_serving(alice, bob)

        os.remove(ballast)                                   # space returns: resume
        again = yield self.ok(alice, "file_offer", to="#lobby", name="big.bin",
                              size=len(data), sha256=sha(data))
        self.assertEqual((again["file"]["id"], again["offset"]), (file_id, held))
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": held,
                    "body": len(data) - held})
        send_body(alice, request_id, data[held:])
        done = yield self.reply(alice, request_id)
        self.assertEqual(done["type"], "ok", done)
        request_id = next_id(bob)
        bob.send({"type": "download", "id": request_id, "file": file_id})
        got = yield self.reply(bob, request_id)
        self.assertEqual(got["type"], "ok", got)
        self.assertEqual(take_body(bob, request_id), data)
        self.assertNotIn(partial, files_on_disk(self.root))
        # the failed write is logged (with its traceback: a disk failing is worth one)
        self.assertTrue(self.flushLoggedErrors(OSError))


    @defer.inlineCallbacks
    def test_upload_cut_on_a_full_disk_resumes_from_what_reached_the_disk(self):
        yield self.start()
        alice = yield self.login("alice", register=True)
        data = random_bytes(8 * FILE_CHUNK, seed=8)
        offered = yield self.ok(alice, "file_offer", to="#lobby", name="big.bin",
                                size=len(data), sha256=sha(data))
        file_id = offered["file"]["id"]
        ballast = fill(self.root, leave=FILE_CHUNK)
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                    "body": len(data)})
        send_body(alice, request_id, data[:5 * FILE_CHUNK])
        alice.disconnect()                               # gone before the end
        partial = self.server.files.catalog.partials[file_id]
        held = files_on_disk(self.root)[os.path.join("files", "partial", str(file_id))]
        self.assertLess(held, 5 * FILE_CHUNK)
        # not left "running" (it could never expire), and it knows what the disk holds
        self.assertEqual((partial.sink, partial.held), (None, held))
        os.remove(ballast)
        alice = yield self.login("alice")
        again = yield self.ok(alice, "file_offer", to="#lobby", name="big.bin",
                              size=len(data), sha256=sha(data))
        self.assertEqual(again["offset"], held)
        request_id = next_id(alice)
        alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": held,
                    "body": len(data) - held})
        send_body(alice, request_id, data[held:])
        done = yield self.reply(alice, request_id)
        self.assertEqual(done["type"], "ok", done)
        with open(self.server.files.store.blob_path(sha(data)), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(self.flushLoggedErrors(OSError), [])   # a warning line, no traceback
        # saving alice's last-seen time and the upload's progress time may have failed on the
        # full disk (they are written after the disconnect, while the ballast may be gone)
        self.flushLoggedErrors(StorageError)


class ClientSeesStorageFaults(ClientTestCase):
    """The client core: a message the server could not store is failed, not acknowledged,
    and ``retry()`` stores it once the fault is gone."""

    def test_failed_message_is_retried_with_the_same_cid(self):
        storage = self.server.storage
        real = storage.store_messages
        storage.store_messages = lambda batch: defer.fail(StorageError("database or disk is full"))
        alice = self.client("alice")
        out = alice.send("#lobby", "important")
        self.net.pump()
        self.assertEqual(out.state, OutState.FAILED)
        self.assertEqual(out.error[0], SERVER_ERROR)
        self.assertEqual(alice.recorder.take("failed"), [out])
        self.assertEqual(alice.recorder.take("acked"), [])
        storage.store_messages = real
        cid = out.cid
        alice.retry(out)
        self.net.pump()
        self.assertEqual((out.state, out.cid, out.duplicate), (OutState.ACKED, cid, False))
        history = self.successResultOf(storage.history("r:lobby"))
        self.assertEqual([m.text for m in history], ["important"])


# -- a client that vanishes mid-upload

class VanishedUploaderTests(unittest.TestCase):
    """Socket-free (tests/harness.py): MemoryStorage, file I/O synchronous, a task.Clock."""

    ttl = 100

    def setUp(self):
        self.files_dir = os.path.join(temp_dir(self), "files")
        self.storage = MemoryStorage()
        self.server = self.make_server()
        self.alice = user(self.server, "alice")
        self.data = random_bytes(3 * FILE_CHUNK, seed=11)

    def make_server(self, clock=None):
        return make_server(storage=self.storage, clock=clock, files_dir=self.files_dir,
                           partial_ttl=self.ttl, quota=4 * FILE_CHUNK)

    def restart(self, after: float):
        """A new server on the same storage and files ``after`` seconds later (the old one is
        simply dropped, as by a crash)."""
        clock = task.Clock()
        clock.advance(self.server.clock.seconds() - 1_800_000_000 + after)
        self.server = self.make_server(clock)
        self.alice = user(self.server, "alice", register=False)

    def vanish_mid_upload(self) -> int:
        file_id = offer(self.alice, "#lobby", self.data)["data"]["file"]["id"]
        request_id = next_id(self.alice)
        self.alice.send({"type": "upload", "id": request_id, "file": file_id, "offset": 0,
                         "body": len(self.data)})
        send_body(self.alice, request_id, self.data[:FILE_CHUNK + 100])
        self.alice.disconnect()                  # no goodbye, no cancel
        self.assertEqual(files_on_disk(self.files_dir),
                         {os.path.join("partial", str(file_id)): FILE_CHUNK + 100})
        return file_id

    def assert_gone(self, file_id):
        self.assertEqual(files_on_disk(self.files_dir), {})
        self.assertIsNone(self.successResultOf(self.storage.file_by_id(file_id)))
        self.assertNotIn(file_id, self.server.files.catalog.partials)
        alice_id = self.server.directory.id_for("alice")
        self.assertEqual(self.successResultOf(self.storage.quota_used(alice_id)), 0)

    def test_partial_counts_against_the_quota_until_it_expires(self):
        file_id = self.vanish_mid_upload()
        alice = user(self.server, "alice", register=False)
        other = random_bytes(2 * FILE_CHUNK, seed=12)
        self.assertEqual(offer(alice, "#lobby", other)["code"], QUOTA_EXCEEDED)
        self.server.clock.advance(self.ttl - 1)
        self.assertIn(file_id, self.server.files.catalog.partials)
        self.server.clock.advance(2)
        self.assert_gone(file_id)
        self.assertEqual(offer(alice, "#lobby", other)["type"], "ok")    # quota released

    def test_partial_of_a_previous_run_expires_after_a_restart(self):
        file_id = self.vanish_mid_upload()
        self.restart(after=self.ttl / 2)
        self.assertIn(file_id, self.server.files.catalog.partials)     # still resumable
        self.server.clock.advance(self.ttl / 2 + 1)
        self.assert_gone(file_id)

    def test_partial_expired_while_the_server_was_down_goes_at_start(self):
        file_id = self.vanish_mid_upload()
        self.restart(after=self.ttl + 1)
        self.assert_gone(file_id)

    def test_partial_without_a_record_is_removed_at_start(self):
        # a crash between deleting an expired partial's record and its file
        file_id = self.vanish_mid_upload()
        self.successResultOf(self.storage.delete_file(file_id))
        self.restart(after=1)
        # found when the store is first used (the first offer), not at start: a server that
        # nobody sends files to never touches its files directory
        data = random_bytes(FILE_CHUNK, seed=13)
        offered = offer(self.alice, "#lobby", data)["data"]
        self.assertEqual(files_on_disk(self.files_dir), {})
        self.assertEqual(upload(self.alice, offered["file"]["id"], data)["type"], "ok")
        self.assertEqual(list(files_on_disk(self.files_dir)), [os.path.join(sha(data)[:2],
                                                                            sha(data))])
        self.assertIsNone(self.successResultOf(self.storage.file_by_id(file_id)))

    def test_record_that_cannot_be_deleted_is_tried_again(self):
        file_id = self.vanish_mid_upload()
        real, calls = self.storage.delete_file, []

        def locked(file_id):
            calls.append(file_id)
            if len(calls) == 1:
                return defer.fail(StorageError("database is locked"))
            return real(file_id)
        self.storage.delete_file = locked
        self.server.clock.advance(self.ttl + 1)
        self.assertEqual(calls, [file_id])
        # kept whole (record, bytes, quota), so that nothing is half gone
        self.assertIn(file_id, self.server.files.catalog.partials)
        self.assertIsNotNone(self.successResultOf(self.storage.file_by_id(file_id)))
        self.assertEqual(len(files_on_disk(self.files_dir)), 1)
        self.server.clock.advance(60)
        self.assertEqual(calls, [file_id, file_id])
        self.assert_gone(file_id)
