"""End-to-end: Ctrl-C (SIGINT) on a real ``chat-cli`` process against the real server."""

from tests.test_cli_e2e import CliCase


class CtrlCTests(CliCase):

    async def test_ctrl_c_says_goodbye_once_and_exits_130(self):
        alice = await self.online("alice")
        alice.type("last words")
        await alice.wait_for(r"alice: last words$")
        alice.transport.signalProcess("INT")
        self.assertEqual(await alice.wait_exit(), 130, alice.describe())
        self.assertEqual([line for line in alice.lines if "Bye" in line], ["[system] Bye."])
        self.assertFalse([line for line in alice.lines + alice.errors
                          if "reconnecting" in line or "Connection lost" in line],
                         alice.describe())
        self.assertIn("logout alice from", self.server.output())
