"""End-to-end: the real server process and ``chat-cli`` / ``chat-admin`` processes through pipes.

Each test starts ``twistd chatserver`` on a free loopback port (see tests/test_e2e.py) and
drives terminal clients as a script would: lines into stdin, lines out of stdout.
"""



from tests.support.cli_process import CliProcess
from tests.support.server_process import wait_for_exit
from tests.support.wire import sleep
from tests.test_e2e import E2ECase

CLOCK = r"\[\d\d:\d\d:\d\d\] "


class CliCase(E2ECase):
    timeout = 90

    async def setUp(self):
        await super().setUp()
        self.clis = []
        self.addCleanup(self._stop_clis)

    async def _stop_clis(self):
        for cli in self.clis:
            cli.kill()
        for cli in self.clis:
            try:
                await cli.wait_exit(10)
            except Exception:
                pass

    def cli(self, user, *args, **kw):
        cli = CliProcess.spawn(self.server.port, user, *args, **kw)
        self.clis.append(cli)
        return cli

    async def online(self, user, *args, **kw):
        """A chat-cli that registered ``user`` and shows its welcome line."""
        cli = self.cli(user, "--register", *args, **kw)
        await cli.wait_for(r"Welcome|欢迎")
        return cli

    def history(self, conv_key):
        with self.db() as db:
            return [tuple(r) for r in db.execute(
                "SELECT sender, text FROM messages WHERE conv = ? ORDER BY id", (conv_key,))]


class TalkTests(CliCase):

    async def test_two_users_talk_and_a_private_message_stays_private(self):
        alice = await self.online("alice")
        bob = await self.online("bob")
        carol = await self.online("carol")
        alice.type("hello everybody")
        await bob.wait_for(CLOCK + r"alice: hello everybody$")
        await carol.wait_for(CLOCK + r"alice: hello everybody$")
        bob.type("hi alice")
        await alice.wait_for(CLOCK + r"bob: hi alice$")
        alice.type("/msg @bob just for you")
        await bob.wait_for(CLOCK + r"\[private\] alice -> you: just for you$")
        await alice.wait_for(CLOCK + r"\[private\] you -> bob: just for you$")
        alice.type("after the secret")
        await carol.wait_for(r"alice: after the secret$")
        self.assertFalse([line for line in carol.lines if "just for you" in line], carol.lines)
        carol.type("/users")
        await carol.wait_for(r"^Users: 3 online")
        for name in ("alice", "bob", "carol"):
            await carol.wait_for(rf"^  {name}\b.*online")

    async def test_piped_input_exits_zero_when_everything_is_acknowledged(self):
        await self.online("alice")
        bob = self.cli("bob", "--register")
        bob.type("one", "two", "/join dev", "in dev", "/msg @alice three")
        bob.close_stdin()
        self.assertEqual(await bob.wait_exit(), 0, bob.describe())
        self.assertEqual(self.history("r:lobby"), [("bob", "one"), ("bob", "two")])
        self.assertEqual(self.history("r:dev"), [("bob", "in dev")])

    async def test_chinese_interface(self):
        alice = await self.online("alice", lang="zh")
        self.assertTrue(any(line.startswith("【系统】欢迎，alice") for line in alice.lines),
                        alice.lines)
        alice.type("/bogus")
        await alice.wait_for(r"^【系统】未知命令 /bogus")
        bob = await self.online("bob")
        bob.type("你好")
        await alice.wait_for(CLOCK + r"bob: 你好$")
        alice.type("/msg @bob 悄悄话")
        await bob.wait_for(CLOCK + r"\[private\] alice -> you: 悄悄话$")
        await alice.wait_for(CLOCK + r"\[私聊\] 你 -> bob: 悄悄话$")

    async def test_offline_messages_are_shown_at_login(self):
        alice = await self.online("alice")
        bob = self.cli("bob", "--register")
        bob.close_stdin()
        await bob.wait_exit()
        alice.type("/msg @bob while you were out")
        await alice.wait_for(r"you -> bob: while you were out")
        bob = await self.online_again("bob")
        await bob.wait_for(r"While you were away, 1 new in @alice")
        await bob.wait_for(CLOCK + r"\[private\] alice -> you: while you were out$")

    async def online_again(self, user):
        cli = self.cli(user)
        await cli.wait_for(r"Welcome")
        return cli


class ErrorTests(CliCase):

    async def _one_line_error(self, cli, pattern):
        code = await cli.wait_exit()
        self.assertEqual(code, 1, cli.describe())
        self.assertEqual(len(cli.errors), 1, cli.describe())
        self.assertRegex(cli.errors[0], pattern)
        self.assertNotIn("Traceback", "\n".join(cli.lines + cli.errors))

    async def test_server_not_reachable(self):
        port = self.server.port
        await self.server.stop()
        cli = CliProcess.spawn(port, "alice")
        self.clis.append(cli)
        await self._one_line_error(
            cli, rf"^cannot connect to 127\.0\.0\.1:{port}: connection refused; "
                 r"is the server running\?$")

    async def test_wrong_password(self):
        alice = self.cli("alice", "--register")
        alice.close_stdin()
        await alice.wait_exit()
        again = self.cli("alice", password="not the password")
        await self._one_line_error(again, r"^Wrong user name or password\.$")

    async def test_name_taken(self):
        alice = self.cli("alice", "--register")
        alice.close_stdin()
        await alice.wait_exit()
        again = self.cli("ALICE", "--register")
        await self._one_line_error(again, r"^The name ALICE is taken")

    async def test_unknown_command_and_bad_input_keep_going(self):
        alice = await self.online("alice")
        alice.type("/frobnicate", "/history abc", "/msg", "/join", "still here")
        await alice.wait_for(r"^\[system\] Unknown command /frobnicate; type /help")
        await alice.wait_for(r"^\[system\] Please give a whole number from 1 to 200")
        await alice.wait_for(r"^\[system\] Usage: /msg @user text")
        await alice.wait_for(CLOCK + r"alice: still here$")

    async def test_message_to_nobody_is_reported_and_exit_is_one(self):
        alice = self.cli("alice", "--register")
        alice.type("/msg @nobody are you there?", "fine")
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 1)
        await alice.wait_for(r"^\[system\] Could not send: are you there\?")


class ReconnectTests(CliCase):

    async def test_reconnects_and_resends_after_a_server_restart(self):
        alice = await self.online("alice")
        bob = await self.online("bob")
        await self.server.stop()
        await alice.wait_for(r"^\[system\] Connection lost .*reconnecting in \d+ s")
        alice.type("typed while the server was down")
        await sleep(0.5)
        await self.server.start()
        await alice.wait_for(r"^\[system\] Reconnected\.$", timeout=40)
        await bob.wait_for(r"^\[system\] Reconnected\.$", timeout=40)
        await bob.wait_for(CLOCK + r"alice: typed while the server was down$", timeout=20)
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 0, alice.describe())
        self.assertEqual(self.history("r:lobby"), [("alice", "typed while the server was down")])

    async def test_exit_status_one_names_what_was_not_sent(self):
        alice = await self.online("alice", "--wait", "3")
        await self.server.stop()
        await alice.wait_for(r"reconnecting in")
        alice.type("this cannot be delivered")
        alice.close_stdin()
        self.assertEqual(await alice.wait_exit(), 1, alice.describe())
        err = "\n".join(alice.errors)
        self.assertIn("Not confirmed by the server", err)
        self.assertIn("#lobby 'this cannot be delivered'", err)


class AdminTests(CliCase):
    server_args = ("--allow-monitoring",)

    async def test_notice_reaches_everybody_and_a_user_is_refused(self):
        root = await self.online("root")          # the first account: admin
        bob = await self.online("bob")
        carol = await self.online("carol", lang="zh")
        root.type("/notice the coffee is ready")
        await root.wait_for(r"^\[system\] Notice delivered to 3 user\(s\)\.$")
        await bob.wait_for(CLOCK + r"\[notice\] root: the coffee is ready$")
        await carol.wait_for(CLOCK + r"【公告】root：the coffee is ready$")
        root.type("/notice @bob only you")
        await bob.wait_for(r"\[notice\] root -> you: only you$")
        bob.type("/notice I am not an admin", "/kick root", "/list")
        await bob.wait_for(r"^\[system\] Error \(not allowed\): notice is for admins only")
        await bob.wait_for(r"^\[system\] Error \(not allowed\): kick is for admins only")
        await bob.wait_for(r"^\[system\] Error \(not allowed\): sessions is for admins only")
        root.type("after")
        await carol.wait_for(r"root: after$")
        self.assertFalse([line for line in carol.lines if "I am not an admin" in line])
        self.assertRegex(self.server.output(), r"admin root sent a notice to .*: the coffee")

    async def test_admin_console_lists_kicks_bans_and_monitors(self):
        await self.online("root")
        bob = await self.online("bob")
        carol = await self.online("carol")
        admin = self.cli("root", module="chat.cli.admin")
        self.clis.append(admin)
        await admin.wait_for(r"Welcome, root")
        await admin.wait_for(r"admins can watch every conversation")
        admin.type("/list")
        await admin.wait_for(r"^Connections \(3 users online\):")
        await admin.wait_for(r"^  bob\s+127\.0\.0\.1:\d+\s+chat-cli/")
        admin.type("/user bob")
        await admin.wait_for(r"bob")
        admin.type("/monitor on")
        await admin.wait_for(r"^\[system\] Monitoring on")
        bob.type("/msg @carol between us")
        await admin.wait_for(r"^\[monitor\] " + CLOCK + r"bob -> @carol: between us$")
        admin.type("/kick bob too noisy")
        await bob.wait_for(r"An admin disconnected you\. kicked by root: too noisy")
        self.assertEqual(await bob.wait_exit(), 1, bob.describe())
        await admin.wait_for(r"^\[system\] bob disconnected \(1 connection")
        admin.type("/ban carol spam")
        await carol.wait_for(r"banned by root: spam")
        self.assertEqual(await carol.wait_exit(), 1)
        again = self.cli("carol")
        self.assertEqual(await again.wait_exit(), 1)
        self.assertRegex(again.errors[0], r"^This account is banned\. .*spam")
        admin.type("/unban carol")
        await admin.wait_for(r"carol may log in again")
        back = self.cli("carol")
        await back.wait_for(r"Welcome, carol")
        log = self.server.output()
        self.assertIn("admin root kicked bob: too noisy", log)
        self.assertIn("admin root banned carol: spam", log)

    async def test_a_user_cannot_open_the_admin_console(self):
        await self.online("root")
        bob = self.cli("bob", "--register", module="chat.cli.admin")
        self.assertEqual(await bob.wait_exit(), 1)
        self.assertEqual(bob.errors, ["Only admins can do that."])

    async def test_shutdown_warns_everybody_and_stops_the_server(self):
        root = await self.online("root")
        bob = await self.online("bob")
        root.type("/shutdown 1 maintenance")
        await bob.wait_for(r"\[notice\] root: The server will shut down in 1 s\. maintenance$")
        await bob.wait_for(r"reconnecting in", timeout=15)
        self.assertEqual(await wait_for_exit(self.server.proc, 15), 0)


class GuestCliTests(CliCase):
    server_args = ("--allow-guests",)

    async def test_a_guest_chats_with_an_account(self):
        alice = await self.online("alice")
        visitor = self.cli("visitor", "--guest")
        await visitor.wait_for(r"You are a guest: the name visitor is yours until you leave")
        await visitor.wait_for(r"Welcome")
        visitor.type("hello from a guest")
        await alice.wait_for(CLOCK + r"visitor: hello from a guest$")
        alice.type("/msg @visitor hi guest")
        await visitor.wait_for(CLOCK + r"\[private\] alice -> you: hi guest$")

    async def test_guest_in_chinese_and_refused_names(self):
        await self.online("alice")
        taken = self.cli("alice", "--guest", lang="zh")
        self.assertEqual(await taken.wait_exit(), 1, taken.describe())
        await taken.wait_for(r"用户名 alice 已被占用", stream=2)
        guest = self.cli("访客", "--guest", lang="zh")
        await guest.wait_for(r"你是访客：在你离开之前，访客 这个名字归你使用")


class NoGuestCliTests(CliCase):

    async def test_guests_off(self):
        visitor = self.cli("visitor", "--guest")
        self.assertEqual(await visitor.wait_exit(), 1, visitor.describe())
        await visitor.wait_for(r"^This server does not let guests in; log in with an account\.$",
                               stream=2)
