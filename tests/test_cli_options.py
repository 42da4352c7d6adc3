"""chat-cli's options: what is asked for, what is taken from files and the environment."""

import os
import tempfile

from twisted.trial import unittest

from chat.cli.options import UsageError, settings_from


class Answers:
    """Stands in for input() and getpass(): answers in order, remembers the questions."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.questions = []

    def __call__(self, question):
        self.questions.append(question)
        return self.answers.pop(0)


class OptionsTests(unittest.TestCase):

    def test_a_person_is_asked_for_what_is_missing(self):
        ask, secret = Answers("", "", "alice"), Answers("s3cret pass")
        s = settings_from(["--lang", "en"], "chat-cli", True, ask, secret, environ={})
        self.assertEqual((s.host, s.port, s.user, s.password), ("127.0.0.1", 5000, "alice",
                                                                "s3cret pass"))
        self.assertEqual(ask.questions, ["Server [127.0.0.1]: ", "Port [5000]: ", "User name: "])
        self.assertEqual(secret.questions, ["Password: "])

    def test_questions_in_chinese_and_register_asks_twice(self):
        ask, secret = Answers("10.0.0.5", "6000", "张伟"), Answers("密码密码密码", "密码密码密码")
        s = settings_from(["--lang", "zh", "--register"], "chat-cli", True, ask, secret,
                          environ={})
        self.assertEqual((s.host, s.port, s.user, s.register), ("10.0.0.5", 6000, "张伟", True))
        self.assertEqual(ask.questions[0], "服务器地址 [127.0.0.1]: ")
        self.assertEqual(secret.questions, ["密码: ", "再次输入密码: "])

    def test_register_with_two_different_passwords_is_refused(self):
        with self.assertRaises(UsageError) as caught:
            settings_from(["--user", "a", "--register", "--lang", "en"], "chat-cli", True,
                          Answers("", ""), Answers("one password", "another one"), environ={})
        self.assertIn("The passwords differ", str(caught.exception))

    def test_a_script_is_never_asked(self):
        ask = Answers()
        s = settings_from(["--user", "bob"], "chat-cli", False, ask, ask,
                          environ={"CHAT_PASSWORD": "from env pw"})
        self.assertEqual((s.host, s.port, s.password), ("127.0.0.1", 5000, "from env pw"))
        self.assertEqual(ask.questions, [])
        with self.assertRaises(UsageError) as caught:
            settings_from(["--user", "bob"], "chat-cli", False, ask, ask, environ={})
        self.assertIn("no password (use --password-file or CHAT_PASSWORD)", str(caught.exception))
        with self.assertRaises(UsageError):
            settings_from([], "chat-cli", False, ask, ask, environ={"CHAT_PASSWORD": "x" * 8})

    def test_password_file_wins_and_keeps_spaces(self):
        path = os.path.join(tempfile.mkdtemp(), "pw")
        with open(path, "w", encoding="utf-8") as f:
            f.write("  spaced out pass \nsecond line\n")
        s = settings_from(["--user", "bob", "--password-file", path], "chat-cli", False,
                          environ={"CHAT_PASSWORD": "env"})
        self.assertEqual(s.password, "  spaced out pass ")
        with self.assertRaises(UsageError) as caught:
            settings_from(["--user", "bob", "--password-file", path + ".missing"], "chat-cli",
                          False, environ={})
        self.assertIn("cannot read the password file", str(caught.exception))

    def test_bad_port(self):
        for argv in (["--port", "0"], ["--port", "70000"]):
            with self.assertRaises(UsageError):
                settings_from(argv + ["--user", "u"], "chat-cli", False,
                              environ={"CHAT_PASSWORD": "password"})
        with self.assertRaises(UsageError):
            settings_from(["--user", "u"], "chat-cli", True, Answers("", "five"),
                          Answers("password"), environ={})
