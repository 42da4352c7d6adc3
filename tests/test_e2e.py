"""End-to-end tests: the real ``twistd chatserver`` in a child process, SQLite, loopback TCP.

Every test starts its own server (``tests.support.server_process.ServerProcess``) on a free
port of 127.0.0.1 with a fresh data directory, and talks to it with
``tests.support.wire.WireClient``, which also checks that every server frame is a valid
server message. Failures carry the server's output. Runs under trial and under pytest:

    .venv/bin/python -m twisted.trial tests.test_e2e
    .venv/bin/python -m pytest tests/test_e2e.py
"""

import contextlib
import datetime
import functools
import os
import re
import shutil
import signal
import sqlite3
import tempfile
import time

from twisted.internet import defer
from twisted.trial import unittest

from tests.support.server_process import (
    TWISTD, ServerProcess, free_port, port_accepts, port_spec, run_command, wait_for_exit,
)
from tests.support.wire import (
    ConnectionClosed, RequestError, connect, login_client, sleep,
)

# Cheap argon2 so that registering and logging in take milliseconds, not 100+ ms each.
FAST_HASH = ["--hash-time", "1", "--hash-memory", "8"]

PASSWORDS = {
    "alice": "alice-Pa55word-7f3k",
    "bob": "bob-Pa55word-q9zx",
    "carol": "carol-Pa55word-m2vd",
}
WRONG_PASSWORD = "wrong-Pa55word-x8c1"

TS_FORMAT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UNICODE_TEXT = "hello 👋 你好，世界 — naïve café 𝄞 🇩🇪 e\u0301 👩\u200d👩\u200d👧 \u202eRTL"

KEEP_TEMP = bool(os.environ.get("CHAT_E2E_KEEP"))


def ts_ms(ts: str) -> int:
    """ISO 8601 ``...Z`` with milliseconds -> integer ms since the epoch."""
    dt = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(dt.timestamp() * 1000)


def with_server_output(method):
    """Append the server's output to the message of whatever makes the test fail."""
    @functools.wraps(method)
    async def wrapper(self):
        try:
            return await method(self)
        except unittest.SkipTest:
            raise
        except Exception as exc:
            servers = [s for s in getattr(self, "servers", []) if s is not None]
            if servers:
                extra = "\n".join(s.describe() for s in servers)
                first = str(exc.args[0]) if exc.args else repr(exc)
                exc.args = (f"{first}\n{extra}",) + tuple(exc.args[1:])
            raise
    return wrapper


class E2ECase(unittest.TestCase):
    """Starts a server per test; tracks clients and closes them (and the server) afterwards."""

    timeout = 45
    server_args: tuple = ()
    start_server = True

    async def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="chat-e2e-")
        if not KEEP_TEMP:
            self.addCleanup(shutil.rmtree, self.tmp, True)
        self.clients = []
        self.servers = []
        self.server = None
        if self.start_server:
            self.server = ServerProcess(os.path.join(self.tmp, "server"),
                                        args=FAST_HASH + list(self.server_args))
            self.servers.append(self.server)
            self.addCleanup(self.server.stop)
            self.addCleanup(self._check_server_output)
            await self.server.start()
        self.addCleanup(self._close_clients)

    def _check_server_output(self):
        """Runs before the server is stopped (and before a test restarts it): no error may have
        been logged by the current run. Shutdowns are left to the tests about them."""
        for server in self.servers:
            output = server.output().rpartition("\n=== run ")[2].split("Received SIGTERM")[0]
            for marker in ("Traceback", "Unhandled Error", "#critical]"):
                if marker in output:
                    self.fail(f"the server logged {marker!r} during the test\n{server.describe()}")

    async def _close_clients(self):
        clients, self.clients = self.clients, []
        await defer.gatherResults([c.abort() for c in clients])
        problems = [f"{c.username or '?'}: {v}" for c in clients for v in c.violations]
        if problems:
            self.fail("server frames that break the protocol:\n" + "\n".join(problems))

    def track(self, client):
        self.clients.append(client)
        return client

    async def connect(self, server=None):
        server = server or self.server
        return self.track(await connect(server.port))

    async def login(self, name, register=True, server=None):
        server = server or self.server
        client = await login_client(server.port, name, PASSWORDS[name], register=register)
        return self.track(client)

    def db(self, server=None):
        """A read-only connection to the server's SQLite file (WAL content included), to use
        in ``with``: it is closed afterwards (an open reader would keep the server from
        checkpointing and removing its WAL on shutdown)."""
        server = server or self.server
        conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True, timeout=5)
        conn.row_factory = sqlite3.Row
        return contextlib.closing(conn)

    async def wait_offline(self, client, name, timeout=5):
        """Poll ``users`` until ``name`` is offline (its last connection is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            users = (await client.request("users"))["users"]
            if not any(u["name"] == name and u["online"] for u in users):
                return
            if time.monotonic() > deadline:
                self.fail(f"{name} still online after {timeout} s: {users}")
            await sleep(0.05)

    def assertMessage(self, msg, **expected):
        for key, value in expected.items():
            self.assertEqual(msg.get(key), value, f"field {key!r} of {msg!r}")


def cid_is(cid):
    return lambda event: event.get("msg", {}).get("cid") == cid


class ChatTests(E2ECase):

    @with_server_output
    async def test_lobby_chat_between_two_users(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        self.assertEqual(alice.hello_data["version"], 1)
        self.assertTrue(alice.hello_data["policy"]["persistent"])

        ok = await alice.send_message("#lobby", UNICODE_TEXT, cid="a-1")
        self.assertIsInstance(ok["msg_id"], int)
        self.assertIs(ok["duplicate"], False)
        self.assertRegex(ok["ts"], TS_FORMAT)

        for client in (bob, alice):  # the sender's own connection gets it too
            msg = (await client.next_event("message", match=cid_is("a-1")))["msg"]
            self.assertMessage(msg, id=ok["msg_id"], conv="#lobby", to="#lobby", text=UNICODE_TEXT,
                               ts=ok["ts"], cid="a-1")
            self.assertEqual(msg["from"], "alice")
        # characters travel as themselves, not as \uXXXX escapes
        self.assertTrue(any(UNICODE_TEXT.encode("utf-8") in raw for raw in bob.raw_frames),
                        "the text is not in bob's frames as raw UTF-8")

        reply_text = "回复 🙂 got it"
        ok2 = await bob.send_message("#lobby", reply_text, cid="b-1")
        self.assertGreater(ok2["msg_id"], ok["msg_id"])
        msg = (await alice.next_event("message", match=cid_is("b-1")))["msg"]
        self.assertMessage(msg, id=ok2["msg_id"], conv="#lobby", text=reply_text, ts=ok2["ts"])
        self.assertEqual(msg["from"], "bob")

        history = await bob.request("history", conv="#lobby")
        self.assertEqual([(m["id"], m["from"], m["text"]) for m in history["messages"]],
                         [(ok["msg_id"], "alice", UNICODE_TEXT), (ok2["msg_id"], "bob", reply_text)])

    @with_server_output
    async def test_private_message_reaches_only_the_two(self):
        alice = await self.login("alice")
        alice2 = await self.login("alice", register=False)
        bob = await self.login("bob")
        carol = await self.login("carol")
        secret = "just for bob 🤫 秘密"

        ok = await alice.send_message("@bob", secret, cid="pm-1")
        pm_id = ok["msg_id"]
        msg = (await bob.next_event("message", match=cid_is("pm-1")))["msg"]
        self.assertMessage(msg, id=pm_id, conv="@alice", to="@bob", text=secret, ts=ok["ts"])
        self.assertEqual(msg["from"], "alice")
        for client in (alice2, alice):
            msg = (await client.next_event("message", match=cid_is("pm-1")))["msg"]
            self.assertMessage(msg, id=pm_id, conv="@bob", to="@bob", text=secret)
            self.assertEqual(msg["from"], "alice")

        # a later lobby message reaches carol: anything sent to her before it has arrived
        ok2 = await alice.send_message("#lobby", "everyone hears this", cid="lobby-1")
        await carol.next_event("message", match=cid_is("lobby-1"))
        await sleep(0.2)
        leaked = [m for m in carol.messages() if m["id"] == pm_id or m.get("text") == secret]
        self.assertEqual(leaked, [])
        self.assertFalse(any(secret.encode("utf-8") in raw for raw in carol.raw_frames))

        # carol's "@bob" is her own (empty) chat with bob, not alice's
        history = await carol.request("history", conv="@bob")
        self.assertEqual(history["messages"], [])
        history = await carol.request("history", conv="@alice")
        self.assertEqual(history["messages"], [])
        synced = await carol.request("sync", since=0)
        self.assertEqual([m["id"] for m in synced["messages"]], [ok2["msg_id"]])
        self.assertNotIn("@alice", (await carol.request("unread"))["unread"])

        # the two who share it find it in their history, each under their own name for it
        for client, conv in ((bob, "@alice"), (alice2, "@bob")):
            history = await client.request("history", conv=conv)
            self.assertEqual([(m["id"], m["conv"], m["text"]) for m in history["messages"]],
                             [(pm_id, conv, secret)])
            self.assertIn("peer_read", history)

    @with_server_output
    async def test_offline_delivery_counts_unread_and_syncs_in_order(self):
        bob = await self.login("bob")
        seen = bob.login_data["last_id"]
        await bob.close()
        alice = await self.login("alice")
        await self.wait_offline(alice, "bob")

        sent = []
        for i in range(3):
            ok = await alice.send_message("@bob", f"pm {i} 📨", cid=f"pm-{i}")
            sent.append((ok["msg_id"], "@alice", f"pm {i} 📨"))
        for i in range(2):
            ok = await alice.send_message("#lobby", f"lobby {i}", cid=f"lobby-{i}")
            sent.append((ok["msg_id"], "#lobby", f"lobby {i}"))
        ids = [s[0] for s in sent]
        self.assertEqual(ids, sorted(ids))

        bob = await self.login("bob", register=False)
        self.assertEqual(bob.login_data["unread"], {"@alice": 3, "#lobby": 2})
        self.assertGreaterEqual(bob.login_data["last_id"], ids[-1])
        self.assertEqual((await bob.request("unread"))["unread"], {"@alice": 3, "#lobby": 2})

        for since in (0, seen):
            synced = await bob.request("sync", since=since)
            self.assertEqual([(m["id"], m["conv"], m["text"]) for m in synced["messages"]], sent)
            self.assertIs(synced["more"], False)
            self.assertTrue(all(m["from"] == "alice" for m in synced["messages"]))
        synced = await bob.request("sync", since=ids[1])
        self.assertEqual([m["id"] for m in synced["messages"]], ids[2:])
        page = await bob.request("sync", since=0, limit=2)
        self.assertEqual([m["id"] for m in page["messages"]], ids[:2])
        self.assertIs(page["more"], True)

        await bob.request("read", conv="@alice", up_to=ids[2])
        self.assertEqual((await bob.request("unread"))["unread"], {"#lobby": 2})

    @with_server_output
    async def test_state_survives_a_restart(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        room = (await alice.request("create_room", room="dev", topic="builds"))["room"]
        self.assertEqual(room["name"], "dev")
        await alice.request("set_topic", room="dev", topic="release friday 🚀")
        await bob.request("join", room="#dev")
        await bob.close()

        sent = {}
        for to, cid in (("#dev", "d-0"), ("#dev", "d-1"), ("@bob", "p-0"), ("#lobby", "l-0")):
            ok = await alice.send_message(to, f"{cid} before restart ✓", cid=cid)
            sent[cid] = ok
        bob = await self.login("bob", register=False)
        await bob.request("read", conv="#dev", up_to=sent["d-0"]["msg_id"])
        expected_unread = {"#dev": 1, "@alice": 1, "#lobby": 1}
        self.assertEqual((await bob.request("unread"))["unread"], expected_unread)
        history_before = (await alice.request("history", conv="#dev"))["messages"]
        await self._close_clients()
        self._check_server_output()

        code = await self.server.stop()
        self.assertIn(code, (0, -signal.SIGTERM), "exit status after SIGTERM")
        await self.server.start()

        with self.assertRaises(RequestError) as caught:
            await self.login("alice")  # registering again
        self.assertEqual(caught.exception.code, "name_taken")
        client = await self.connect()
        await client.hello()
        with self.assertRaises(RequestError) as caught:
            await client.login("alice", WRONG_PASSWORD)
        self.assertEqual(caught.exception.code, "bad_credentials")

        alice = await self.login("alice", register=False)
        rooms = {r["name"]: r for r in alice.login_data["rooms"]}
        self.assertIn("dev", rooms)
        self.assertEqual(rooms["dev"]["topic"], "release friday 🚀")
        self.assertEqual(rooms["dev"]["members"], 2)
        rooms = {r["name"]: r for r in (await alice.request("rooms"))["rooms"]}
        self.assertEqual(rooms["dev"]["topic"], "release friday 🚀")
        self.assertEqual((await alice.request("history", conv="#dev"))["messages"], history_before)
        members = (await alice.request("members", room="dev"))["members"]
        self.assertEqual(sorted(m["name"] for m in members), ["alice", "bob"])

        bob = await self.login("bob", register=False)
        self.assertEqual(bob.login_data["unread"], expected_unread)
        pm = (await bob.request("history", conv="@alice"))["messages"]
        self.assertEqual([m["id"] for m in pm], [sent["p-0"]["msg_id"]])
        self.assertEqual(pm[0]["text"], "p-0 before restart ✓")

        # ids keep increasing across the restart; an old cid is still known
        ok = await alice.send_message("#dev", "after restart", cid="d-2")
        self.assertGreater(ok["msg_id"], max(s["msg_id"] for s in sent.values()))
        again = await alice.send_message("#dev", "d-1 before restart ✓", cid="d-1")
        self.assertEqual((again["msg_id"], again["duplicate"]), (sent["d-1"]["msg_id"], True))

    @with_server_output
    async def test_resend_after_dropped_connection_is_stored_once(self):
        bob = await self.login("bob")
        alice = await self.login("alice")
        dropped = await self.login("alice", register=False)
        text = "sent once 🧷"

        pending = dropped.send_message("#lobby", text, cid="dup-1")
        await dropped.close()  # the frame goes out, then FIN; the ok is never read
        with self.assertRaises(ConnectionClosed):
            await pending

        first = (await bob.next_event("message", match=cid_is("dup-1")))["msg"]
        again = await self.login("alice", register=False)
        ok = await again.send_message("#lobby", text, cid="dup-1")
        self.assertEqual((ok["msg_id"], ok["ts"], ok["duplicate"]), (first["id"], first["ts"], True))

        # a message after it: once bob has that one, a second copy would have arrived too
        await again.send_message("#lobby", "after", cid="after-1")
        await bob.next_event("message", match=cid_is("after-1"))
        await alice.next_event("message", match=cid_is("after-1"))
        self.assertEqual([m["id"] for m in bob.messages() if m["cid"] == "dup-1"], [first["id"]])
        self.assertEqual([m["id"] for m in alice.messages() if m["cid"] == "dup-1"], [first["id"]])
        self.assertEqual([m["id"] for m in again.messages() if m["cid"] == "dup-1"], [])
        history = (await bob.request("history", conv="#lobby"))["messages"]
        self.assertEqual([m["id"] for m in history if m["cid"] == "dup-1"], [first["id"]])

    @with_server_output
    async def test_same_cid_twice_in_flight_is_stored_once(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        results = await defer.gatherResults([
            alice.send_message("@bob", "twice?", cid="race-1"),
            alice.send_message("@bob", "twice?", cid="race-1"),
        ])
        self.assertEqual(results[0]["msg_id"], results[1]["msg_id"])
        self.assertEqual(sorted(r["duplicate"] for r in results), [False, True])
        await alice.send_message("@bob", "after", cid="after-1")
        await bob.next_event("message", match=cid_is("after-1"))
        self.assertEqual(len([m for m in bob.messages() if m["cid"] == "race-1"]), 1)

    @with_server_output
    async def test_avatar_travels_in_body_frames(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 273 + b"end"  # 70,000+ bytes: 2 frames
        self.assertEqual(await alice.request_with_body("set_avatar", image, avatar_type="image/png"), {})
        got = await bob.request("get_avatar", user="alice")
        self.assertEqual((got["user"], got["avatar_type"], got["size"]), ("alice", "image/png", len(image)))
        self.assertEqual(got["_body"], image)
        users = {u["name"]: u for u in (await bob.request("users"))["users"]}
        self.assertIs(users["alice"]["avatar"], True)
        with self.assertRaises(RequestError) as caught:
            await alice.request("get_avatar", user="bob")
        self.assertEqual(caught.exception.code, "not_found")

    @with_server_output
    async def test_burn_after_reading(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        secret = "burn me 🔥 阅后即焚 BURN-SECRET-5150"

        ok = await alice.send_message("@bob", secret, cid="burn-1", burn=1)
        msg_id = ok["msg_id"]
        msg = (await bob.next_event("message", match=cid_is("burn-1")))["msg"]
        self.assertMessage(msg, id=msg_id, conv="@alice", text=secret, burn=1)
        msg = (await alice.next_event("message", match=cid_is("burn-1")))["msg"]
        self.assertMessage(msg, id=msg_id, conv="@bob", burn=1)

        with self.db() as db:  # stored like any other message until it is read
            row = db.execute("SELECT text FROM messages WHERE id = ?", (msg_id,)).fetchone()
        self.assertEqual(row["text"], secret)
        await sleep(1.3)  # longer than the TTL: nothing burns before bob has read it
        self.assertEqual(alice.events_of("burned") + bob.events_of("burned"), [])

        read_at = time.monotonic()
        await bob.request("read", conv="@alice", up_to=msg_id)
        receipt = await alice.next_event("read", match=lambda e: e["up_to"] >= msg_id)
        self.assertEqual((receipt["conv"], receipt["user"]), ("@bob", "bob"))
        burned_bob = await bob.next_event("burned", timeout=4)
        burned_alice = await alice.next_event("burned", timeout=4)
        elapsed = time.monotonic() - read_at
        self.assertEqual((burned_bob["conv"], burned_bob["ids"]), ("@alice", [msg_id]))
        self.assertEqual((burned_alice["conv"], burned_alice["ids"]), ("@bob", [msg_id]))
        self.assertGreater(elapsed, 0.8, "burned before the TTL ran out")
        self.assertLess(elapsed, 3.5)

        with self.db() as db:
            row = db.execute("SELECT * FROM messages WHERE id = ?", (msg_id,)).fetchone()
            self.assertIsNotNone(row, "the metadata line of a burned message is gone")
            self.assertIsNone(row["text"])
            self.assertEqual(row["burned"], 1)
            self.assertEqual(row["sender"], "alice")
            self.assertTrue(row["conv"].startswith("d:"), row["conv"])
            self.assertEqual(row["ts"], ts_ms(ok["ts"]))
            # the text is nowhere in the database any more (any table, any column)
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
                columns = [r["name"] for r in db.execute(f'PRAGMA table_info("{table}")')]
                for column in columns:
                    hit = db.execute(
                        f'SELECT count(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ?',
                        ("%BURN-SECRET-5150%",)).fetchone()[0]
                    self.assertEqual(hit, 0, f"burned text still in {table}.{column}")

        for client, conv in ((bob, "@alice"), (alice, "@bob")):
            history = (await client.request("history", conv=conv))["messages"]
            self.assertEqual([m["id"] for m in history], [msg_id])
            self.assertIs(history[0].get("burned"), True)
            self.assertIsNone(history[0].get("text"))
            self.assertEqual(history[0]["from"], "alice")
            synced = (await client.request("sync", since=0))["messages"]
            self.assertIs(synced[0].get("burned"), True)
            self.assertIsNone(synced[0].get("text"))

    @with_server_output
    async def test_burned_text_is_not_left_in_the_database_files(self):
        """Not even in free pages or in the WAL: the bytes of the files, not just the rows."""
        alice = await self.login("alice")
        bob = await self.login("bob")
        marker = "WAL-BURN-SECRET-8086"
        ok = await alice.send_message("@bob", f"{marker} 🔥", cid="burn-2", burn=1)
        await bob.next_event("message", match=cid_is("burn-2"))
        self.assertTrue(self._files_holding(marker.encode()), "the test looks in the wrong place")
        await bob.request("read", conv="@alice", up_to=ok["msg_id"])
        await bob.next_event("burned", timeout=4)
        deadline = time.monotonic() + 2
        while self._files_holding(marker.encode()) and time.monotonic() < deadline:
            await sleep(0.1)
        self.assertEqual(self._files_holding(marker.encode()), {},
                         "burned text still in these files (name: copies)")

    def _files_holding(self, needle):
        found = {}
        for name in sorted(os.listdir(self.server.data_dir)):
            if not os.path.isfile(os.path.join(self.server.data_dir, name)):
                continue      # chatctl's control.sock, the server.lock symlink
            with open(os.path.join(self.server.data_dir, name), "rb") as f:
                count = f.read().count(needle)
            if count:
                found[name] = count
        return found

    @with_server_output
    async def test_shutdown_with_users_online_is_clean(self):
        alice = await self.login("alice")
        bob = await self.login("bob")
        await alice.send_message("#lobby", "bye for now", cid="x-1")
        self._check_server_output()
        before = len(self.server.output())
        code = await self.server.stop()
        self.assertIn(code, (0, -signal.SIGTERM), "exit status after SIGTERM")
        shutdown_log = self.server.output()[before:]
        for marker in ("Traceback", "Unhandled Error"):
            self.assertNotIn(marker, shutdown_log, f"shutdown log:\n{shutdown_log}")
        for client in (alice, bob):
            await client.when_closed()
        self.clients.clear()
        await self.server.start()
        carol = await self.login("carol")
        users = {u["name"]: u for u in (await carol.request("users"))["users"]}
        for name in ("alice", "bob"):
            self.assertFalse(users[name]["online"])
            self.assertIsNotNone(users[name]["last_seen"],
                                 f"{name} was online until the shutdown: {users[name]}")

    @with_server_output
    async def test_log_shows_connection_login_logout_but_no_password(self):
        alice = await self.login("alice")
        port = alice.peer_port
        await alice.request("logout")
        await alice.close()
        failed = await self.connect()
        await failed.hello()
        with self.assertRaises(RequestError) as caught:
            await failed.login("alice", WRONG_PASSWORD)
        self.assertEqual(caught.exception.code, "bad_credentials")
        await failed.close()

        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 5
        while True:  # the server logs the close when it sees it
            lines = [line for line in self.server.output().splitlines() if address in line]
            if any(re.search(r"clos|lost|disconnect", line, re.I) for line in lines):
                break
            if time.monotonic() > deadline:
                break
            await sleep(0.05)
        lines_text = "\n".join(lines)
        self.assertTrue(any(re.search(r"connect", line, re.I) for line in lines),
                        f"no connection line for {address}:\n{lines_text}")
        self.assertTrue(any(re.search(r"log(ged)?[ _-]?in", line, re.I) for line in lines),
                        f"no login line for {address}:\n{lines_text}")
        self.assertTrue(any(re.search(r"log(ged)?[ _-]?out", line, re.I) for line in lines),
                        f"no logout line for {address}:\n{lines_text}")
        output = self.server.output()
        for password in (PASSWORDS["alice"], WRONG_PASSWORD):
            self.assertNotIn(password, output)


class AdminTests(E2ECase):
    server_args = ("--allow-monitoring",)

    @with_server_output
    async def test_monitor_ban_and_shutdown_through_twistd(self):
        alice = await self.login("alice")   # the first account: an admin
        bob = await self.login("bob")
        carol = await self.login("carol")
        self.assertTrue(alice.hello_data["policy"]["monitoring"])
        self.assertEqual(await alice.request("monitor", on=True), {"on": True})
        await bob.send_message("@carol", "psst", cid="p-1")
        watched = await alice.next_event("monitor")
        self.assertMessage(watched["msg"], conv="@carol", text="psst")
        self.assertMessage(watched["msg"], **{"from": "bob"})

        self.assertEqual(await alice.request("ban", user="carol", reason="spam"), {"closed": 1})
        bye = await carol.next_event("bye")
        self.assertEqual((bye["code"], bye["message"]), ("banned", "banned by alice: spam"))
        await carol.when_closed()
        with self.assertRaises(RequestError) as caught:
            await self.login("carol", register=False)
        self.assertEqual(caught.exception.code, "banned")

        data = await alice.request("shutdown", seconds=1, message="maintenance")
        self.assertRegex(data["at"], TS_FORMAT)
        notice = await bob.next_event("notice")
        self.assertEqual((notice["kind"], notice["seconds"], notice["text"]),
                         ("shutdown", 1, "maintenance"))
        for client in (alice, bob):
            self.assertEqual((await client.next_event("bye", timeout=10))["code"], "shutdown")
        code = await wait_for_exit(self.server.proc, 10)
        self.assertEqual(code, 0, "the server stops by itself, cleanly")
        self.clients.clear()

        await self.server.start()   # the ban and the last-seen times were stored
        alice = await self.login("alice", register=False)
        info = (await alice.request("user_info", user="carol"))["user"]
        self.assertEqual((info["banned"], info["ban_reason"]), (True, "spam"))
        users = {u["name"]: u for u in (await alice.request("users"))["users"]}
        self.assertIsNotNone(users["bob"]["last_seen"])


class CommandLineTests(E2ECase):
    start_server = False

    @with_server_output
    async def test_help_lists_the_options(self):
        code, out, err = await run_command(TWISTD + ["chatserver", "--help"], cwd=self.tmp)
        self.assertEqual(code, 0, err)
        for option in ("--port", "--data-dir", "--db", "--lite", "--admin", "--allow-monitoring"):
            self.assertIn(option, out)

    @with_server_output
    async def test_bad_option_values_are_one_line_errors(self):
        a_file = os.path.join(self.tmp, "a-file")
        with open(a_file, "w") as f:
            f.write("not a directory\n")
        data = os.path.join(self.tmp, "data")
        cases = {
            "bad port": ["--port", "nonsense:xyz", "--data-dir", data],
            "data dir is a file": ["--port", port_spec(free_port()), "--data-dir", a_file],
            "unknown option": ["--port", port_spec(free_port()), "--data-dir", data, "--no-such"],
        }
        runs = await defer.gatherResults([
            run_command(TWISTD + ["-n", "--pidfile=", "chatserver", *args, *FAST_HASH], cwd=self.tmp)
            for args in cases.values()])
        for what, (code, out, err) in zip(cases, runs):
            context = f"{what}: status {code}\nstdout:\n{out}\nstderr:\n{err}"
            self.assertEqual(code, 1, context)
            self.assertEqual(len(err.strip().splitlines()), 1, context)
            self.assertNotIn("Traceback", out + err, context)

    @with_server_output
    async def test_port_in_use_is_a_one_line_error(self):
        first = ServerProcess(os.path.join(self.tmp, "first"), args=FAST_HASH)
        self.servers.append(first)
        self.addCleanup(first.stop)
        await first.start()
        code, out, err = await run_command(
            TWISTD + ["-n", "--pidfile=", "chatserver", "--port", port_spec(first.port),
                      "--data-dir", os.path.join(self.tmp, "second")] + FAST_HASH, cwd=self.tmp)
        context = f"status {code}\nstdout:\n{out}\nstderr:\n{err}"
        self.assertEqual(code, 1, context)
        errors = err.strip().splitlines()  # the log (stdout here) may have it too
        self.assertEqual(len(errors), 1, context)
        self.assertIn("in use", errors[0], context)
        self.assertNotIn("Traceback", out + err, context)

    @with_server_output
    async def test_runs_as_a_daemon(self):
        base = os.path.join(self.tmp, "daemon")
        data = os.path.join(base, "data")
        os.makedirs(base)
        pidfile = os.path.join(base, "twistd.pid")
        logfile = os.path.join(base, "twistd.log")
        port = free_port()
        self.addCleanup(self._kill_daemon, pidfile)

        code, out, err = await run_command(
            TWISTD + ["--pidfile", pidfile, "--logfile", logfile, "chatserver",
                      "--port", port_spec(port), "--data-dir", data] + FAST_HASH,
            cwd=base, timeout=20)
        self.assertEqual(code, 0, f"stdout:\n{out}\nstderr:\n{err}")
        deadline = time.monotonic() + 10
        while not (os.path.exists(pidfile) and await port_accepts(port)):
            if time.monotonic() > deadline:
                self.fail(f"daemon not up after 10 s; log:\n{_read(logfile)}")
            await sleep(0.05)
        pid = int(_read(pidfile).strip())
        self.assertTrue(_alive(pid))

        client = self.track(await login_client(port, "alice", PASSWORDS["alice"]))
        self.assertEqual(client.login_data["user"]["name"], "alice")
        await client.close()
        self.assertTrue(os.path.exists(os.path.join(data, "chat_server.db")))

        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while _alive(pid) or os.path.exists(pidfile):
            if time.monotonic() > deadline:
                self.fail(f"daemon {pid} still running (or pid file left) 10 s after SIGTERM;"
                          f" log:\n{_read(logfile)}")
            await sleep(0.05)
        log = _read(logfile)
        self.assertIn("login alice", log)
        self.assertNotIn(PASSWORDS["alice"], log)
        self.assertNotIn("Traceback", log)

    def _kill_daemon(self, pidfile):
        try:
            pid = int(_read(pidfile).strip())
        except (OSError, ValueError):
            return
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def _alive(pid):
    """True if ``pid`` runs (a zombie that nobody reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
