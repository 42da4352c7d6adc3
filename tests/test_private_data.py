"""The data directory is private (0700 folders, 0600 files) whatever the umask."""

import hashlib
import os
import shutil
import stat
import tempfile

from twisted.internet import defer
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial import unittest

from chat.server import tap
from chat.server.files.store import FileStore
from chat.server.private import PRIVATE_UMASK, make_private_dirs, wider_than_private
from chat.server.storage.sqlite import SQLiteStorage


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class PrivateDataTests(unittest.TestCase):
    def setUp(self):
        # what most systems have: everything the server makes would be readable by all
        self.addCleanup(os.umask, os.umask(0o022))
        self.root = tempfile.mkdtemp(prefix="chat-private-test-")
        self.addCleanup(shutil.rmtree, self.root, True)

    def test_folders_made_for_the_data_are_0700_all_the_way(self):
        make_private_dirs(os.path.join(self.root, "a", "b", "c"))
        for folder in ("a", "a/b", "a/b/c"):
            self.assertEqual(mode(os.path.join(self.root, folder)), 0o700, folder)
        make_private_dirs(os.path.join(self.root, "a", "b", "c"))     # exists: fine

    def test_options_make_a_private_data_dir(self):
        data = os.path.join(self.root, "new", "chat-data")
        tap.Options().parseOptions(["--data-dir", data])
        self.assertEqual(mode(data), 0o700)
        self.assertEqual(mode(os.path.dirname(data)), 0o700)

    def test_blobs_and_partials_are_0600(self):
        store = FileStore(os.path.join(self.root, "files"))
        store.prepare()
        body = b"private bytes"
        sha = hashlib.sha256(body).hexdigest()
        f, digest = store.open_partial(1, 0, len(body))
        self.assertEqual(mode(store.partial_path(1)), 0o600)
        store.write(f, body)
        digest.update(body)
        self.assertTrue(store.commit(f, digest, 1, sha))
        self.assertEqual(mode(store.blob_path(sha)), 0o600)
        for folder in (store.root, os.path.join(store.root, "partial"),
                       os.path.dirname(store.blob_path(sha))):
            self.assertEqual(mode(folder), 0o700, folder)
        empty = hashlib.sha256(b"").hexdigest()
        store.store_empty(empty)
        self.assertEqual(mode(store.blob_path(empty)), 0o600)

    @defer.inlineCallbacks
    def test_the_database_and_its_wal_are_0600(self):
        path = os.path.join(self.root, "chat_server.db")
        storage = SQLiteStorage(path)
        yield storage.start()
        yield storage.create_account("alice", "alice", "h", 1)
        try:
            for suffix in ("", "-wal", "-shm"):
                self.assertEqual(mode(path + suffix), 0o600, suffix)
        finally:
            yield storage.stop()

    def test_the_daemon_runs_with_a_private_umask_and_warns_of_a_wide_data_dir(self):
        data = os.path.join(self.root, "old-data")
        os.mkdir(data, 0o755)            # made by an older version, or by hand
        texts = []

        def observer(event):
            texts.append(formatEvent(event))
        globalLogPublisher.addObserver(observer)
        self.addCleanup(globalLogPublisher.removeObserver, observer)
        options = tap.Options()
        options.parseOptions(["--data-dir", data])
        tap.makeService(options)
        self.assertEqual(os.umask(0o022), PRIVATE_UMASK)
        warned = [t for t in texts if "readable by other local users" in t]
        self.assertEqual(len(warned), 1, texts)
        self.assertIn(f"{data} (mode 0755)", warned[0])
        self.assertEqual(mode(data), 0o755)       # warned about, not changed behind one's back

    def test_wider_than_private(self):
        private = os.path.join(self.root, "p")
        os.mkdir(private, 0o700)
        self.assertEqual(wider_than_private(private, os.path.join(self.root, "missing")), [])
        os.chmod(private, 0o750)
        self.assertEqual(wider_than_private(private), [f"{private} (mode 0750)"])
