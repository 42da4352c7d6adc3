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
        ask, secret = Answers("10.0.0.5", "6000", "张伟"), Answers("密码密码密码密码", "密码密码密码密码")
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

    def test_a_guest_is_asked_for_no_password(self):
        ask, secret = Answers("", "", "visitor"), Answers()
        s = settings_from(["--guest", "--lang", "en"], "chat-cli", True, ask, secret, environ={})
        self.assertEqual((s.user, s.guest, s.password, s.password_typed),
                         ("visitor", True, "", False))
        self.assertEqual(secret.questions, [])
        s = settings_from(["--guest", "--user", "v"], "chat-cli", False, Answers(), Answers(),
                          environ={})
        self.assertEqual((s.user, s.guest), ("v", True))
        with self.assertRaises(UsageError) as caught:
            settings_from(["--guest", "--register", "--user", "v"], "chat-cli", False,
                          Answers(), Answers(), environ={})
        self.assertIn("either --guest or --register", str(caught.exception))

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
            settings_from([], "chat-cli", True, Answers("", "five"),
                          Answers("password"), environ={})


class PromptDefectTests(unittest.TestCase):
    """Issue 15: ask only for what has no default; a short new password is refused before it
    is typed twice; the last server is remembered."""

    def test_user_given_asks_only_for_the_password(self):
        ask, secret = Answers(), Answers("s3cret pass")
        s = settings_from(["--user", "alice", "--lang", "en"], "chat-cli", True, ask, secret,
                          environ={})
        self.assertEqual((s.host, s.port, s.user), ("127.0.0.1", 5000, "alice"))
        self.assertEqual(ask.questions, [])
        self.assertEqual(secret.questions, ["Password: "])

    def test_host_or_port_given_skips_the_server_questions(self):
        for argv in (["--host", "10.0.0.7"], ["--port", "6000"]):
            ask = Answers("bob")
            s = settings_from(argv + ["--lang", "en"], "chat-cli", True, ask,
                              Answers("s3cret pass"), environ={})
            self.assertEqual(ask.questions, ["User name: "], argv)
            self.assertEqual(s.user, "bob")

    def test_a_saved_last_server_skips_the_server_questions(self):
        home = tempfile.mkdtemp()
        environ = {"HOME": home}
        s = settings_from(["--lang", "en"], "chat-cli", True, Answers("10.0.0.9", "6001", "bob"),
                          Answers("s3cret pass"), environ=environ)
        s.remember()                                   # what a good login does (in a thread)
        with open(os.path.join(home, ".config", "chat", "last_server")) as f:
            self.assertEqual(f.read(), "10.0.0.9 6001\n")
        ask = Answers("bob")
        s = settings_from(["--lang", "en"], "chat-cli", True, ask, Answers("s3cret pass"),
                          environ=environ)
        self.assertEqual((s.host, s.port), ("10.0.0.9", 6001))
        self.assertEqual(ask.questions, ["User name: "])
        # a script is never steered by what a person's session saved
        s = settings_from(["--user", "bob"], "chat-cli", False, environ=dict(
            environ, CHAT_PASSWORD="s3cret pass"))
        self.assertEqual((s.host, s.port), ("127.0.0.1", 5000))
        self.assertIsNone(s.remember)

    def test_several_servers_in_host(self):
        from chat.client.servers import Server
        for prog in ("chat-cli", "chat-admin"):
            s = settings_from(["--host", "10.0.0.1, 10.0.0.2:5001,[::1]", "--port", "6000",
                               "--user", "bob"], prog, False,
                              environ={"CHAT_PASSWORD": "s3cret pass"},
                              admin_console=prog == "chat-admin")
            self.assertEqual(s.server_list(), [Server("10.0.0.1", 6000),
                                               Server("10.0.0.2", 5001), Server("::1", 6000)])
            self.assertEqual((s.host, s.port), ("10.0.0.1", 6000))     # the first one's
        s = settings_from(["--user", "bob"], "chat-cli", False,
                          environ={"CHAT_PASSWORD": "s3cret pass"})
        self.assertEqual(s.server_list(), [Server("127.0.0.1", 5000)])
        for bad, words in (("a,b:x", "--host: bad server 'b:x': the port must be a number"),
                           (",", "--host: no server given")):
            with self.assertRaises(UsageError) as caught:
                settings_from(["--host", bad, "--user", "bob"], "chat-cli", False,
                              environ={"CHAT_PASSWORD": "s3cret pass"})
            self.assertIn(words, str(caught.exception))

    def test_a_saved_server_list_comes_back_as_the_list(self):
        from chat.client.servers import Server
        home = tempfile.mkdtemp()
        environ = {"HOME": home}
        s = settings_from(["--host", "10.0.0.1,10.0.0.2:5001", "--user", "bob", "--lang",
                           "en"], "chat-cli", True, Answers(), Answers("s3cret pass"),
                          environ=environ)
        s.remember()
        with open(os.path.join(home, ".config", "chat", "last_server")) as f:
            self.assertEqual(f.read(), "10.0.0.1:5000,10.0.0.2:5001 5000\n")
        s = settings_from(["--lang", "en"], "chat-cli", True, Answers("bob"),
                          Answers("s3cret pass"), environ=environ)
        self.assertEqual(s.server_list(), [Server("10.0.0.1", 5000), Server("10.0.0.2", 5001)])

    def test_a_short_new_password_is_refused_before_it_is_typed_again(self):
        secret = Answers("short", "long enough now", "long enough now")
        s = settings_from(["--user", "a", "--register", "--lang", "en"], "chat-cli", True,
                          Answers(), secret, environ={})
        self.assertEqual(s.password, "long enough now")
        self.assertEqual(secret.questions, [
            "Password: ", "A password needs at least 8 characters. Password: ",
            "Password again: "])
        with self.assertRaises(UsageError) as caught:
            settings_from(["--user", "a", "--register", "--lang", "zh"], "chat-cli", True,
                          Answers(), Answers("a", "b", "c"), environ={})
        self.assertIn("密码至少需要 8 个字符", str(caught.exception))
