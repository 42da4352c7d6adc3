"""End-to-end: ``chat-cli --host a,b`` with real server processes, the first one down or killed.

The client takes the servers in turn: one that is down at the start is passed over; when the
node it is on is killed (SIGKILL, no goodbye), it reconnects to the next one, resends what it
had typed meanwhile and logs the move. The second server here is a standby on the first one's
data directory, started once the first is dead: what the two share is one chat, as nodes on
one PostgreSQL are (their own tests: tests/test_files_nodes_e2e.py and h19's node tests).
"""

import os

from tests.support.cli_process import CliProcess
from tests.support.server_process import ServerProcess, free_port
from tests.test_cli_e2e import CLOCK, CliCase
from tests.test_e2e import FAST_HASH


class ServerListTests(CliCase):

    def cli_on(self, hosts, user, *args, **kw):
        # the last --host wins over the one CliProcess.spawn puts first
        cli = CliProcess.spawn(self.server.port, user, "--host", hosts, *args, **kw)
        self.clis.append(cli)
        return cli

    async def test_a_server_that_is_down_is_passed_over(self):
        dead = free_port()
        hosts = f"127.0.0.1:{dead},127.0.0.1:{self.server.port}"
        alice = self.cli_on(hosts, "alice", "--register")
        await alice.wait_for(r"Welcome")
        alice.type("on the second server")
        await alice.wait_for(CLOCK + r"alice: on the second server$")
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 0, alice.describe())
        self.assertEqual(self.history("r:lobby"), [("alice", "on the second server")])

    async def test_none_up_names_each_server(self):
        one = free_port()
        two = next(port for port in iter(free_port, None) if port != one)
        alice = self.cli_on(f"127.0.0.1:{one},127.0.0.1:{two}", "alice")
        self.assertEqual(await alice.wait_exit(), 1, alice.describe())
        self.assertEqual(len(alice.errors), 1, alice.describe())
        self.assertRegex(
            alice.errors[0],
            rf"^cannot connect to any of the servers \(127\.0\.0\.1:{one}: connection "
            rf"refused; 127\.0\.0\.1:{two}: connection refused\); are they running\?$")

    async def test_a_killed_node_sends_its_clients_to_the_next(self):
        first = self.server
        standby = ServerProcess(os.path.join(self.tmp, "standby"), args=FAST_HASH,
                                data_dir=first.data_dir)
        self.servers.append(standby)
        self.addCleanup(standby.stop)
        hosts = f"127.0.0.1:{first.port},127.0.0.1:{standby.port}"
        alice = self.cli_on(hosts, "alice", "--register")
        bob = self.cli_on(hosts, "bob", "--register")
        for cli in (alice, bob):
            await cli.wait_for(r"Welcome")
        alice.type("before the crash")
        await bob.wait_for(CLOCK + r"alice: before the crash$")
        await first.kill9()
        await alice.wait_for(r"^\[system\] Connection lost .*reconnecting in \d+ s")
        alice.type("typed while moving")
        await standby.start()
        moved = rf"^\[system\] Reconnected to 127\.0\.0\.1:{standby.port}\.$"
        await alice.wait_for(moved, timeout=40)
        await bob.wait_for(moved, timeout=40)
        await bob.wait_for(CLOCK + r"alice: typed while moving$", timeout=20)
        bob.type("seen on the standby")
        await alice.wait_for(CLOCK + r"bob: seen on the standby$")
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 0, alice.describe())
        self.assertEqual(self.history("r:lobby"), [
            ("alice", "before the crash"), ("alice", "typed while moving"),
            ("bob", "seen on the standby")])
