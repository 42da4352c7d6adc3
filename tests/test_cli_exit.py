"""How chat-cli ends and what it leaves behind: read marks handed over before the exit, the
"while you were away" summary, Ctrl-C, a failed send named at the end, and output kept in
the order of the input lines. Socket-free, against a real ChatServer in memory."""

from twisted.internet import defer
from twisted.trial import unittest

from chat.server.storage.memory import MemoryStorage
from tests.harness import make_server, user
from tests.support.loopback import Network
from tests.test_cli_app import Terminal

CLOCK = r"^\[\d\d:\d\d:\d\d\] "


class SlowStorage(MemoryStorage):
    """Stores messages one clock second late, like a disk commit taking its time."""

    clock = None

    def store_messages(self, batch):
        d = defer.Deferred()
        self.clock.callLater(1, d.callback, None)
        return d.addCallback(lambda _: MemoryStorage.store_messages(self, batch))


class ExitTests(unittest.TestCase):

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)

    def terminal(self, name, **kw):
        return Terminal(self, name, **kw)

    def run_once(self, name, register=False):
        """A short piped run: log in, end of input at once; what it printed."""
        term = self.terminal(name, register=register)
        term.end_input()
        self.assertEqual(term.exits, [0], term.err)
        return term.out

    def test_the_away_summary_clears_after_a_short_run(self):
        self.run_once("bob", register=True)
        alice = self.terminal("alice")
        alice.type("/msg @bob one", "/msg @bob two")
        first = self.run_once("bob")
        self.assertIn("[system] While you were away, 2 new in @alice:", first)
        # the run ended before the 0.5 s the read marks wait: they must have been sent anyway
        second = self.run_once("bob")
        self.assertFalse([line for line in second if "While you were away" in line], second)

    def test_the_away_summary_counts_only_the_messages_of_others(self):
        self.run_once("alice", register=True)
        bob = self.terminal("bob")
        bob.type("from bob")
        script = user(self.server, "alice", register=False)   # alice from another device
        script.ok("send", to="#lobby", text="from alice", cid="c1")
        lines = self.run_once("alice")
        start = lines.index("[system] While you were away, 1 new in #lobby:")
        shown = lines[start + 1:]
        self.assertRegex(shown[0], CLOCK + r"bob: from bob$")
        self.assertFalse([line for line in shown if "from alice" in line], lines)

    def test_ctrl_c_says_goodbye_once_and_exits_130(self):
        alice = self.terminal("alice")
        alice.take()
        alice.app.interrupted()
        self.net.pump()
        self.clock.advance(0)
        self.net.pump()
        self.assertEqual(alice.exits, [130])
        self.assertEqual(alice.take(), ["[system] Bye."])
        self.clock.advance(60)       # no reconnect is announced nor attempted
        self.net.pump()
        self.assertEqual(alice.take(), [])
        self.assertEqual(self.net.attempts, 1)

    def test_ctrl_c_hands_over_the_read_marks(self):
        self.run_once("bob", register=True)
        alice = self.terminal("alice")
        alice.type("/msg @bob one")
        bob = self.terminal("bob", register=False)
        bob.app.interrupted()
        self.net.pump()
        self.assertEqual(bob.exits, [130])
        again = self.run_once("bob")
        self.assertFalse([line for line in again if "While you were away" in line], again)

    def test_the_end_after_a_refused_send_says_why_the_status_is_one(self):
        alice = self.terminal("alice")
        alice.type("/msg @nobody hello?")
        alice.end_input()
        self.assertEqual(alice.exits, [1])
        self.assertEqual(alice.err, ["Refused by the server, not sent (1):\n"
                                     "  @nobody 'hello?'"])

    def test_the_end_after_a_refused_send_in_chinese(self):
        alice = self.terminal("alice", lang="zh")
        alice.type("/msg @nobody 在吗")
        alice.end_input()
        self.assertEqual(alice.exits, [1])
        self.assertEqual(alice.err, ["以下 1 条消息被服务器拒绝，未发送：\n  @nobody '在吗'"])


class OrderTests(unittest.TestCase):
    """The echo of a message comes before the output of the commands typed after it."""

    def setUp(self):
        storage = SlowStorage()
        self.server = make_server(storage=storage)
        storage.clock = self.clock = self.server.clock
        self.net = Network(self.server)

    def test_piped_output_keeps_the_order_of_the_input_lines(self):
        Terminal(self, "bob").end_input()
        self.clock.advance(1)      # bob's exit is announced before alice comes
        self.net.pump()
        alice = Terminal(self, "alice")
        alice.take()
        for line in ("/msg @bob first", "/users", "second", "/topic"):
            alice.app.line(line)
        for _ in range(5):
            self.net.pump()
            self.clock.advance(1)
        self.net.pump()
        lines = alice.take()
        self.assertRegex(lines[0], CLOCK + r"\[private\] you -> bob: first$")
        self.assertTrue(lines[1].startswith("Users:"), lines)
        self.assertRegex(lines[-2], CLOCK + r"alice: second$")
        self.assertEqual(lines[-1], "[system] #lobby has no topic.", lines)

    def test_messages_typed_in_a_row_are_not_held_back(self):
        alice = Terminal(self, "alice")
        alice.take()
        for line in ("one", "two", "three"):
            alice.app.line(line)
        self.net.pump()
        # all three are on the wire at once (one commit), not one per second
        self.assertEqual(len([o for o in alice.app.client.outbox.unacked()
                              if o.state.value == "sent"]), 3)
