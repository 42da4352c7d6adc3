"""CliApp socket-free: typed lines in, printed lines out, against a real ChatServer in memory."""

from twisted.trial import unittest

from chat.cli.app import CliApp
from chat.cli.options import Settings
from chat.client.core import ChatClient
from tests.harness import PASSWORD, make_server
from tests.support.loopback import Network


class Terminal:
    """One chat-cli session: ``type`` lines, read ``out`` and ``err``."""

    def __init__(self, test, user, register=True, lang="en", admin_console=False, wait=5.0):
        self.test = test
        self.out, self.err, self.exits = [], [], []
        settings = Settings("127.0.0.1", 5000, user, PASSWORD, register, lang, wait,
                            admin_console)
        client = ChatClient(test.net.connect, test.clock, client_name="chat-cli/test",
                            random=lambda: 0.5)
        self.app = CliApp(settings, client, test.clock, out=self.out.append,
                          err=self.err.append, on_exit=self.exits.append)
        self.app.start()
        test.net.pump()

    def type(self, *lines):
        for line in lines:
            self.app.line(line)
            self.test.net.pump()

    def take(self):
        taken, self.out[:] = list(self.out), []
        return taken

    def end_input(self):
        self.app.input_ended()
        self.test.net.pump()
        self.test.clock.advance(0)
        self.test.net.pump()


class AppTests(unittest.TestCase):

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)

    def terminal(self, user, **kw):
        return Terminal(self, user, **kw)

    def test_welcome_and_plain_text(self):
        alice = self.terminal("alice")
        self.assertEqual(alice.take(), [
            "[system] Account alice created.",
            "[system] Welcome, alice! Online now: 1. You are in #lobby. Type /help for commands."])
        alice.type("hello")
        [line] = alice.take()
        self.assertRegex(line, r"^\[\d\d:\d\d:\d\d\] alice: hello$")

    def test_lines_wait_for_the_command_before_them(self):
        alice = self.terminal("alice")
        alice.take()
        # typed at once: the message after /join must go to the new room
        alice.app.line("/join dev")
        alice.app.line("in dev")
        alice.app.line("/topic builds")
        self.net.pump()
        self.assertEqual([line[11:] if line.startswith("[") and line[3] == ":" else line
                          for line in alice.take()], [
            "[system] Room #dev created.",
            "[system] You joined #dev.",
            "alice: in dev",
            "[system] alice set the topic of #dev: builds"])

    def test_leaving_the_lobby_is_refused_and_leaving_a_room_returns_to_it(self):
        alice = self.terminal("alice")
        alice.type("/leave")
        self.assertIn("[system] Error (not allowed)", alice.take()[-1])
        alice.type("/join dev", "/leave")
        lines = alice.take()
        self.assertEqual(lines[-2:], ["[system] You left #dev.", "[system] Now talking in #lobby."])

    def test_private_chat_switch_and_burn(self):
        alice, bob = self.terminal("alice"), self.terminal("bob")
        alice.type("/msg @bob")
        self.assertEqual(alice.take()[-1], "[system] Now talking in @bob.")
        bob.take()
        alice.type("/burn gone soon")
        self.assertEqual(alice.take()[0], "[system] Sent; it burns 5 s after it has been read.")
        [line] = bob.take()
        self.assertRegex(line, r"\[private\] alice -> you: gone soon  \(burns 5 s after reading\)$")
        # bob's client marks it read (0.5 s later); 5 s after that it burns for both
        self.clock.advance(0.5)
        self.net.pump()
        self.clock.advance(5)
        self.net.pump()
        self.assertIn("[system] Messages burned: 1.", bob.take())

    def test_history_and_users(self):
        alice, bob = self.terminal("alice"), self.terminal("bob")
        alice.type("one", "two", "three")
        bob.take()
        bob.type("/history 2", "/users")
        lines = bob.take()
        self.assertEqual(lines[0], "Last 2 messages in #lobby:")
        self.assertRegex(lines[1], r"alice: two$")
        self.assertRegex(lines[2], r"alice: three$")
        self.assertEqual(lines[3], "Users: 2 online, 2 listed")

    def test_every_admin_command_is_refused_to_a_user(self):
        self.terminal("root")        # the first account is the admin
        bob = self.terminal("bob")
        bob.take()
        commands = ["/notice hello", "/notice @root hi", "/list", "/user root",
                    "/kick root", "/ban root", "/unban root", "/monitor on",
                    "/shutdown 10 bye"]
        for command in commands:
            bob.type(command)
            lines = bob.take()
            self.assertEqual(len(lines), 1, (command, lines))
            self.assertTrue(lines[0].startswith("[system] Error (not allowed)"),
                            (command, lines))

    def test_admin_console_refuses_a_user(self):
        self.terminal("root")
        bob = self.terminal("bob", admin_console=True)
        self.assertEqual(bob.err, ["Only admins can do that."])
        self.assertEqual(bob.exits, [1])

    def test_pipe_end_waits_for_acks_and_exit_status(self):
        alice = self.terminal("alice")
        alice.type("fine", "/msg @nobody hello?")
        alice.end_input()
        self.assertEqual(alice.exits, [1])
        bob = self.terminal("bob")
        bob.type("all good")
        bob.end_input()
        self.assertEqual(bob.exits, [0])

    def test_unsent_messages_are_named_at_the_end(self):
        alice = self.terminal("alice", wait=3.0)
        self.net.refuse = True
        for pump in list(self.net.pumps):
            pump.clientIO.disconnected = pump.serverIO.disconnected = True
            pump.clientIO.reportDisconnect()
            pump.serverIO.reportDisconnect()
        self.net.pumps.clear()
        alice.take()
        alice.type("lost in space")
        self.assertEqual(alice.take(), ["[system] Waiting to be sent: 1."])
        alice.end_input()
        self.assertEqual(alice.exits, [])
        self.clock.advance(3)
        self.assertEqual(alice.exits, [1])
        self.assertEqual(alice.err, ["Not confirmed by the server, may be lost (1):\n"
                                     "  #lobby 'lost in space'"])
