"""The server on PostgreSQL: ``--database`` and its password options, and end to end a real
``twistd chatserver --database postgresql://...`` that keeps its history across a restart.

The PostgreSQL server is the module's private cluster (tests/support/pgcluster.py).
"""

import os
import signal
import tempfile

from twisted.trial import unittest

from chat.server import tap
from chat.server.storage.postgresql import PostgreSQLStorage
from chat.server.storage.sqlite import SQLiteStorage
from tests import test_e2e as e2e
from tests.support import pgcluster
from tests.support.server_process import ServerProcess, run_command, TWISTD


def tearDownModule():
    pgcluster.stop_shared()


class DatabaseOptionTests(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chat-pg-options-")
        self.addCleanup(__import__("shutil").rmtree, self.dir, True)
        self.data = os.path.join(self.dir, "data")

    def parse(self, *argv):
        options = tap.Options()
        options.parseOptions(["--data-dir", self.data, *argv])
        return options

    def error(self, *argv) -> str:
        with self.assertRaises(SystemExit) as caught:
            self.parse(*argv)
        message = str(caught.exception.code)
        self.assertTrue(message.startswith("chatserver: error: "), message)
        self.assertNotIn("\n", message)
        return message

    def password_file(self, text):
        path = os.path.join(self.dir, "pw")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, 0o600)
        return path

    def test_sqlite_stays_the_default_and_db_works(self):
        service = tap.makeService(self.parse())
        self.assertIsInstance(service.server.storage, SQLiteStorage)
        self.assertEqual(service.server.storage._engine.path,
                         os.path.join(self.data, "chat_server.db"))
        own = os.path.join(self.dir, "own.db")
        service = tap.makeService(self.parse("--db", own))
        self.assertEqual(service.server.storage._engine.path, own)

    def test_database_url_makes_a_postgresql_storage(self):
        url = "postgresql://chat@127.0.0.1:5433/chat"
        options = self.parse("--database", url,
                             "--database-password-file", self.password_file("s3cret\nx\n"))
        self.assertIsNone(options["db"])
        storage = tap.makeService(options).server.storage
        self.assertIsInstance(storage, PostgreSQLStorage)
        self.assertEqual((storage._engine.dsn, storage._engine.password), (url, "s3cret"))
        self.assertEqual(storage.describe(), "PostgreSQL database 'chat' at 127.0.0.1:5433")
        # no SQLite file is made, the data dir (files, control socket) is
        self.assertTrue(os.path.isdir(self.data))
        self.assertFalse(os.path.exists(os.path.join(self.data, "chat_server.db")))
        # without a password file libpq's PGPASSWORD / ~/.pgpass apply
        storage = tap.makeService(self.parse("--database", url)).server.storage
        self.assertIsNone(storage._engine.password)

    def test_bad_database_options_are_one_line_errors(self):
        url = "postgresql://chat@127.0.0.1/chat"
        self.assertIn("must not contain the password",
                      self.error("--database", "postgresql://chat:pw@127.0.0.1/chat"))
        self.assertIn("not a postgresql://", self.error("--database", "mysql://x@127.0.0.1/y"))
        self.assertIn("cannot go with --db", self.error("--database", url, "--db", "x.db"))
        self.assertIn("cannot go with --lite", self.error("--database", url, "--lite"))
        self.assertIn("needs --database", self.error("--database-password-file", "pw"))
        self.assertIn("cannot read --database-password-file",
                      self.error("--database", url, "--database-password-file", "/nonexistent"))
        self.assertIn("first line is empty", self.error(
            "--database", url, "--database-password-file", self.password_file("\nsecond\n")))
        self.assertIn("the port 'port' is not a number",
                      self.error("--database", "postgresql://x@127.0.0.1:port/"))
        message = self.error("--database", "postgresql://x@[::1/db")
        self.assertIn("is not a valid URL: invalid dsn: end of string reached", message)


class PostgreSQLServerTests(e2e.E2ECase):
    """The real server on the module's PostgreSQL cluster."""

    start_server = False

    async def setUp(self):
        await super().setUp()
        self.cluster = pgcluster.shared()
        self.dbname = self.cluster.new_database()

    def pg_server(self, *args):
        server = ServerProcess(os.path.join(self.tmp, "server"),
                               args=e2e.FAST_HASH + list(args))
        self.servers.append(server)
        self.server = server
        self.addCleanup(server.stop)
        self.addCleanup(self._check_server_output)
        return server

    def rows(self, sql):
        return self.cluster.execute(sql, dbname=self.dbname)

    @e2e.with_server_output
    async def test_history_survives_a_restart(self):
        # over 127.0.0.1 with a password from a file (scram-sha-256)
        password_file = os.path.join(self.tmp, "pgpass")
        with open(password_file, "w") as f:
            f.write(pgcluster.PASSWORD + "\n")
        server = self.pg_server("--database", self.cluster.tcp_dsn(self.dbname),
                                "--database-password-file", password_file)
        await server.start()
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.request("create_room", room="dev", topic="on postgres")
        await bob.request("join", room="#dev")
        sent = []
        for to, text, cid in (("#dev", "hello 你好 ✓", "d-0"), ("@bob", "private", "p-0"),
                              ("#lobby", "to everyone", "l-0")):
            sent.append(await alice.send_message(to, text, cid=cid))
        await bob.request("read", conv="#dev", up_to=sent[0]["msg_id"])
        before = (await bob.request("history", conv="#dev"))["messages"]
        await self._close_clients()
        self._check_server_output()
        # the rows are in PostgreSQL, and no SQLite file was made
        self.assertEqual(self.rows("SELECT key FROM accounts ORDER BY key"),
                         [("alice",), ("bob",)])
        self.assertEqual(sorted(t for t, in self.rows("SELECT text FROM messages")),
                         sorted(["hello 你好 ✓", "private", "to everyone"]))
        self.assertFalse(os.path.exists(server.db_path))

        code = await server.stop()
        self.assertIn(code, (0, -signal.SIGTERM))
        await server.start()

        bob = await self.login("bob", register=False)
        self.assertEqual((await bob.request("history", conv="#dev"))["messages"], before)
        self.assertEqual(bob.login_data["unread"], {"@alice": 1, "#lobby": 1})
        pm = (await bob.request("history", conv="@alice"))["messages"]
        self.assertEqual([(m["id"], m["text"]) for m in pm], [(sent[1]["msg_id"], "private")])
        rooms = {r["name"]: r for r in bob.login_data["rooms"]}
        self.assertEqual(rooms["dev"]["topic"], "on postgres")
        alice = await self.login("alice", register=False)
        # ids go on increasing, an old cid is still known
        ok = await alice.send_message("#dev", "after restart", cid="d-1")
        self.assertGreater(ok["msg_id"], max(s["msg_id"] for s in sent))
        again = await alice.send_message("#dev", "hello 你好 ✓", cid="d-0")
        self.assertEqual((again["msg_id"], again["duplicate"]), (sent[0]["msg_id"], True))

    @e2e.with_server_output
    async def test_wrong_password_is_a_one_line_exit(self):
        password_file = os.path.join(self.tmp, "pgpass")
        with open(password_file, "w") as f:
            f.write("not the password\n")
        code, out, err = await run_command(TWISTD + [
            "-n", "--pidfile=", "--logfile=-", "chatserver", "--port", "tcp:0:interface=127.0.0.1",
            "--data-dir", os.path.join(self.tmp, "data"),
            "--database", self.cluster.tcp_dsn(self.dbname),
            "--database-password-file", password_file], timeout=30)
        self.assertEqual(code, 1, out + err)
        self.assertIn("cannot use the database PostgreSQL database", err)
        self.assertIn("password authentication failed", err)
        self.assertNotIn("not the password", out + err)
        self.assertNotIn("Traceback", out + err)


class BackupOnPostgreSQLTests(unittest.TestCase):

    def test_chatctl_backup_names_pg_dump(self):
        from types import SimpleNamespace
        from chat.ctl.wire import ControlError
        from chat.server.control import ControlOperations
        from twisted.internet.task import Clock
        server = SimpleNamespace(storage=PostgreSQLStorage("postgresql://chat@127.0.0.1/chat"),
                                 clock=Clock())
        operations = ControlOperations(server, running=True, db_path=None)
        failure = self.failureResultOf(operations.do_backup("/tmp/backup.db"), ControlError)
        self.assertIn("back it up with pg_dump", failure.value.message)
        lite = ControlOperations(SimpleNamespace(storage=object(), clock=Clock()), running=True,
                                 db_path=None)
        failure = self.failureResultOf(lite.do_backup("/tmp/backup.db"), ControlError)
        self.assertIn("(--lite): nothing to back up", failure.value.message)


class ChatctlOnPostgreSQLTests(e2e.E2ECase):
    """chatctl on a stopped PostgreSQL server (--database), then through the running one."""

    start_server = False

    async def setUp(self):
        await super().setUp()
        self.cluster = pgcluster.shared()
        self.dbname = self.cluster.new_database()
        self.server = ServerProcess(os.path.join(self.tmp, "server"),
                                    args=e2e.FAST_HASH + ["--database",
                                                          self.cluster.dsn(self.dbname)])
        self.servers.append(self.server)
        self.addCleanup(self.server.stop)

    def chatctl(self, *args, stdin=b""):
        from tests.test_ctl_e2e import chatctl
        return chatctl(self.server.data_dir, *args, stdin=stdin)

    @e2e.with_server_output
    async def test_adduser_offline_then_login(self):
        database = ["--database", self.cluster.dsn(self.dbname)]
        password = e2e.PASSWORDS["alice"]
        code, out, err = await self.chatctl(*database, "adduser", "alice", "--admin",
                                            stdin=password.encode() + b"\n")
        self.assertEqual((code, err), (0, ""), out)
        self.assertEqual(out.strip(), "added alice (admin)")
        self.assertEqual(self.cluster.execute("SELECT key, admin FROM accounts",
                                              dbname=self.dbname), [("alice", 1)])
        self.assertFalse(os.path.exists(self.server.db_path))      # no SQLite file made
        code, out, err = await self.chatctl(*database, "users")
        self.assertEqual(code, 0, err)
        self.assertIn("alice", out)
        code, out, err = await self.chatctl(*database, "backup", "/tmp/never-written.db")
        self.assertEqual(code, 1)
        self.assertIn("back it up with pg_dump", err)

        await self.server.start()
        alice = await self.login("alice", register=False)
        self.assertTrue(alice.login_data["user"]["admin"])
        # the running server answers on its socket: no --database needed
        code, out, err = await self.chatctl("users")
        self.assertEqual(code, 0, err)
        self.assertIn("online", out)
