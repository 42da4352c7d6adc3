"""File transfer end to end: the real server process, clients over loopback TCP.

The client core moves the files (its disk work in threads, as in the real clients); a proxy
cuts connections in the middle of a transfer; chat-cli processes check the commands.
"""

import hashlib
import os
import re

from twisted.internet import endpoints, reactor

from chat.client.core import ChatClient, LinkState
from chat.client.listener import ClientListener
from chat.client.transfers import TransferState
from chat.protocol.framing import FILE_CHUNK
from tests.support.proxy import Proxy
from tests.support.wire import sleep
from tests.test_cli_e2e import CLOCK, CliCase
from tests.test_e2e import PASSWORDS, E2ECase

MiB = 1 << 20


class Events(ClientListener):
    def __init__(self):
        self.messages = []
        self.transfers = []

    def on_message(self, msg, live):
        self.messages.append(msg)

    def on_transfer(self, transfer):
        self.transfers.append((transfer.state, transfer.done))


class FilesCase(E2ECase):
    timeout = 120
    server_args = ("--max-file-size", "64M", "--quota", "200M")

    async def setUp(self):
        await super().setUp()
        self.files_dir = os.path.join(self.tmp, "files")
        os.makedirs(self.files_dir)

    def make_file(self, name, size):
        path = os.path.join(self.files_dir, name)
        with open(path, "wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 4 * MiB))
                f.write(chunk)
                left -= len(chunk)
        return path

    async def user(self, name, register=True, port=None):
        events = Events()
        ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port or self.server.port,
                                          timeout=5)
        client = ChatClient(ep.connect, reactor, events, client_name="e2e")
        client.events = events
        self.addCleanup(client.close)
        await client.login(name, PASSWORDS[name], register=register)
        return client

    async def until(self, condition, timeout=60.0):
        for _ in range(int(timeout / 0.05)):
            if condition():
                return
            await sleep(0.05)
        self.fail("condition not met in time")

    def proxy(self):
        """A proxy in front of the server, closed after the test: (proxy, its port)."""
        proxy = Proxy(self.server.port)
        port = proxy.listen()
        self.addCleanup(proxy.port.stopListening)
        return proxy, port

    def folder(self, name):
        return os.path.join(self.tmp, "downloads-" + name)


def sha(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class RoundTripTests(FilesCase):

    async def test_random_files_of_every_edge_size(self):
        alice = await self.user("alice")
        bob = await self.user("bob")
        for size in (0, 1, FILE_CHUNK, FILE_CHUNK + 1, 50 * MiB):
            path = self.make_file(f"f{size}.bin", size)
            up = alice.send_file("@bob", path)
            await up.finished
            self.assertEqual(up.state, TransferState.DONE, (size, up.error))
            await self.until(lambda: any(m.get("file", {}).get("id") == up.file_id
                                         for m in bob.events.messages))
            down = bob.download(up.file_id, self.folder("bob"))
            await down.finished
            self.assertEqual(down.state, TransferState.DONE, (size, down.error))
            self.assertEqual(os.path.getsize(down.path), size)
            self.assertEqual(sha(down.path), sha(path))
            self.assertEqual(os.path.basename(down.path), f"f{size}.bin")

    async def test_a_private_file_is_not_reachable_by_a_third_user(self):
        alice = await self.user("alice")
        await self.user("bob")
        carol = await self.user("carol")
        up = alice.send_file("@bob", self.make_file("secret.txt", 1000))
        await up.finished
        down = carol.download(up.file_id, self.folder("carol"))
        await down.finished
        self.assertEqual((down.state, down.error[0]), (TransferState.FAILED, "not_found"))
        unknown = carol.download(up.file_id + 1000, self.folder("carol"))
        await unknown.finished
        self.assertEqual(unknown.error, down.error)      # the same answer as for no such file
        self.assertEqual(os.listdir(self.folder("carol")), [])   # no file, no partial

    async def test_download_after_being_offline_and_after_a_server_restart(self):
        alice = await self.user("alice")
        bob = await self.user("bob")
        await bob.logout()
        path = self.make_file("for-bob.bin", 3 * MiB + 5)
        up = alice.send_file("@bob", path)
        await up.finished
        await self.server.restart()
        bob = await self.user("bob", register=False)
        page = await bob.history("@alice")
        [msg] = [m for m in page["messages"] if m.get("file")]
        self.assertEqual(msg["file"]["name"], "for-bob.bin")
        down = bob.download(msg["file"]["id"], self.folder("bob"))
        await down.finished
        self.assertEqual(down.state, TransferState.DONE, down.error)
        self.assertEqual(sha(down.path), sha(path))


class ResumeTests(FilesCase):

    async def test_upload_resumes_after_a_cut(self):
        proxy, port = self.proxy()
        alice = await self.user("alice", port=port)
        await self.user("bob")
        path = self.make_file("big.bin", 20 * MiB)
        proxy.cut_after(up=8 * MiB)
        up = alice.send_file("#lobby", path)
        await up.finished
        self.assertEqual(proxy.cuts, 1)
        self.assertEqual(up.state, TransferState.DONE, up.error)
        self.assertGreater(up.resumed_from, 0)          # not from zero
        bob = await self.user("bob", register=False)
        down = bob.download(up.file_id, self.folder("bob"))
        await down.finished
        self.assertEqual(sha(down.path), sha(path))

    async def test_download_resumes_after_a_cut(self):
        alice = await self.user("alice")
        path = self.make_file("big.bin", 20 * MiB)
        up = alice.send_file("#lobby", path)
        await up.finished
        proxy, port = self.proxy()
        bob = await self.user("bob", port=port)
        proxy.cut_after(down=8 * MiB)
        down = bob.download(up.file_id, self.folder("bob"))
        await down.finished
        self.assertEqual(proxy.cuts, 1)
        self.assertEqual(down.state, TransferState.DONE, down.error)
        self.assertGreater(down.resumed_from, 0)        # not from zero
        self.assertEqual(sha(down.path), sha(path))
        self.assertEqual(sorted(os.listdir(self.folder("bob"))), ["big.bin"])

    async def test_a_closed_client_resumes_its_download_next_time(self):
        alice = await self.user("alice")
        path = self.make_file("big.bin", 12 * MiB)
        up = alice.send_file("#lobby", path)
        await up.finished
        proxy, port = self.proxy()
        bob = await self.user("bob", port=port)
        proxy.cut_after(down=5 * MiB)
        bob.download(up.file_id, self.folder("bob"))
        await self.until(lambda: proxy.cuts == 1)
        bob.close()                                     # the program ends mid-download
        await self.until(lambda: bob.state is LinkState.OFFLINE)
        await sleep(0.2)
        later = await self.user("bob", register=False)
        down = later.download(up.file_id, self.folder("bob"))
        await down.finished
        self.assertEqual(down.state, TransferState.DONE, down.error)
        self.assertGreater(down.resumed_from, 0)
        self.assertEqual(sha(down.path), sha(path))


class LimitTests(FilesCase):
    server_args = ("--max-file-size", "1M", "--quota", "3M")

    async def test_oversize_and_over_quota_are_refused_before_any_byte(self):
        alice = await self.user("alice")
        big = alice.send_file("#lobby", self.make_file("big.bin", MiB + 1))
        await big.finished
        self.assertEqual((big.state, big.error[0]), (TransferState.FAILED, "too_large"))
        self.assertEqual(big.done, 0)
        for n in range(3):
            ok = alice.send_file("#lobby", self.make_file(f"ok{n}.bin", MiB))
            await ok.finished
            self.assertEqual(ok.state, TransferState.DONE, ok.error)
        over = alice.send_file("#lobby", self.make_file("one-more.bin", 10))
        await over.finished
        self.assertEqual((over.state, over.error[0]), (TransferState.FAILED, "quota_exceeded"))


class CliFileTests(CliCase):
    server_args = ("--max-file-size", "64M")

    async def test_send_files_get_and_broadcast(self):
        root = await self.online("root")
        bob = await self.online("bob")
        carol = await self.online("carol")
        path = os.path.join(self.tmp, "report.pdf")
        with open(path, "wb") as f:
            f.write(os.urandom(300_000))
        root.type(f"/send @bob {path}")
        await root.wait_for(r"^\[system\] Sent report\.pdf \(293 KiB\) to @bob\.$")
        line = await bob.wait_for(CLOCK + r"\[private\] root -> you: \[file\] report\.pdf "
                                  r"\(293 KiB, application/pdf\) - /get \d+$")
        file_id = int(re.search(r"/get (\d+)$", line).group(1))
        folder = os.path.join(self.tmp, "bob-downloads")
        bob.type(f"/get {file_id} {folder}")
        await bob.wait_for(r"^\[system\] Saved report\.pdf \(293 KiB\) to .*report\.pdf; "
                           r"SHA-256 verified\.$")
        self.assertEqual(sha(os.path.join(folder, "report.pdf")), sha(path))
        carol.type(f"/get {file_id} {os.path.join(self.tmp, 'carol')}")
        await carol.wait_for(r"^\[system\] Transfer of #\d+ failed: ")
        bob.type(f"/send @all {path}")
        await bob.wait_for(r"^\[system\] Transfer of report\.pdf failed: .*admin")
        root.type(f"/send @all {path}")
        await carol.wait_for(r"\[file for everyone\] report\.pdf")
        root.type("/files")
        await root.wait_for(r"^Files in #lobby:")
        await root.wait_for(r"^  /get \d+\s+report\.pdf\s+293 KiB")

    async def test_piped_send_waits_for_the_upload_and_exit_status(self):
        await self.online("root")
        path = os.path.join(self.tmp, "data.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(5 * 1024 * 1024))
        bob = self.cli("bob", "--register")
        bob.type(f"/send {path}", "after the file")
        bob.close_stdin()
        self.assertEqual(await bob.wait_exit(), 0, bob.describe())
        self.assertTrue(any(re.search(r"Sent data\.bin \(5 MiB\) to #lobby", line)
                            for line in bob.lines), bob.describe())
        carol = self.cli("carol", "--register")
        carol.type("/send /no/such/file.txt")
        carol.close_stdin()
        self.assertEqual(await carol.wait_exit(), 1, carol.describe())
        self.assertIn("[system] No such file: /no/such/file.txt", carol.lines)
