"""``chatctl migrate-sqlite FILE --database URL``: a SQLite server's data copied into PostgreSQL
reads back the same through the storage interface, ids and dedup keys included; a database
that holds data, a file of another schema and a copy failing half-way are refused cleanly.
"""

import os
import shutil
import sqlite3
import sys
import tempfile

from twisted.internet import defer
from twisted.trial import unittest

from chat.server.storage.postgresql import PostgreSQLStorage
from chat.server.storage.sqlite import SQLiteStorage
from tests.storage_contract import OTHER_ROOM, ROOM, dm, msg
from tests.support import pgcluster
from tests.support.server_process import run_command

CHATCTL = [sys.executable, "-m", "chat.ctl"]


def tearDownModule():
    pgcluster.stop_shared()


@defer.inlineCallbacks
def everything(s, account_ids, file_ids):
    """What the storage interface shows of a server's state."""
    result = {
        "accounts": (yield s.accounts()), "rooms": (yield s.rooms()),
        "members": (yield s.memberships()), "max_id": (yield s.max_message_id()),
        "burns": (yield s.pending_burns()), "complete": (yield s.complete_files()),
        "incomplete": (yield s.incomplete_files()),
    }
    for conv in (ROOM, OTHER_ROOM, dm(*account_ids[:2])):
        result["history", conv] = yield s.history(conv)
        result["marks", conv] = yield s.read_marks(conv)
    for account_id in account_ids:
        result["avatar", account_id] = yield s.avatar(account_id)
        result["since", account_id] = yield s.messages_since(account_id, 0, 100)
        result["unread", account_id] = yield s.unread_counts(account_id)
        result["quota", account_id] = yield s.quota_used(account_id)
    for file_id in file_ids:
        result["file", file_id] = yield s.file_by_id(file_id)
    return result


class MigrateSQLiteTests(unittest.TestCase):

    timeout = 120

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chat-migrate-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.sqlite = os.path.join(self.dir, "chat_server.db")
        self.cluster = pgcluster.shared()
        self.dbname = self.cluster.new_database()
        self.password_file = os.path.join(self.dir, "pw")
        with open(self.password_file, "w") as f:
            f.write(pgcluster.PASSWORD + "\n")   # its trailing space is part of it
        os.chmod(self.password_file, 0o600)

    def chatctl(self, *args, database=None):
        return run_command(CHATCTL + ["migrate-sqlite", *args, "--database",
                                      database or self.cluster.tcp_dsn(self.dbname),
                                      "--database-password-file", self.password_file],
                           timeout=60)

    @defer.inlineCallbacks
    def fill_sqlite(self):
        s = SQLiteStorage(self.sqlite)
        yield s.start()
        alice = (yield s.create_account("Alice", "alice", "h1", 1, admin=True,
                                        join=[ROOM, OTHER_ROOM])).id
        bob = (yield s.create_account("Bob", "bob", "h2", 2, join=[ROOM])).id
        gone = (yield s.create_account("Gone", "gone", "h3", 3, join=[ROOM])).id
        carol = (yield s.create_account("Carol 张", "carol", "h4", 4, join=[ROOM])).id
        yield s.delete_account(gone, 5)
        yield s.set_avatar(bob, "image/png", bytes(range(256)) * 3)
        yield s.set_banned(carol, True, "spam")
        yield s.set_last_seen(alice, 99)
        yield s.create_room("Lobby", "lobby", "welcome 👋", None, 1)
        yield s.create_room("Other", "other", "", alice, 2)
        private = dm(alice, bob)
        for a in (alice, bob):
            yield s.add_member(private, a, 6)
        f1 = yield s.create_file(alice, ROOM, "#lobby", "a.pdf", 10, "ab" * 32, "x/y", 7)
        f2 = yield s.create_file(bob, private, "@alice", "b.bin", 20, "cd" * 32, "x/z", 8)
        f3 = yield s.create_file(bob, ROOM, "#lobby", "c.bin", 30, "ef" * 32, "x/z", 9)
        yield s.delete_file(f3.id)          # the newest file id: never to be handed out again
        yield s.store_messages([
            msg(1, ROOM, alice, text="hi \x00 there"), msg(2, private, bob, text="psst"),
            msg(3, ROOM, bob, burn_ttl=5.0, burn_recipients=(alice, carol)),
            msg(4, ROOM, alice, text="", cid="file-1", file_id=f1.id),
            msg(5, OTHER_ROOM, alice), msg(6, ROOM, alice, burn_ttl=2.0)])
        yield s.set_read(alice, ROOM, 3, 1000)
        yield s.set_read(bob, private, 2, 1000)
        yield s.burn([6])
        accounts = [alice, bob, carol]
        files = [f1.id, f2.id, f3.id]
        state = yield everything(s, accounts, files)
        yield s.stop()
        return accounts, files, f3.id, gone, state

    @defer.inlineCallbacks
    def test_copy_reads_back_the_same(self):
        accounts, files, deleted_file, deleted_account, before = yield self.fill_sqlite()
        code, out, err = yield self.chatctl(self.sqlite)
        self.assertEqual(code, 0, out + err)
        self.assertIn(f"copied {self.sqlite} into the PostgreSQL database '{self.dbname}' at "
                      "127.0.0.1", out)
        self.assertIn("6 messages", out)
        self.assertIn("3 accounts", out)

        pg = PostgreSQLStorage(self.cluster.dsn(self.dbname))
        yield pg.start()
        try:
            after = yield everything(pg, accounts, files)
            self.assertEqual(sorted(after, key=str), sorted(before, key=str))
            for key in before:
                self.assertEqual(after[key], before[key], key)
            # dedup keys came along: a resend is recognised
            again = yield pg.store_messages([msg(7, ROOM, accounts[0], text="x", cid="c1")])
            self.assertEqual((again[0].id, again[0].duplicate), (1, True))
            # ids go on above every id SQLite ever handed out, deleted ones included
            record = yield pg.create_file(accounts[0], ROOM, "#lobby", "n", 1, "00" * 32, "x", 9)
            self.assertGreater(record.id, deleted_file)
            newcomer = yield pg.create_account("New", "new", "h", 10)
            self.assertGreater(newcomer.id, deleted_account)
        finally:
            yield pg.stop()
        # the SQLite file was only read
        self.assertEqual(sqlite3.connect(self.sqlite).execute(
            "SELECT COUNT(*) FROM messages").fetchone(), (6,))

    @defer.inlineCallbacks
    def test_a_database_with_data_is_refused(self):
        yield self.fill_sqlite()
        code, out, err = yield self.chatctl(self.sqlite)
        self.assertEqual(code, 0, out + err)
        code, out, err = yield self.chatctl(self.sqlite)
        self.assertEqual(code, 1)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("holds data already (table accounts): copy into an empty database", err)
        self.assertEqual(self.cluster.execute("SELECT COUNT(*) FROM messages",
                                              dbname=self.dbname), [(6,)])

    @defer.inlineCallbacks
    def test_a_failing_copy_writes_nothing(self):
        yield self.fill_sqlite()
        conn = sqlite3.connect(self.sqlite)
        with conn:       # SQLite keeps what PostgreSQL's BIGINT column refuses
            conn.execute("UPDATE messages SET ts = 'not a time' WHERE id = 5")
        conn.close()
        code, out, err = yield self.chatctl(self.sqlite)
        self.assertEqual(code, 1, out + err)
        self.assertIn("the copy failed (nothing was written): invalid input syntax", err)
        self.assertNotIn("Traceback", err)
        tables = self.cluster.execute("SELECT COUNT(*) FROM information_schema.tables "
                                      "WHERE table_schema = 'public'", dbname=self.dbname)
        self.assertEqual(tables, [(0,)])

    @defer.inlineCallbacks
    def test_bad_inputs_are_one_line_errors(self):
        code, out, err = yield self.chatctl(os.path.join(self.dir, "missing.db"))
        self.assertEqual((code, err.strip()), (1, f"chatctl: error: {self.dir}/missing.db is "
                                                  "not a file"))
        old = os.path.join(self.dir, "old.db")
        conn = sqlite3.connect(old)
        conn.execute("CREATE TABLE schema_version (version INTEGER, name TEXT, applied INT)")
        conn.execute("INSERT INTO schema_version VALUES (1, '001_initial.sql', 0)")
        conn.commit()
        conn.close()
        code, out, err = yield self.chatctl(old)
        self.assertEqual(code, 1)
        self.assertIn("start the server on it once with this release", err)
        yield self.fill_sqlite()
        code, out, err = yield self.chatctl(self.sqlite,
                                            database="postgresql://u:pw@127.0.0.1/db")
        self.assertIn("must not contain the password", err)
        with open(self.password_file, "w") as f:
            f.write("wrong\n")
        code, out, err = yield self.chatctl(self.sqlite)
        self.assertEqual(code, 1)
        self.assertIn("cannot connect to the PostgreSQL database", err)
        self.assertIn("password authentication failed", err)
        self.assertEqual(err.count("\n"), 1, err)
