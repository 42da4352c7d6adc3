"""chatctl's command line in this process: parsing, passwords, what it prints, its errors
(the parts that need no server; tests/test_ctl_e2e.py runs the real thing)."""

import io

from twisted.trial import unittest

from chat.ctl import main as ctl
from chat.ctl import wire
from chat.ctl.wire import ControlError


class FakeStdin:
    def __init__(self, data: bytes = b"", tty: bool = False):
        self.buffer = io.BytesIO(data)
        self._tty = tty

    def isatty(self):
        return self._tty


def run(*argv, stdin=b""):
    out, err = io.StringIO(), io.StringIO()
    code = ctl.main(list(argv), stdin=FakeStdin(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


class PasswordTests(unittest.TestCase):

    def test_first_line_of_stdin(self):
        self.assertEqual(ctl.read_password("a", FakeStdin(b"pass word\r\nsecond\n")), "pass word")
        self.assertEqual(ctl.read_password("a", FakeStdin("密码密码密码密码".encode())),
                         "密码密码密码密码")

    def test_empty_stdin(self):
        with self.assertRaises(ControlError) as caught:
            ctl.read_password("a", FakeStdin(b"\n"))
        self.assertIn("first line of stdin", caught.exception.message)

    def test_prompt_twice_on_a_terminal(self):
        asked = []
        answers = iter(["s3cret-pass", "s3cret-pass"])

        def prompt(text):
            asked.append(text)
            return next(answers)
        self.assertEqual(ctl.read_password("bob", FakeStdin(tty=True), prompt), "s3cret-pass")
        self.assertEqual(asked, ["Password for bob: ", "Again: "])

    def test_prompts_that_differ(self):
        answers = iter(["one-password", "another-one"])
        with self.assertRaises(ControlError) as caught:
            ctl.read_password("bob", FakeStdin(tty=True), lambda text: next(answers))
        self.assertEqual(caught.exception.message, "the two passwords differ")


class CommandLineTests(unittest.TestCase):

    def test_requests(self):
        parser = ctl.build_parser()
        cases = [
            (["ban", "Bob", "spamming", "links"], ("ban", {"name": "Bob",
                                                           "reason": "spamming links"})),
            (["kick", "bob"], ("kick", {"name": "bob"})),
            (["notice", "back", "at", "5"], ("notice", {"text": "back at 5"})),
            (["users"], ("users", {})),
            (["adduser", "ｂｏｂ", "--admin"], ("adduser", {"name": "bob", "admin": True,
                                                          "password": "pw-123456"})),
        ]
        for argv, expected in cases:
            self.assertEqual(ctl.request_of(parser.parse_args(argv), FakeStdin(b"pw-123456")),
                             expected, argv)
        # an operator may set a short password (test accounts): allowed, with a warning
        command, args = ctl.request_of(parser.parse_args(["adduser", "jilles"]),
                                       FakeStdin(b"sesame\n"))
        self.assertEqual(args["password"], "sesame")
        self.assertIn("6 characters", ctl.short_password_warning(args))
        self.assertIsNone(ctl.short_password_warning({"name": "a", "password": "pw-123456"}))
        self.assertIsNone(ctl.short_password_warning({"name": "a"}))
        with self.assertRaises(ctl.ControlError):
            ctl.request_of(parser.parse_args(["passwd", "jilles"]), FakeStdin(b"x" * 1025))
        command, args = ctl.request_of(parser.parse_args(["backup", "x.db"]))
        self.assertTrue(args["path"].endswith("/x.db") and args["path"].startswith("/"))

    def test_usage_errors_are_one_line_and_status_1(self):
        for argv, said in ((["frob"], "unknown command 'frob'"), ([], "no command given"),
                           (["--nope", "users"], "unrecognized arguments"),
                           (["deluser"], "the following arguments are required: name"),
                           (["adduser", "x y"], "bad user name 'x y'"),
                           (["--timeout", "soon", "users"], "invalid float value")):
            code, out, err = run(*argv)
            self.assertEqual((code, out), (1, ""), argv)
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertTrue(err.startswith("chatctl: error: "), err)
            self.assertIn(said, err, argv)

    def test_render(self):
        self.assertEqual(ctl.render("adduser", {"name": "a", "admin": True}), ["added a (admin)"])
        self.assertEqual(ctl.render("users", {"users": [
            {"name": "alice", "admin": True, "online": True},
            {"name": "bo", "banned": True, "ban_reason": "spam", "last_seen": "2026-01-01"},
            {"name": "guest1", "guest": True, "online": True}]}),
            ["alice   online                admin",
             "bo      last seen 2026-01-01  banned: spam",
             "guest1  online                guest"])
        self.assertEqual(ctl.render("users", {"users": []}), ["no accounts"])
        self.assertEqual(ctl.render("rooms", {"rooms": [
            {"name": "lobby", "topic": "", "members": 1, "online": 0},
            {"name": "dev", "topic": "builds", "members": 12, "online": 3}]}),
            ["#lobby  1 member    0 online", "#dev    12 members  3 online  builds"])
        self.assertEqual(ctl.render("kick", {"name": "b", "closed": 2}),
                         ["kicked b (2 connections closed)"])
        self.assertEqual(ctl.render("notice", {"delivered": 1}), ["notice sent to 1 user online"])
        self.assertEqual(ctl.render("stats", {"zeta": 1, "accounts": 3, "version": "1"}),
                         ["version: 1", "accounts: 3", "zeta: 1"])


class CallTests(unittest.TestCase):
    """A data directory held by a server that is starting: chatctl waits for its socket."""

    def setUp(self):
        from chat.ctl import offline
        self.running = []          # what call_running does, in turn
        self.patch(ctl, "call_running", lambda *a: self._next())
        self.patch(offline, "hold_data_dir", self._held)
        self.slept = []
        self.now = [0.0]
        self.options = ctl.build_parser().parse_args(["users"])

    def _next(self):
        step = self.running.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def _held(self, *args, **kwargs):
        raise wire.DataDirHeld("another chat server (process 7) is using d, and its control "
                               "socket does not answer")

    def _sleep(self, seconds):
        self.slept.append(seconds)
        self.now[0] += seconds

    def test_waits_for_a_starting_server(self):
        self.running = [ctl.NotRunning(), ctl.NotRunning(), {"users": []}]
        result = ctl.call(self.options, "users", {}, sleep=self._sleep, clock=lambda: self.now[0])
        self.assertEqual(result, {"users": []})
        self.assertEqual(self.slept, [0.1, 0.1])

    def test_gives_up_after_a_while(self):
        self.running = [ctl.NotRunning()] * 100
        with self.assertRaises(wire.DataDirHeld):
            ctl.call(self.options, "users", {}, sleep=self._sleep, clock=lambda: self.now[0])
        self.assertLessEqual(abs(sum(self.slept) - ctl.HELD_WAIT), 0.11)
