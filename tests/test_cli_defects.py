"""chat-cli defects of issue 15, socket-free (CliApp against a real ChatServer in memory):
/users lists everybody, quoted paths, /msg to oneself, the "waits for the connection" line,
/topic without a topic."""

import os
import tempfile

from twisted.trial import unittest

from chat.cli.parse import Command, ParseError, parse_line
from tests import test_cli_app as app_tests
from tests.harness import make_server, user
from tests.support.loopback import Network
from tests.test_client_transfers import run_now


class ParseTests(unittest.TestCase):

    def test_quoted_and_escaped_paths(self):
        self.assertEqual(parse_line('/send @bob "/path/my notes.txt"'),
                         Command("send", target="bob", text="/path/my notes.txt"))
        self.assertEqual(parse_line("/send '/path/it''s.txt'"),
                         Command("send", text="/path/its.txt"))
        self.assertEqual(parse_line(r"/send /path/my\ notes.txt"),
                         Command("send", text="/path/my notes.txt"))
        self.assertEqual(parse_line("/send /path/my notes.txt"),     # plain: as typed
                         Command("send", text="/path/my notes.txt"))
        self.assertEqual(parse_line('/get 7 "my downloads"'),
                         Command("get", number=7, text="my downloads"))
        error = self.assertRaises(ParseError, parse_line, '/send "/path/open')
        self.assertEqual(error.key, "bad_quotes")
        error = self.assertRaises(ParseError, parse_line, '/send "a" "b"')
        self.assertEqual(error.key, "usage")

    def test_users_online_flag(self):
        self.assertEqual(parse_line("/users -o"), Command("users", flag=True))
        self.assertEqual(parse_line("/users --online"), Command("users", flag=True))
        self.assertEqual(parse_line("/users"), Command("users"))
        self.assertEqual(self.assertRaises(ParseError, parse_line, "/users x").key, "usage")


class AppDefectTests(unittest.TestCase):

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)
        self.dir = tempfile.mkdtemp()

    def terminal(self, name, **kw):
        return app_tests.Terminal(self, name, **kw)

    def test_users_lists_everybody_online_first_with_last_seen(self):
        for name in ("aaron", "zoe"):           # registered, online once, gone now
            user(self.server, name).disconnect()
        self.clock.advance(1)
        alice, bob = self.terminal("alice"), self.terminal("bob")
        bob.take()
        bob.type("/users")
        lines = bob.take()
        self.assertEqual(lines[0], "Users: 2 online, 4 listed")
        names = [line.split()[0] for line in lines[1:]]
        self.assertEqual(names[:2], ["alice", "bob"])          # online first
        self.assertEqual(sorted(names[2:]), ["aaron", "zoe"])
        for line in lines[3:]:
            self.assertNotIn("online", line)
            self.assertIn("last seen", line)
        bob.type("/users -o")
        lines = bob.take()
        self.assertEqual(lines[0], "Users: 2 online, 2 listed")
        self.assertEqual([line.split()[0] for line in lines[1:]], ["alice", "bob"])

    def test_msg_to_oneself_is_refused(self):
        alice = self.terminal("alice")
        alice.take()
        for line in ("/msg @alice", "/msg @ALICE hi me"):
            alice.type(line)
            self.assertEqual(alice.take(),
                             ["[system] You cannot open a private chat with yourself."])
        self.assertEqual(alice.app.current, "#lobby")

    def test_topic_without_a_topic_says_so(self):
        alice = self.terminal("alice")
        alice.type("/join dev")
        alice.take()
        alice.type("/topic")
        self.assertEqual(alice.take(), ["[system] #dev has no topic."])
        alice.type("/topic builds", "/topic")
        self.assertEqual(alice.take()[-1], "[system] Topic of #dev: builds")

    def test_send_and_get_say_waiting_only_when_not_connected(self):
        alice, bob = self.terminal("alice"), self.terminal("bob")
        alice.app.client.files.run = run_now      # the file work at once, not in a thread
        path = os.path.join(self.dir, "my notes.txt")
        with open(path, "wb") as f:
            f.write(b"some notes")
        alice.take()
        alice.type(f'/send @bob "{path}"')
        for _ in range(5):
            self.net.pump()
        lines = alice.take()
        self.assertFalse([line for line in lines if "waits for the connection" in line], lines)
        self.assertIn("[system] Sent my notes.txt (10 B) to @bob.", lines)
        # offline, the same command says it waits
        alice.app.client.connection.transport.loseConnection()
        self.net.pump()
        alice.take()
        alice.type(f'/send @bob "{path}"')
        self.net.pump()
        self.assertIn("[system] my notes.txt waits for the connection...", alice.take())


class PasswordAgainTests(unittest.TestCase):
    """A wrong typed password is asked for again (interactive only); a script's is not."""

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)
        user(self.server, "alice").disconnect()      # password: harness.PASSWORD

    def app(self, password, ask=None):
        from chat.cli.app import CliApp
        from chat.cli.options import Settings
        from chat.client.core import ChatClient
        out, err, exits = [], [], []
        settings = Settings("127.0.0.1", 5000, "alice", password, False, "en", 5.0, False)
        settings.ask_password = ask
        client = ChatClient(self.net.connect, self.clock, client_name="chat-cli/test",
                            random=lambda: 0.5)
        app = CliApp(settings, client, self.clock, out=out.append, err=err.append,
                     on_exit=exits.append)
        app.start()
        for _ in range(5):
            self.net.pump()
        return out, err, exits

    def test_a_wrong_password_is_asked_again(self):
        from tests.harness import PASSWORD
        answers = ["still wrong", PASSWORD]
        asked = []

        def ask():
            asked.append(1)
            return answers.pop(0)
        out, err, exits = self.app("wrong password", ask)
        self.assertEqual(len(asked), 2)
        self.assertEqual(err, ["Wrong user name or password."] * 2)
        self.assertEqual(exits, [])
        self.assertTrue(any(line.startswith("[system] Welcome, alice!") for line in out), out)

    def test_three_tries_at_most_and_a_script_is_never_asked(self):
        out, err, exits = self.app("wrong password", lambda: "wrong again")
        self.assertEqual(err, ["Wrong user name or password."] * 3)
        self.assertEqual(exits, [1])
        out, err, exits = self.app("wrong password", None)
        self.assertEqual((err, exits), (["Wrong user name or password."], [1]))
