"""End-to-end: ``chat-cli`` full screen in a tmux pane against the real server, keys in through
``send-keys``, the screen read back with ``capture-pane`` and asserted on."""

import os
import re

from tests.support.tmux import TmuxPane
from tests.support.cli_process import PASSWORD
from tests.test_cli_e2e import CLOCK, CliCase

PROMPT_ROW = -2        # capture-pane ends with a newline: the input line is the last row


class TerminalCase(CliCase):

    async def pane(self, user, *args, register=True, wait=True, **kw):
        """``user``'s chat-cli in a fresh pane, logged in (the account made first)."""
        if register:
            setup = self.cli(user, "--register")
            setup.close_stdin()
            self.assertEqual(await setup.wait_exit(), 0, setup.describe())
        err = os.path.join(self.tmp, f"{user}-{len(self.clis)}.err")
        pane = TmuxPane.chat_cli(self.server.port, user, *args, err_path=err, **kw)
        self.addCleanup(pane.close)
        if wait:
            await pane.wait_for(r" \| \[1:#lobby\]$")
        return pane

    def input_line(self, pane) -> str:
        return pane.rows()[PROMPT_ROW]

    def status_line(self, pane) -> str:
        return pane.rows()[PROMPT_ROW - 1]


class EditingTests(TerminalCase):

    async def test_a_message_arriving_leaves_the_half_typed_line_intact(self):
        alice = await self.pane("alice")
        bob = await self.online("bob")
        alice.type("half typed")
        await alice.wait_for(r"^\[#lobby\] half typed$")
        bob.type("hey alice, live now")
        screen = await alice.wait_for(CLOCK + r"bob: hey alice, live now$")
        self.assertEqual(self.input_line(alice), "[#lobby] half typed")
        self.assertEqual(alice.cursor()[0], len("[#lobby] half typed"))
        alice.type(" and done")
        alice.keys("Enter")
        await bob.wait_for(CLOCK + r"alice: half typed and done$")
        screen = await alice.wait_for(CLOCK + r"alice: half typed and done$")
        # shown once, as the server has it, like everyone else's lines; the input is empty
        self.assertEqual(len(re.findall("half typed", screen)), 1, screen)
        self.assertEqual(self.input_line(alice), "[#lobby]")
        self.assertIn("connected", self.status_line(alice))

    async def test_tab_completes_commands_names_and_rooms(self):
        alice = await self.pane("alice")
        bob = await self.online("bob")
        await alice.wait_for(r"bob is online")
        alice.type("/ms")
        alice.keys("Tab")
        await alice.wait_for(r"^\[#lobby\] /msg$")
        self.assertEqual(alice.cursor()[0], len("[#lobby] /msg "))
        alice.type("@b")
        alice.keys("Tab")
        await alice.wait_for(r"^\[#lobby\] /msg @bob$")
        alice.type("psst")
        alice.keys("Enter")
        await bob.wait_for(CLOCK + r"\[private\] alice -> you: psst$")
        bob.type("/join builds")
        await bob.wait_for(r"You joined #builds")
        alice.type("/join #bui")
        alice.keys("Tab")
        await alice.wait_for(r"^\[#lobby\] /join #builds$")
        alice.keys("Enter")
        await alice.wait_for(r"^\[#builds\]$")

    async def test_chinese_and_emoji_edit_by_their_two_columns(self):
        alice = await self.pane("alice", lang="zh")
        bob = await self.online("bob")
        alice.type("你好世界😀")
        await alice.wait_for(r"^\[#lobby\] 你好世界😀$")
        self.assertEqual(alice.cursor()[0], len("[#lobby] ") + 10)   # five wide characters
        alice.keys("Left", "Left", "BSpace")
        alice.type("中")
        await alice.wait_for(r"^\[#lobby\] 你好中界😀$")
        self.assertEqual(alice.cursor()[0], len("[#lobby] ") + 6)     # after 你好中
        alice.keys("Enter")
        await bob.wait_for(CLOCK + r"alice: 你好中界😀$")
        await alice.wait_for(CLOCK + r"alice: 你好中界😀$")
        self.assertIn("已连接", self.status_line(alice))

    async def test_up_and_down_walk_the_lines_typed_before(self):
        alice = await self.pane("alice")
        for line in ("first", "second"):
            alice.type(line)
            alice.keys("Enter")
            await alice.wait_for(CLOCK + rf"alice: {line}$")
        alice.type("draft")
        alice.keys("Up")
        await alice.wait_for(r"^\[#lobby\] second$")
        alice.keys("Up")
        await alice.wait_for(r"^\[#lobby\] first$")
        alice.keys("Down", "Down")
        await alice.wait_for(r"^\[#lobby\] draft$")


class StatusTests(TerminalCase):

    async def test_status_line_counts_unread_per_window_and_alt_switches(self):
        alice = await self.pane("alice")
        bob = await self.online("bob")
        bob.type("/msg @alice one", "/msg @alice two")
        await alice.wait_for(r"Act: 2:@bob\(2\)$")
        # the messages are in @bob's window, not in the lobby shown
        self.assertNotIn("one", alice.screen())
        bob.type("/msg @alice alice, are you there?")
        await alice.wait_for(r"Act: 2:@bob\(3!\)$")
        alice.keys("M-2")
        screen = await alice.wait_for(r"^\[@bob\]$")
        self.assertRegex(screen, "(?m)" + CLOCK + r"\[private\] bob -> you: one$")
        self.assertRegex(screen, "(?m)" + CLOCK + r"\[private\] bob -> you: alice, are you there\?$")
        self.assertTrue(self.status_line(alice).endswith("connected | [2:@bob]"),
                        self.status_line(alice))
        alice.type("/win 1")
        alice.keys("Enter")
        await alice.wait_for(r"^\[#lobby\]$")
        self.assertNotIn("Act:", self.status_line(alice))

    async def test_status_line_counts_down_to_the_reconnect(self):
        alice = await self.pane("alice")
        await self.server.stop()
        await alice.wait_for(r"\| reconnecting in \d+ s \|")
        await self.server.start()
        await alice.wait_for(r"\| connected \|", timeout=40)

    async def test_names_are_coloured_unless_no_color(self):
        alice = await self.pane("alice")
        alice.type("colourful")
        alice.keys("Enter")
        await alice.wait_for(r"alice: colourful")
        screen = alice.screen(colours=True)
        line = next(l for l in screen.split("\n") if "colourful" in l)
        self.assertIn("\x1b[", line)                         # the name is drawn in colour
        bob = await self.online("bob")
        bob.type("hello")
        await alice.wait_for(r"bob: hello$")
        line = next(l for l in alice.screen(colours=True).split("\n") if "hello" in l)
        self.assertRegex(line, r"\x1b\[[0-9;]*9[0-7]m\x1b\[49mbob: |\x1b\[[0-9;]*9[0-7]mbob: |"
                               r"\x1b\[[0-9;]*3[0-7]m[^ ]*bob: ")
        plain = await self.pane("dave", env_extra={"NO_COLOR": "1"})
        flag = await self.pane("carol", "--no-color")
        for pane in (plain, flag):
            pane.type("plain")
            pane.keys("Enter")
            await pane.wait_for(r": plain$")
            screen = pane.screen(colours=True)
            self.assertFalse(re.search(r"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*38;", screen),
                             repr(screen))

    async def test_a_line_naming_me_is_highlighted(self):
        alice = await self.pane("alice", "--no-color")
        bob = await self.online("bob")
        bob.type("nothing here", "hey alice look")
        await alice.wait_for(r"bob: hey alice look")
        screen = alice.screen(colours=True)
        rows = screen.split("\n")
        mention = next(r for r in rows if "hey alice look" in r)
        other = next(r for r in rows if "nothing here" in r)
        self.assertIn("\x1b[7m", mention)                    # standout (reverse video)
        self.assertNotIn("\x1b[7m", other)


class EndingTests(TerminalCase):

    async def test_ctrl_d_after_a_refused_send_says_why(self):
        alice = await self.pane("alice")
        alice.type("/msg @nobody hello?")
        alice.keys("Enter")
        await alice.wait_for(r"Could not send: hello\?")
        alice.keys("C-d")
        await alice.wait_for(r"^EXIT=1$")
        self.assertIn("Refused by the server, not sent (1):\n  @nobody 'hello?'",
                      alice.errors())

    async def test_a_wrong_password_is_asked_again_before_the_screen_comes_up(self):
        setup = self.cli("alice", "--register")
        setup.close_stdin()
        self.assertEqual(await setup.wait_exit(), 0, setup.describe())
        alice = await self.pane("alice", register=False, wait=False,
                                env_extra={"CHAT_PASSWORD": ""})      # typed, not given
        await alice.wait_for(r"Password: ?$")
        alice.type("not the password")
        alice.keys("Enter")
        await alice.wait_for(r"(?s)Password:.*Password: ?$")       # asked a second time
        alice.type(PASSWORD)
        alice.keys("Enter")
        await alice.wait_for(r" \| \[1:#lobby\]$")                # the screen, logged in
        self.assertEqual(self.input_line(alice), "[#lobby]")
        self.assertIn("Wrong user name or password.", alice.errors())

    async def test_ctrl_c_says_goodbye_and_exits_130(self):
        alice = await self.pane("alice")
        alice.keys("C-c")
        await alice.wait_for(r"^EXIT=130$")
        self.assertIn("logout alice from", self.server.output())
        self.assertNotIn("reconnecting", alice.screen())


class BurnTests(TerminalCase):

    async def test_a_burned_message_leaves_the_screen(self):
        alice = await self.pane("alice")
        bob = await self.online("bob")
        alice.type("/msg @bob")
        alice.keys("Enter")
        await alice.wait_for(r"^\[@bob\]$")
        bob.type("/msg @alice", "/burn gone soon")
        await alice.wait_for(r"bob -> you: gone soon  \(burns 5 s after reading\)$")
        # shown in the window on screen: read at once, burned 5 s later, on both sides
        await bob.wait_for(r"burned", timeout=20)
        screen = await alice.wait_for(r"bob -> you: \(burned\)$", timeout=20)
        self.assertNotIn("gone soon", screen)


class ScrollTests(TerminalCase):

    async def test_page_up_shows_older_lines_and_new_ones_wait_below(self):
        alice = await self.pane("alice", height=12)
        bob = await self.online("bob")
        bob.type(*[f"line {n:02}" for n in range(30)])
        await alice.wait_for(r"bob: line 29$")
        self.assertNotIn("line 05", alice.screen())
        alice.keys("PPage", "PPage")
        screen = await alice.wait_for(r"bob: line 00$")
        self.assertNotIn("line 29", screen)
        bob.type("while scrolled up")
        await bob.wait_for(r"bob: while scrolled up$")
        self.assertNotIn("while scrolled up", alice.screen())   # the view stays where it is
        self.assertEqual(self.input_line(alice), "[#lobby]")
        alice.keys("NPage", "NPage", "NPage", "NPage")
        await alice.wait_for(r"bob: while scrolled up$")

    async def test_a_server_not_reachable_is_one_line_on_the_terminal(self):
        port = self.server.port
        await self.server.stop()
        alice = TmuxPane.chat_cli(port, "alice", err_path=os.path.join(self.tmp, "a.err"))
        self.addCleanup(alice.close)
        await alice.wait_for(r"^EXIT=1$")
        self.assertRegex(alice.errors(), rf"^cannot connect to 127\.0\.0\.1:{port}: "
                                         r"connection refused; is the server running\?\n$")
