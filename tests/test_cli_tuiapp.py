"""TuiApp socket-free: the full-screen app's windows, activity, read marks and burns against a
real ChatServer in memory (the urwid widgets are built, the screen is never started)."""

from twisted.trial import unittest

from chat.cli.options import Settings
from chat.cli.tui import TerminalUI, TuiApp
from chat.client.core import ChatClient
from tests.harness import PASSWORD, make_server
from tests.support.loopback import Network
from tests.test_cli_app import Terminal


class HeadlessUI(TerminalUI):
    """The widgets without a terminal: nothing is drawn."""

    def start(self):
        self.started = True

    def stop(self):
        self.started = False

    def _draw(self):
        self._draw_call = None


def text_of(widget) -> str:
    return widget.text


class TuiAppTests(unittest.TestCase):

    def setUp(self):
        self.server = make_server()
        self.clock = self.server.clock
        self.net = Network(self.server)
        self.exits = []
        self.bob = Terminal(self, "bob")
        settings = Settings("127.0.0.1", 5000, "alice", PASSWORD, True, "en", 5, False)
        client = ChatClient(self.net.connect, self.clock, random=lambda: 0.5)
        self.ui = HeadlessUI(self.clock)
        self.app = TuiApp(settings, client, self.clock, self.ui, on_exit=self.exits.append)
        self.app.start()
        self.net.pump()

    def lines(self, conv):
        return [text_of(w) for w in self.app.windows.get(conv).lines]

    def status(self) -> str:
        return self.ui.status.text

    def pump(self, seconds=0.0):
        self.net.pump()
        self.clock.advance(seconds)
        self.net.pump()

    def test_messages_go_to_their_window_and_count_until_shown(self):
        self.bob.type("/msg @alice one", "/msg @alice alice, two")
        self.pump()
        self.assertFalse([l for l in self.lines("#lobby") if "one" in l])
        self.assertRegex(self.lines("@bob")[-1], r"\[private\] bob -> you: alice, two$")
        self.assertTrue(self.status().endswith("Act: 2:@bob(2!)"), self.status())
        self.bob.take()
        self.pump(1)
        self.assertFalse([l for l in self.bob.take() if "has read" in l])   # not shown: unread
        self.app.switch(2)
        self.assertEqual(self.ui.input.caption, "[@bob] ")
        self.assertNotIn("Act:", self.status())
        self.pump(1)
        self.assertIn("[system] alice has read your messages.", self.bob.take())

    def test_own_private_message_shows_where_it_was_typed_too(self):
        self.app.line("/msg @bob psst")
        self.pump()
        self.assertRegex(self.lines("#lobby")[-1], r"\[private\] you -> bob: psst$")
        self.assertRegex(self.lines("@bob")[-1], r"\[private\] you -> bob: psst$")
        self.assertNotIn("Act:", self.status())   # one's own lines are no news

    def test_win_command(self):
        self.bob.type("/msg @alice hi")
        self.pump()
        self.app.line("/win")
        self.assertEqual(self.lines("#lobby")[-1], "[system] Windows: 1:#lobby  2:@bob(1)")
        self.app.line("/win 7")
        self.assertEqual(self.lines("#lobby")[-1], "[system] Usage: /win 1-2")
        self.app.line("/win 2")
        self.assertEqual(self.app.current, "@bob")

    def test_tab_completes_a_room_not_joined_after_asking_the_server(self):
        self.bob.type("/join builds")
        self.ui.input.set_edit_text("/join #bu")
        self.ui.input.set_edit_pos(9)
        self.ui.tab()
        self.pump()
        self.assertEqual(self.ui.input.edit_text, "/join #builds ")

    def test_a_burned_message_is_blanked_on_screen(self):
        self.app.line("/msg @bob")
        self.bob.type("/msg @alice", "/burn gone soon")
        self.pump()
        self.assertRegex(self.lines("@bob")[-1], r"gone soon")
        self.pump(0.5)        # read (shown), then 5 s
        self.pump(5)
        self.assertTrue([l for l in self.lines("@bob") if l.endswith("bob -> you: (burned)")])
        self.assertFalse([l for l in self.lines("@bob") if "gone soon" in l])

    def test_status_line_says_reconnecting_in_n_seconds(self):
        self.assertIn("| connected |", self.status())
        self.net.refuse = True
        self.net.cut()
        self.assertRegex(self.status(), r"\| reconnecting in 1 s \|")
        self.net.refuse = False
        self.pump(1)
        self.assertIn("| connected |", self.status())
