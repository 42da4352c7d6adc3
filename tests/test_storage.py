"""The storage contract run against the three implementations (memory, SQLite, PostgreSQL on a
private cluster), plus what only SQLite or PostgreSQL promises."""

import os
import shutil
import sqlite3
import tempfile
import threading

from twisted.internet import defer
from twisted.trial import unittest

from chat.server.storage import BurnDue, IStorage, StorageError, migrate
from chat.server.storage.memory import MemoryStorage
from chat.server.storage.postgresql import PostgreSQLStorage
from chat.server.storage.sqlite import SQLiteStorage
from tests.storage_contract import OTHER_ROOM, ROOM, StorageContractMixin, dm, msg
from tests.support import pgcluster


def tearDownModule():
    # pytest calls it at the module's end; under trial the cluster stops at exit
    pgcluster.stop_shared()


class MemoryStorageTests(StorageContractMixin, unittest.TestCase):

    def setUp(self):
        self.storage = MemoryStorage()
        return self.storage.start()

    def tearDown(self):
        return self.storage.stop()

    def test_provides_interface(self):
        self.assertTrue(IStorage.providedBy(self.storage))

    @defer.inlineCallbacks
    def test_max_messages_per_conv(self):
        self.storage = MemoryStorage(max_messages_per_conv=3)
        yield self.storage.store_messages([msg(i) for i in range(1, 6)] + [msg(6, OTHER_ROOM)])
        yield self.storage.store_messages([msg(7)])
        self.assertEqual([m.id for m in (yield self.storage.history(ROOM))], [4, 5, 7])
        self.assertEqual([m.id for m in (yield self.storage.history(OTHER_ROOM))], [6])
        self.assertEqual((yield self.storage.max_message_id()), 7)
        # A dropped message's cid is forgotten, a kept one's is not.
        results = yield self.storage.store_messages([msg(8, cid="c1"), msg(9, cid="c5")])
        self.assertEqual([(r.id, r.duplicate) for r in results], [(8, False), (5, True)])


class SQLiteStorageTests(StorageContractMixin, unittest.TestCase):

    def setUp(self):
        # Not self.mktemp(): under pytest that would create directories in the source tree.
        directory = tempfile.mkdtemp(prefix="chat-storage-")
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        self.path = os.path.join(directory, "chat.db")
        self.storage = SQLiteStorage(self.path)
        return self.storage.start()

    def tearDown(self):
        return self.storage.stop()

    @defer.inlineCallbacks
    def restart(self):
        yield self.storage.stop()
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()

    def query(self, sql, params=()):
        """Read the file directly, as another process would (only once it is stopped)."""
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()

    def test_provides_interface(self):
        self.assertTrue(IStorage.providedBy(self.storage))

    def test_bad_synchronous_setting(self):
        self.assertRaises(ValueError, SQLiteStorage, self.path, synchronous="FULL; DROP")

    def test_preflight_accepts_a_database_and_refuses_garbage(self):
        self.storage.preflight()  # the working database (open in the pool) passes
        garbage = self.path + ".garbage"
        with open(garbage, "wb") as f:
            f.write(b"this is not a database file at all" * 200)
        with self.assertRaises(StorageError) as caught:
            SQLiteStorage(garbage).preflight()
        self.assertIn("not a database", str(caught.exception))

    @defer.inlineCallbacks
    def test_data_survives_restart(self):
        s = self.storage
        alice = yield s.create_account("Alice", "alice", "h", 1, admin=True, join=[ROOM])
        bob = yield s.create_account("Bob", "bob", "h", 2, join=[ROOM, dm(1, 2)])
        yield s.add_member(dm(1, 2), alice.id, 3)
        yield s.set_avatar(bob.id, "image/gif", b"GIF89a\x00")
        yield s.set_last_seen(alice.id, 77)
        room = yield s.create_room("Lobby", "lobby", "topic", alice.id, 4)
        batch = [msg(1, sender_id=alice.id), msg(2, dm(1, 2), bob.id),
                 msg(3, sender_id=alice.id, burn_ttl=2.0, burn_recipients=(bob.id,)),
                 msg(4, sender_id=alice.id, burn_ttl=1.0)]
        yield s.store_messages(batch)
        yield s.set_read(bob.id, ROOM, 1, 10)
        before = yield defer.gatherResults([
            s.accounts(), s.rooms(), s.memberships(), s.history(ROOM), s.history(dm(1, 2)),
            s.read_marks(ROOM), s.pending_burns(), s.avatar(bob.id), s.max_message_id()])
        self.assertEqual(before[0][0].last_seen, 77)

        yield self.restart()
        s = self.storage
        after = yield defer.gatherResults([
            s.accounts(), s.rooms(), s.memberships(), s.history(ROOM), s.history(dm(1, 2)),
            s.read_marks(ROOM), s.pending_burns(), s.avatar(bob.id), s.max_message_id()])
        self.assertEqual(after, before)
        self.assertEqual(after[1], [room])
        # The burn message still awaits bob, and the dedup keys are still known.
        self.assertEqual((yield s.set_read(bob.id, ROOM, 3, 1000)), [BurnDue(3, ROOM, 3000)])
        results = yield s.store_messages([msg(9, sender_id=alice.id, cid="c1")])
        self.assertTrue(results[0].duplicate)

    @defer.inlineCallbacks
    def test_schema_versions(self):
        files = migrate.schema_files()
        self.assertEqual(files[0].name, "001_initial.sql")
        yield self.storage.stop()
        recorded = self.query("SELECT version, name, applied FROM schema_version ORDER BY version")
        self.assertEqual([(v, n) for v, n, _ in recorded], [(f.version, f.name) for f in files])

        # A restart applies nothing again (re-running 001 would fail on CREATE TABLE), and a
        # newer file migrates the existing database.
        extra = migrate.SchemaFile(999, "999_test.sql",
                                   "-- a comment; with a semicolon\n"
                                   "ALTER TABLE rooms ADD COLUMN extra TEXT;\n"
                                   "CREATE TABLE test_extra (x INTEGER);\n")
        self.patch(migrate, "schema_files", lambda directory="schema": files + [extra])
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()
        yield self.storage.create_room("R", "r", "", None, 1)
        yield self.restart()
        yield self.storage.stop()
        again = self.query("SELECT version, name, applied FROM schema_version ORDER BY version")
        self.assertEqual(again[:-1], recorded)
        self.assertEqual(again[-1][:2], (999, "999_test.sql"))
        self.assertEqual(self.query("SELECT key, extra FROM rooms"), [("r", None)])

    @defer.inlineCallbacks
    def test_ban_survives_restart(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.set_banned(bob, True, "spam")
        yield self.restart()
        account = yield self.storage.account_by_id(bob)
        self.assertEqual((account.banned, account.ban_reason), (True, "spam"))
        self.assertFalse((yield self.storage.account_by_id(alice)).banned)
        yield self.storage.set_banned(bob, False)
        yield self.restart()
        self.assertFalse((yield self.storage.account_by_id(bob)).banned)

    @defer.inlineCallbacks
    def test_schema_1_database_is_migrated(self):
        # a database written by the first release: only 001 applied, no ban columns
        yield self.storage.stop()
        os.remove(self.path)
        files = migrate.schema_files()
        self.assertEqual([f.name for f in files[:2]], ["001_initial.sql", "002_bans.sql"])
        self.patch(migrate, "schema_files", lambda directory="schema": files[:1])
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()
        yield self.storage._run(lambda tx: tx.execute(
            "INSERT INTO accounts (name, key, password_hash, admin, created) "
            "VALUES ('Old', 'old', 'h', 1, 5)"))
        yield self.storage.stop()
        self.assertNotIn("banned", [row[1] for row in self.query("PRAGMA table_info(accounts)")])

        self.patch(migrate, "schema_files", lambda directory="schema": files)
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()
        old = yield self.storage.account_by_key("old")
        self.assertEqual((old.name, old.admin, old.created, old.banned, old.ban_reason),
                         ("Old", True, 5, False, None))
        yield self.storage.set_banned(old.id, True, "moved on")
        yield self.restart()
        self.assertTrue((yield self.storage.account_by_key("old")).banned)
        yield self.storage.stop()
        self.assertEqual([v for v, in self.query("SELECT version FROM schema_version")],
                         [f.version for f in files])

    @defer.inlineCallbacks
    def test_schema_2_database_is_migrated(self):
        # a database of the release before files: 001 and 002 applied
        yield self.storage.stop()
        os.remove(self.path)
        files = migrate.schema_files()
        self.assertEqual(files[2].name, "003_files.sql")
        self.patch(migrate, "schema_files", lambda directory="schema": files[:2])
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()
        # that release's own insert (today's also reads deleted_accounts, of schema 4)
        yield self.storage._run(lambda tx: tx.execute(
            "INSERT INTO accounts (name, key, password_hash, created) "
            "VALUES ('alice', 'alice', 'hash', 1)"))
        alice = (yield self.storage.account_by_key("alice")).id
        yield self.storage._run(lambda tx: tx.execute(
            "INSERT INTO messages (id, conv, sender_id, sender, text, ts, cid) "
            "VALUES (1, ?, ?, 'alice', 'text 1', 5, 'c1')", (ROOM, alice)))
        yield self.storage.stop()
        self.assertNotIn("file_id", [row[1] for row in self.query("PRAGMA table_info(messages)")])

        self.patch(migrate, "schema_files", lambda directory="schema": files)
        self.storage = SQLiteStorage(self.path)
        yield self.storage.start()
        [old] = yield self.storage.history(ROOM)
        self.assertEqual((old.id, old.text, old.file_id), (1, "text 1", None))
        record = yield self.storage.create_file(alice, ROOM, "#lobby", "a", 3, "ab" * 32, "x", 9)
        yield self.storage.store_messages([msg(2, sender_id=alice, file_id=record.id)])
        yield self.restart()
        self.assertTrue((yield self.storage.file_by_id(record.id)).complete)
        yield self.storage.stop()
        self.assertEqual([v for v, in self.query("SELECT version FROM schema_version")],
                         [f.version for f in files])

    @defer.inlineCallbacks
    def test_wal_mode(self):
        yield self.storage.store_messages([msg(1)])
        self.assertTrue(os.path.exists(self.path + "-wal"))
        yield self.storage.stop()
        self.assertEqual(self.query("PRAGMA journal_mode"), [("wal",)])

    @defer.inlineCallbacks
    def test_write_failure_is_storage_error_and_rolls_back(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.store_messages([msg(1)])
        yield self.storage._pool.runWithConnection(
            lambda conn: conn.execute("PRAGMA query_only=ON"))
        yield self.assertFailure(self.storage.store_messages([msg(2)]), StorageError)
        yield self.assertFailure(self.storage.set_read(alice, ROOM, 1, 1), StorageError)
        yield self.storage._pool.runWithConnection(
            lambda conn: conn.execute("PRAGMA query_only=OFF"))
        # A batch failing half-way (a burn message stored, then a clashing id) leaves no trace.
        batch = [msg(2, sender_id=alice, burn_ttl=1.0, burn_recipients=(bob,)),
                 msg(3, sender_id=alice, burn_ttl=1.0), msg(3, cid="clash")]
        yield self.assertFailure(self.storage.store_messages(batch), StorageError)
        yield self.storage.stop()
        self.assertEqual(self.query("SELECT id FROM messages"), [(1,)])
        self.assertEqual(self.query("SELECT COUNT(*) FROM burn_pending"), [(0,)])
        self.assertEqual(self.query("SELECT COUNT(*) FROM read_marks"), [(0,)])

    @defer.inlineCallbacks
    def test_burned_text_is_gone_from_file(self):
        alice, bob = yield self.people("alice", "bob")
        secret = "the launch code is 0000-SECRET-0000"
        yield self.storage.store_messages([
            msg(1, sender_id=alice, text=secret, burn_ttl=1.0, burn_recipients=(bob,))])
        yield self.storage.set_read(bob, ROOM, 1, 1)
        yield self.storage.burn([1])
        yield self.storage.stop()
        self.assertEqual(self.query("SELECT text, burned, sender_id, conv FROM messages"),
                         [(None, 1, alice, ROOM)])
        # secure_delete: not even a free page of the file keeps it (the WAL is checkpointed
        # and removed on close).
        with open(self.path, "rb") as f:
            self.assertNotIn(secret.encode(), f.read())

    @defer.inlineCallbacks
    def test_queries_never_run_on_reactor_thread(self):
        yield self.storage.stop()
        self.storage = SQLiteStorage(self.path)
        reactor_thread = threading.get_ident()
        threads = []
        engine = self.storage._engine
        original_open = engine._on_open

        def on_open(conn):
            threads.append(threading.get_ident())
            original_open(conn)
            conn.set_trace_callback(lambda statement: threads.append(threading.get_ident()))
        self.patch(engine, "_on_open", on_open)

        s = self.storage
        yield s.start()
        alice = yield s.create_account("a", "a", "h", 1, join=[ROOM])
        yield s.create_room("r", "r", "", None, 1)
        yield s.store_messages([msg(1, sender_id=alice.id, burn_ttl=1.0,
                                    burn_recipients=(alice.id,))])
        yield defer.gatherResults([
            s.account_by_key("a"), s.account_by_id(alice.id), s.accounts(), s.count_accounts(),
            s.set_password_hash(alice.id, "x"), s.set_admin(alice.id, True),
            s.set_last_seen(alice.id, 2), s.set_avatar(alice.id, "image/png", b"x"),
            s.set_banned(alice.id, True, "r"), s.set_banned(alice.id, False),
            s.avatar(alice.id), s.rooms(), s.set_topic("r", "t"), s.add_member(OTHER_ROOM,
                                                                              alice.id, 1),
            s.remove_member(OTHER_ROOM, alice.id), s.memberships(), s.max_message_id(),
            s.history(ROOM), s.messages_since(alice.id, 0, 10), s.unread_counts(alice.id),
            s.read_marks(ROOM), s.set_read(alice.id, ROOM, 1, 1), s.pending_burns(),
            s.burn([1])])
        record = yield s.create_file(alice.id, ROOM, "#lobby", "f", 1, "ab" * 32, "x", 1)
        yield defer.gatherResults([
            s.file_by_id(record.id), s.files_of_conv(ROOM), s.complete_files(),
            s.incomplete_files(), s.touch_file(record.id, 2), s.quota_used(alice.id)])
        yield s.delete_file(record.id)
        self.assertGreater(len(threads), 33)
        self.assertNotIn(reactor_thread, threads)


class PostgreSQLStorageTests(StorageContractMixin, unittest.TestCase):
    """The contract on PostgreSQL: a schema of its own per test in the module's cluster, and
    a pool of three connections, so that calls in flight together really run together."""

    def setUp(self):
        self.cluster = pgcluster.shared()
        self.dsn = self.cluster.new_schema_dsn()
        self.storage = PostgreSQLStorage(self.dsn, pool_size=3)
        return self.storage.start()

    def tearDown(self):
        return self.storage.stop()

    def test_provides_interface(self):
        self.assertTrue(IStorage.providedBy(self.storage))

    @defer.inlineCallbacks
    def restart(self):
        yield self.storage.stop()
        self.storage = PostgreSQLStorage(self.dsn, pool_size=3)
        yield self.storage.start()

    def query(self, sql, params=()):
        import psycopg2
        conn = psycopg2.connect(self.dsn)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        finally:
            conn.close()

    @defer.inlineCallbacks
    def test_nodes_starting_together_migrate_once(self):
        # a fresh schema and three servers starting on it at the same moment: the advisory
        # lock lets one migrate; the others wait and find every version applied
        self.dsn = self.cluster.new_schema_dsn()
        storages = [PostgreSQLStorage(self.dsn, pool_size=1) for _ in range(3)]
        try:
            yield defer.gatherResults([s.start() for s in storages])
            versions = self.query("SELECT version FROM schema_version ORDER BY version")
            self.assertEqual([v for v, in versions],
                             [f.version for f in migrate.schema_files("schema/postgresql")])
            account = yield storages[0].create_account("a", "a", "h", 1)
            self.assertEqual((yield storages[2].account_by_id(account.id)), account)
        finally:
            yield defer.gatherResults([s.stop() for s in storages])

    def test_dialect_schema_replaces_only_what_differs(self):
        shared = migrate.schema_files()
        own = migrate.schema_files("schema/postgresql")
        self.assertEqual([f.name for f in own], [f.name for f in shared])
        differ = [f.name for f, g in zip(own, shared) if f.sql != g.sql]
        self.assertEqual(differ, ["001_initial.sql", "003_files.sql"])
        self.assertIn("BYTEA", own[0].sql)
        self.assertIn("GENERATED BY DEFAULT AS IDENTITY", own[2].sql)

    @defer.inlineCallbacks
    def test_schema_versions_and_restart(self):
        alice, = yield self.people("alice")
        yield self.storage.store_messages([msg(1, sender_id=alice, text="kept")])
        yield self.restart()
        self.assertEqual([m.text for m in (yield self.storage.history(ROOM))], ["kept"])
        recorded = self.query("SELECT version, name FROM schema_version ORDER BY version")
        self.assertEqual(recorded, [(f.version, f.name)
                                    for f in migrate.schema_files("schema/postgresql")])

    @defer.inlineCallbacks
    def test_texts_postgresql_cannot_hold_come_back_intact(self):
        # PostgreSQL text has no U+0000: the engine escapes it with U+FFFF, doubled itself
        texts = ["a\x00b", "\uffff", "\uffff0", "\uffff\x00\uffff\uffff", "\x00", "plain \\0"]
        alice, = yield self.people("alice")
        yield self.storage.store_messages([msg(i + 1, sender_id=alice, text=t)
                                           for i, t in enumerate(texts)])
        self.assertEqual([m.text for m in (yield self.storage.history(ROOM))], texts)
        self.assertEqual([m.text for m in (yield self.storage.messages_since(alice, 0, 10))],
                         texts)
        # ordinary texts are stored as they are (readable with psql, pg_dump)
        self.assertEqual(self.query("SELECT text FROM messages WHERE id = 6"), [("plain \\0",)])
        # every text: topics, ban reasons, client ids (the dedup key) too
        yield self.storage.create_room("R", "r", "", None, 1)
        yield self.storage.set_topic("r", "top\x00ic\uffff")
        self.assertEqual([r.topic for r in (yield self.storage.rooms())], ["top\x00ic\uffff"])
        yield self.storage.set_banned(alice, True, "re\x00ason")
        self.assertEqual((yield self.storage.account_by_id(alice)).ban_reason, "re\x00ason")
        results = yield self.storage.store_messages([msg(7, sender_id=alice, cid="c\x00")])
        again = yield self.storage.store_messages([msg(8, sender_id=alice, cid="c\x00")])
        self.assertEqual([(r.id, r.duplicate) for r in results + again], [(7, False), (7, True)])
        self.assertEqual((yield self.storage.history(ROOM))[-1].cid, "c\x00")

    @defer.inlineCallbacks
    def test_password_from_argument_or_pgpassword(self):
        name = self.cluster.new_database()
        dsn = self.cluster.tcp_dsn(name)      # 127.0.0.1, scram-sha-256
        storage = PostgreSQLStorage(dsn, password=pgcluster.PASSWORD)
        storage.preflight()
        yield storage.start()
        yield storage.create_room("R", "r", "", None, 1)
        yield storage.stop()
        # libpq reads the real environment (putenv): os.environ's item, not a patched dict
        self.addCleanup(os.environ.pop, "PGPASSWORD", None)
        os.environ["PGPASSWORD"] = pgcluster.PASSWORD
        storage = PostgreSQLStorage(dsn)
        storage.preflight()
        yield storage.start()
        self.assertEqual([r.key for r in (yield storage.rooms())], ["r"])
        yield storage.stop()

    def test_preflight_names_the_problem_never_the_password(self):
        dsn = self.cluster.tcp_dsn("postgres")
        with self.assertRaises(StorageError) as caught:
            PostgreSQLStorage(dsn, password="wrong secret").preflight()
        message = str(caught.exception)
        self.assertIn("password authentication failed", message)
        self.assertIn("127.0.0.1", message)
        self.assertNotIn("wrong secret", message)
        with self.assertRaises(StorageError) as caught:
            PostgreSQLStorage(self.cluster.dsn("no_such_db")).preflight()
        self.assertIn('database "no_such_db" does not exist', str(caught.exception))

    def test_password_in_the_url_is_refused(self):
        with self.assertRaises(ValueError) as caught:
            PostgreSQLStorage("postgresql://u:pw@127.0.0.1/db")
        self.assertIn("PGPASSWORD", str(caught.exception))

    @defer.inlineCallbacks
    def test_write_failure_is_storage_error_and_rolls_back(self):
        alice, bob = yield self.people("alice", "bob")
        yield self.storage.store_messages([msg(1)])
        batch = [msg(2, sender_id=alice, burn_ttl=1.0, burn_recipients=(bob,)),
                 msg(3, sender_id=alice, burn_ttl=1.0), msg(3, cid="clash")]
        yield self.assertFailure(self.storage.store_messages(batch), StorageError)
        self.assertEqual(self.query("SELECT id FROM messages"), [(1,)])
        self.assertEqual(self.query("SELECT COUNT(*) FROM burn_pending"), [(0,)])
        # the pool's connections are usable after the failed transaction
        results = yield defer.gatherResults([self.storage.store_messages([msg(4)]),
                                             self.storage.history(ROOM)])
        self.assertFalse(results[0][0].duplicate)

    @defer.inlineCallbacks
    def test_queries_never_run_on_reactor_thread(self):
        reactor_thread = threading.get_ident()
        threads = []
        engine = self.storage._engine
        original = engine.sql

        def sql(query):
            threads.append(threading.get_ident())
            return original(query)
        self.patch(engine, "sql", sql)
        s = self.storage
        alice = yield s.create_account("a", "a", "h", 1, join=[ROOM])
        yield s.store_messages([msg(1, sender_id=alice.id, burn_ttl=1.0,
                                    burn_recipients=(alice.id,))])
        yield defer.gatherResults([
            s.history(ROOM), s.messages_since(alice.id, 0, 10), s.unread_counts(alice.id),
            s.set_read(alice.id, ROOM, 1, 1), s.accounts(), s.burn([1])])
        self.assertGreater(len(threads), 10)
        self.assertNotIn(reactor_thread, threads)

    @defer.inlineCallbacks
    def test_a_transaction_lost_to_a_deadlock_is_run_again(self):
        from psycopg2 import errors
        calls = []

        def interaction(tx):
            calls.append(1)
            tx.execute("INSERT INTO rooms (key, name, topic, created) VALUES (?, 'R', '', 1)",
                       (f"r{len(calls)}",))
            if len(calls) < 3:
                raise errors.DeadlockDetected("deadlock detected")
            return "done"
        self.assertEqual((yield self.storage._run(interaction)), "done")
        self.assertEqual(len(calls), 3)
        # the failed attempts were rolled back whole
        self.assertEqual([r.key for r in (yield self.storage.rooms())], ["r3"])
        calls.clear()

        def always(tx):
            calls.append(1)
            raise errors.DeadlockDetected("deadlock detected")
        yield self.assertFailure(self.storage._run(always), StorageError)
        self.assertEqual(len(calls), 1 + self.storage.RETRIES)

    @defer.inlineCallbacks
    def test_reading_and_burning_together_do_not_deadlock(self):
        # set_read (burn_pending, then messages) and burn used to take those row locks in
        # opposite orders: on a pool of several connections they deadlocked
        alice, bob = yield self.people("alice", "bob")
        for round in range(10):
            base = round * 10
            batch = [msg(base + i, sender_id=alice, cid=f"b{base + i}", burn_ttl=1.0,
                         burn_recipients=(bob,)) for i in range(1, 6)]
            yield self.storage.store_messages(batch)
            self.patch(self.storage, "RETRIES", 0)      # a deadlock would fail the test
            yield defer.gatherResults([
                self.storage.set_read(bob, ROOM, base + 5, 1),
                self.storage.burn([base + 5, base + 3, base + 1]),
                self.storage.burn([base + 2, base + 4])])
        self.assertEqual((yield self.storage.pending_burns()), [])
