"""The full-screen terminal's pure parts: windows and their activity, input history, Tab
completion, mentions."""

from twisted.trial import unittest

from chat.cli.tui import colours_wanted, name_attr
from chat.cli.windows import InputHistory, Windows, complete, mentions

COMMANDS = ["msg", "join", "leave", "history", "help", "win"]
NAMES = {"bob", "Bernd", "carol", "张伟"}
ROOMS = {"dev", "design", "lobby"}


class WindowTests(unittest.TestCase):

    def test_windows_are_numbered_in_order_and_count_what_is_not_shown(self):
        windows = Windows("#lobby")
        windows.arrived("#lobby", 1, False)           # shown: not counted
        windows.arrived("@bob", 2, False)
        windows.arrived("#dev", 3, True)
        windows.arrived("@bob", 4, False)
        self.assertEqual([(n, w.conv, w.unread, w.mentioned) for n, w in windows.activity()],
                         [(2, "@bob", 2, False), (3, "#dev", 1, True)])
        self.assertEqual(windows.get("@bob").last_unread, 4)
        self.assertIs(windows.get("@BOB"), windows.by_number(2))   # names: any case
        windows.show("@bob")
        self.assertEqual([w.conv for _, w in windows.activity()], ["#dev"])
        self.assertEqual(windows.current.unread, 0)
        self.assertIsNone(windows.by_number(4))
        self.assertIsNone(windows.by_number(0))

    def test_closing_a_window_shows_the_first(self):
        windows = Windows("#lobby")
        windows.show("#dev")
        windows.close("#dev")
        self.assertEqual(windows.current.conv, "#lobby")
        windows.close("#lobby")                       # window 1 stays
        self.assertEqual([w.conv for w in windows.windows], ["#lobby"])


class HistoryTests(unittest.TestCase):

    def test_up_and_down_keep_the_draft(self):
        history = InputHistory()
        for line in ("one", "two", "two", "  "):
            history.add(line)
        self.assertEqual(history.entries, ["one", "two"])     # no repeats, no blanks
        self.assertEqual(history.older("draft"), "two")
        self.assertEqual(history.older("two"), "one")
        self.assertIsNone(history.older("one"))
        self.assertEqual(history.newer(), "two")
        self.assertEqual(history.newer(), "draft")
        self.assertIsNone(history.newer())

    def test_it_is_bounded(self):
        history = InputHistory(limit=3)
        for n in range(10):
            history.add(str(n))
        self.assertEqual(history.entries, ["7", "8", "9"])


class CompletionTests(unittest.TestCase):

    def completes(self, line, expected, cursor=None, found=None):
        cursor = len(line) if cursor is None else cursor
        new, new_cursor, candidates = complete(line, cursor, COMMANDS, NAMES, ROOMS)
        self.assertEqual(new[:new_cursor] + "|" + new[new_cursor:], expected)
        if found is not None:
            self.assertEqual(candidates, found)

    def test_commands_only_at_the_start(self):
        self.completes("/ms", "/msg |")
        self.completes("/h", "/h|", found=["help", "history"])
        self.completes("/he", "/help |")
        self.completes("/hi", "/history |")
        self.completes("say /ms", "say /ms|")

    def test_names_with_and_without_at(self):
        self.completes("/msg @b", "/msg @b|", found=["Bernd", "bob"])
        self.completes("/msg @bo", "/msg @bob |")
        self.completes("car", "carol |")
        self.completes("hi @张", "hi @张伟 |")
        self.completes("@zz", "@zz|", found=[])

    def test_rooms_and_common_prefixes(self):
        self.completes("/join #d", "/join #de|", found=["design", "dev"])
        self.completes("/join #dev", "/join #dev |")
        self.completes("/join #LOB", "/join #lobby |")

    def test_in_the_middle_of_a_line(self):
        self.completes("hi @bo how are you", "hi @bob| how are you", cursor=6)
        self.completes("", "|")


class LookTests(unittest.TestCase):

    def test_mentions(self):
        for text in ("alice", "hey @alice!", "Alice: look", "alice你好", "问一下alice"):
            self.assertTrue(mentions(text, "alice"), text)
        for text in ("malice", "alicex", "", "al ice"):
            self.assertFalse(mentions(text, "alice"), text)
        self.assertTrue(mentions("张伟你好", "张伟"))
        self.assertFalse(mentions("anything", ""))

    def test_a_name_keeps_its_colour(self):
        self.assertEqual(name_attr("bob"), name_attr("BOB"))
        self.assertEqual(len({name_attr(n) for n in ("a", "b", "c", "d", "e", "f")}) > 1, True)

    def test_no_color(self):
        self.assertTrue(colours_wanted(False, {}))
        self.assertFalse(colours_wanted(True, {}))
        self.assertFalse(colours_wanted(False, {"NO_COLOR": "1"}))
        self.assertTrue(colours_wanted(False, {"NO_COLOR": ""}))   # set but empty: ignored
