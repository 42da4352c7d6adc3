"""chat-cli downloads end to end (real server, chat-cli processes): the same file asked for
twice, and a download resumed after the client was killed."""

import os
import re

from tests.support.proxy import Proxy
from tests.test_cli_e2e import CliCase
from tests.test_files_e2e import sha

MiB = 1 << 20


class CliDownloadTests(CliCase):
    server_args = ("--max-file-size", "64M")

    async def shared(self, size, name="notes.txt"):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        alice = self.cli("alice", "--register")
        alice.type(f"/send {path}")
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 0, alice.describe())
        line = next(line for line in alice.lines if "Sent" in line)
        self.assertIn(name, line)
        return path

    async def file_id(self, cli):
        cli.type("/files")
        line = await cli.wait_for(r"^  /get \d+")
        return int(re.search(r"/get (\d+)", line).group(1))

    async def test_get_twice_at_once_saves_one_verified_copy(self):
        path = await self.shared(11, "hello.txt")       # the 11 bytes saved as 22 before
        bob = await self.online("bob")
        file_id = await self.file_id(bob)
        folder = os.path.join(self.tmp, "bob")
        bob.type(f"/get {file_id} {folder}", f"/get {file_id} {folder}")
        await bob.wait_for(rf"^\[system\] File {file_id} is already being downloaded into ")
        await bob.wait_for(r"Saved hello\.txt \(11 B\) to .*; SHA-256 verified\.$")
        bob.close_stdin()
        self.assertEqual(await bob.wait_exit(), 0, bob.describe())
        self.assertEqual(os.listdir(folder), ["hello.txt"])
        self.assertEqual(sha(os.path.join(folder, "hello.txt")), sha(path))
        self.assertFalse([line for line in bob.lines if "failed" in line], bob.describe())
        # and once more, after the first has ended: a second verified copy beside it
        again = self.cli("bob")
        again.type(f"/get {file_id} {folder}")
        again.close_stdin()
        self.assertEqual(await again.wait_exit(), 0, again.describe())
        self.assertEqual(sorted(os.listdir(folder)), ["hello (1).txt", "hello.txt"])
        self.assertEqual(sha(os.path.join(folder, "hello (1).txt")), sha(path))

    async def test_a_download_resumes_after_the_client_was_killed(self):
        path = await self.shared(12 * MiB, "big.bin")
        proxy = Proxy(self.server.port)
        port = proxy.listen()
        self.addCleanup(proxy.port.stopListening)
        folder = os.path.join(self.tmp, "bob")
        bob = await self.online("bob")
        file_id = await self.file_id(bob)
        bob.type("/quit")
        await bob.wait_exit()
        proxy.cut_after(down=5 * MiB)
        from tests.support.cli_process import CliProcess
        killed = CliProcess.spawn(port, "bob")
        self.clis.append(killed)
        killed.type(f"/get {file_id} {folder}")
        await killed.wait_for(r"reconnecting in")
        killed.kill()                                    # SIGKILL: no clean-up at all
        await killed.wait_exit()
        partials = [n for n in os.listdir(folder) if n.endswith(".part")]
        self.assertEqual(len(partials), 1, os.listdir(folder))
        kept = os.path.getsize(os.path.join(folder, partials[0]))
        self.assertGreater(kept, 0)
        later = self.cli("bob")
        later.type(f"/get {file_id} {folder}")
        later.close_stdin()
        self.assertEqual(await later.wait_exit(), 0, later.describe())
        self.assertTrue(any(line.startswith("[system] Resuming big.bin from ")
                            for line in later.lines), later.describe())
        self.assertTrue(any("SHA-256 verified" in line for line in later.lines),
                        later.describe())
        self.assertEqual(os.listdir(folder), ["big.bin"])
        self.assertEqual(sha(os.path.join(folder, "big.bin")), sha(path))
