"""End-to-end tests of ``chatctl``: the real ``twistd chatserver`` in a child process, the real
``chatctl`` (``python -m chat.ctl``, as the console script runs it) in others.

An account made by ``chatctl adduser`` with the password on stdin, the way scripts make them,
logs in at once over the native protocol; a stopped server's data directory is worked on
directly; bad input is one line on stderr and exit status 1.
"""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.server_process import (
    TWISTD, ServerProcess, child_env, port_spec, run_command, wait_for_exit)
from tests.support.wire import RequestError, login_client
from tests.test_e2e import FAST_HASH, KEEP_TEMP, with_server_output

PASSWORD = "ctl-Pa55word-4h2k"
CHATCTL = [sys.executable, "-m", "chat.ctl"]


@defer.inlineCallbacks
def chatctl(data_dir, *args, stdin: bytes = b"", timeout: float = 60, prefix=()):
    """Run chatctl with ``stdin`` (not a terminal) to completion without blocking the
    reactor; fires with (exit status, stdout, stderr)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as given:
        given.write(stdin)
        given.seek(0)
        proc = subprocess.Popen([*prefix, *CHATCTL, "--data-dir", data_dir, *args], stdin=given,
                                stdout=out, stderr=err, env=child_env())
        code = yield wait_for_exit(proc, timeout)
        if code is None:
            proc.kill()
            yield wait_for_exit(proc, 5)
            raise AssertionError(f"chatctl {args} did not finish within {timeout} s")
        out.seek(0)
        err.seek(0)
        return code, out.read().decode("utf-8"), err.read().decode("utf-8")


class ChatctlCase(unittest.TestCase):
    timeout = 90

    async def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chat-ctl-e2e-")
        if not KEEP_TEMP:
            self.addCleanup(shutil.rmtree, self.tmp, True)
        self.server = ServerProcess(os.path.join(self.tmp, "server"), args=FAST_HASH)
        self.servers = [self.server]
        self.addCleanup(self.server.stop)
        self.clients = []
        self.addCleanup(self._close_clients)
        self.data = self.server.data_dir

    async def _close_clients(self):
        await defer.gatherResults([c.abort() for c in self.clients])

    async def ok(self, *args, stdin=b""):
        code, out, err = await chatctl(self.data, *args, stdin=stdin)
        self.assertEqual((code, err), (0, ""), f"chatctl {args}: {out}")
        return out

    async def fails(self, *args, stdin=b"", prefix=()) -> str:
        """The one line chatctl says on stderr; it must exit with status 1."""
        code, out, err = await chatctl(self.data, *args, stdin=stdin, prefix=prefix)
        context = f"chatctl {args}: status {code}\nstdout:\n{out}\nstderr:\n{err}"
        self.assertEqual(code, 1, context)
        self.assertEqual(out, "", context)
        self.assertNotIn("Traceback", err, context)
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, context)
        self.assertTrue(lines[0].startswith("chatctl: error: "), context)
        return lines[0]

    async def login(self, name, password=PASSWORD):
        client = await login_client(self.server.port, name, password, register=False)
        self.clients.append(client)
        return client


class RunningServerTests(ChatctlCase):

    async def setUp(self):
        await super().setUp()
        await self.server.start()

    @with_server_output
    async def test_adduser_from_stdin_then_login_at_once(self):
        started = time.monotonic()
        out = await self.ok("adduser", "alice", stdin=PASSWORD.encode() + b"\n")
        took = time.monotonic() - started
        self.assertEqual(out, "added alice\n")
        client = await self.login("alice")
        self.assertEqual(client.login_data["user"]["name"], "alice")
        self.assertFalse(client.login_data["user"]["admin"])
        self.assertLess(took, 30, "chatctl adduser took far too long")

    @with_server_output
    async def test_scripts_make_many_accounts(self):
        names = ["u1", "u2", "张伟", "Ünal"]
        for name in names:
            await self.ok("adduser", name, stdin=f"{PASSWORD}-{name}\r\n".encode())
        for name in names:
            await self.login(name, f"{PASSWORD}-{name}")
        out = await self.ok("users")
        self.assertEqual(sorted(line.split()[0] for line in out.splitlines()), sorted(names))

    @with_server_output
    async def test_admin_commands_reach_clients(self):
        await self.ok("adduser", "bob", stdin=PASSWORD.encode())
        bob = await self.login("bob")
        out = await self.ok("notice", "maintenance", "at", "five")
        self.assertEqual(out, "notice sent to 1 user online\n")
        notice = await bob.next_event("notice")
        self.assertEqual((notice["from"], notice["text"]), ("server", "maintenance at five"))
        out = await self.ok("kick", "bob", "go", "home")
        self.assertEqual(out, "kicked bob (1 connection closed)\n")
        bye = await bob.next_event("bye")
        self.assertEqual(bye["message"], "kicked by server: go home")
        await self.ok("ban", "bob")
        with self.assertRaises(RequestError) as caught:
            await self.login("bob")
        self.assertEqual(caught.exception.code, "banned")
        await self.ok("unban", "bob")
        await self.login("bob")

    @with_server_output
    async def test_passwd_and_deluser(self):
        await self.ok("adduser", "carol", stdin=PASSWORD.encode())
        await self.ok("passwd", "carol", stdin=b"carol-new-password\n")
        await self.login("carol", "carol-new-password")
        out = await self.ok("deluser", "carol")
        self.assertEqual(out, "deleted carol (1 connection closed)\n")
        with self.assertRaises(RequestError) as caught:
            await self.login("carol", "carol-new-password")
        self.assertEqual(caught.exception.code, "bad_credentials")

    @with_server_output
    async def test_stats_rooms_backup(self):
        await self.ok("adduser", "dave", stdin=PASSWORD.encode())
        await self.login("dave")
        stats = dict(line.split(": ", 1) for line in (await self.ok("stats")).splitlines())
        self.assertEqual((stats["running"], stats["accounts"], stats["online"]),
                         ("True", "1", "1"))
        self.assertEqual(await self.ok("rooms"), "#lobby  1 member  1 online\n")
        target = os.path.join(self.tmp, "backup.db")
        out = await self.ok("backup", target)
        self.assertTrue(out.startswith(f"wrote {target} ("), out)
        copy = sqlite3.connect(target)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("SELECT name FROM accounts").fetchall(), [("dave",)])
        self.assertIn("already", await self.fails("backup", target))

    @with_server_output
    async def test_socket_is_private_and_goes_with_the_server(self):
        path = os.path.join(self.data, "control.sock")
        mode = os.stat(path).st_mode
        self.assertTrue(stat.S_ISSOCK(mode))
        self.assertEqual(stat.S_IMODE(mode), 0o600)
        self.assertEqual(os.readlink(os.path.join(self.data, "server.lock")), str(self.server.pid))
        await self.server.stop()
        self.assertFalse(os.path.lexists(path))
        self.assertFalse(os.path.lexists(os.path.join(self.data, "server.lock")))

    @with_server_output
    async def test_a_second_server_on_the_same_data_dir_is_refused(self):
        code, out, err = await run_command(
            TWISTD + ["-n", "--pidfile=", "chatserver", "--port", port_spec(0),
                      "--data-dir", self.data] + FAST_HASH, cwd=self.tmp)
        context = f"status {code}\nstdout:\n{out}\nstderr:\n{err}"
        self.assertEqual(code, 1, context)
        self.assertEqual(len(err.strip().splitlines()), 1, context)
        self.assertIn(f"(process {self.server.pid}) is using {self.data}", err, context)
        await self.ok("stats")            # the first one is unharmed

    @with_server_output
    async def test_bad_input(self):
        self.assertIn("unknown command 'frobnicate'", await self.fails("frobnicate"))
        self.assertIn("no command given", await self.fails())
        self.assertIn("bad user name 'a b'", await self.fails("adduser", "a b", stdin=b"x" * 9))
        self.assertIn("no password given", await self.fails("adduser", "erin"))
        self.assertIn("1 to 1024 characters", await self.fails("adduser", "erin",
                                                              stdin=b"x" * 1025))
        self.assertIn("not UTF-8", await self.fails("adduser", "erin", stdin=b"\xff" * 10))
        self.assertIn("no such user: nobody", await self.fails("deluser", "nobody"))
        self.assertIn("no such user: nobody", await self.fails("kick", "nobody"))
        self.assertIn("unrecognized arguments", await self.fails("users", "extra"))
        await self.ok("adduser", "erin", stdin=PASSWORD.encode())
        self.assertIn("the name ERIN is taken",
                      await self.fails("adduser", "ERIN", stdin=PASSWORD.encode()))
        self.assertIn("looks like erin",
                      await self.fails("adduser", "еrin", stdin=PASSWORD.encode()))

    @with_server_output
    async def test_a_socket_we_may_not_open(self):
        path = os.path.join(self.data, "control.sock")
        os.chmod(path, 0)
        self.addCleanup(os.chmod, path, 0o600)
        # root opens anything: without the capabilities that override file modes it may not
        prefix = (shutil.which("setpriv"), "--bounding-set=-dac_override,-dac_read_search") \
            if os.getuid() == 0 else ()
        line = await self.fails("users", prefix=prefix)
        self.assertIn("permission denied", line)
        self.assertIn("run chatctl as the user that runs the server", line)


class StoppedServerTests(ChatctlCase):
    """No server runs: chatctl opens the data directory itself."""

    @with_server_output
    async def test_accounts_made_offline_log_in_once_the_server_runs(self):
        await self.ok("adduser", "frank", stdin=PASSWORD.encode())     # makes the database
        await self.ok("adduser", "root", "--admin", stdin=PASSWORD.encode())
        self.assertEqual(stat.S_IMODE(os.stat(self.server.db_path).st_mode), 0o600)
        await self.ok("ban", "frank", "spam")
        out = await self.ok("users")
        self.assertEqual(out.splitlines(), ["frank  never seen  banned: spam",
                                            "root   never seen  admin"])
        self.assertIn("nobody is online", await self.fails("notice", "hi"))
        await self.ok("unban", "frank")
        self.assertFalse(os.path.lexists(os.path.join(self.data, "server.lock")))
        await self.server.start()
        client = await self.login("frank")
        self.assertEqual(client.login_data["user"]["name"], "frank")
        root = await self.login("root")
        self.assertTrue(root.login_data["user"]["admin"])

    @with_server_output
    async def test_offline_backup(self):
        await self.ok("adduser", "gina", stdin=PASSWORD.encode())
        target = os.path.join(self.tmp, "offline.db")
        await self.ok("backup", target)
        copy = sqlite3.connect(target)
        self.addCleanup(copy.close)
        self.assertEqual(copy.execute("SELECT name FROM accounts").fetchall(), [("gina",)])

    @with_server_output
    async def test_after_a_crash(self):
        await self.server.start()
        await self.ok("adduser", "hal", stdin=PASSWORD.encode())
        await self.server.kill9()            # a stale socket and lock are left behind
        self.assertTrue(os.path.lexists(os.path.join(self.data, "control.sock")))
        await self.ok("passwd", "hal", stdin=b"hal-offline-password")
        await self.server.start()
        await self.login("hal", "hal-offline-password")

    @with_server_output
    async def test_a_data_dir_held_by_a_live_process_without_a_socket(self):
        await self.ok("adduser", "ian", stdin=PASSWORD.encode())
        os.symlink(str(os.getpid()), os.path.join(self.data, "server.lock"))
        line = await self.fails("users")
        self.assertIn(f"(process {os.getpid()}) is using", line)
        self.assertIn("its control socket does not answer", line)

    @with_server_output
    async def test_adduser_makes_no_second_database_in_a_used_data_dir(self):
        os.makedirs(os.path.join(self.data, "files"))      # a server ran, its database elsewhere
        line = await self.fails("adduser", "kim", stdin=PASSWORD.encode())
        self.assertIn("has no chat_server.db but is not new", line)
        self.assertFalse(os.path.exists(self.server.db_path))
        other = os.path.join(self.tmp, "elsewhere.db")
        await self.ok("--db", other, "adduser", "kim", stdin=PASSWORD.encode())
        self.assertTrue(os.path.exists(other))

    @with_server_output
    async def test_no_such_data_dir(self):
        self.data = os.path.join(self.tmp, "typo")
        self.assertIn("no server has run on", await self.fails("users"))
        self.assertFalse(os.path.exists(self.data), "only adduser makes a data dir")
