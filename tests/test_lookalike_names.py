"""Invisible and look-alike names are refused, for users and rooms; Chinese names work."""

from twisted.trial import unittest

from chat.protocol.errors import BAD_REQUEST, NAME_TAKEN, ProtocolError
from chat.protocol.names import normalise_name
from chat.server.lookalikes import Lookalikes
from tests.harness import PASSWORD, Client, make_server, user


class InvisibleCharacterTests(unittest.TestCase):
    def test_default_ignorable_code_points_are_refused(self):
        # U+3164 and U+115F are letters by category, U+034F and U+17B4 marks: all invisible
        for name in ("alice\u3164", "alice\u115f", "alice\u034f", "alice\u17b4", "\u3164",
                     "\u3164\u3164", "al\u00adice", "bob\u200b", "lobby\u3164"):
            with self.subTest(name=repr(name)):
                with self.assertRaises(ProtocolError) as caught:
                    normalise_name(name)
                self.assertIn("invisible", caught.exception.message)

    def test_chinese_and_other_scripts_still_work(self):
        for name in ("张伟", "張偉", "김민준", "मनोज", "Jürgen", "ท่านชาย", "o'k".replace("'", "_")):
            self.assertEqual(normalise_name(name), name)


class LookalikeTests(unittest.TestCase):
    def setUp(self):
        self.server = make_server()
        self.alice = user(self.server, "alice")

    def register(self, name):
        client = Client(self.server)
        client.hello()
        return client.request("register", username=name, password=PASSWORD)

    def test_lookalike_user_names_are_refused(self):
        for name in ("аlice", "alіce", "аlісе", "αlice", "AIice", "ALlCE"):
            with self.subTest(name=name):
                reply = self.register(name)
                self.assertEqual(reply["code"], NAME_TAKEN, reply)
                self.assertIn("looks like alice", reply["message"])
        self.assertEqual(self.register("alice\u3164")["code"], BAD_REQUEST)

    def test_other_names_and_chinese_names_are_fine(self):
        for name in ("alicia", "bob", "张伟", "張偉", "王芳"):
            self.assertEqual(self.register(name)["type"], "ok", name)
        self.assertEqual(self.register("ALICE")["code"], NAME_TAKEN)   # the same name

    def test_lookalike_room_names_are_refused(self):
        for name in ("Iоввy", "IOBBY", "ӏobby"):
            with self.subTest(name=name):
                reply = self.alice.request("create_room", room=name)
                self.assertEqual(reply["code"], NAME_TAKEN, reply)
                self.assertIn("looks like #lobby", reply["message"])
        self.assertEqual(self.alice.request("create_room", room="lobby\u3164")["code"],
                         BAD_REQUEST)
        self.alice.ok("create_room", room="讨论")
        self.assertEqual(self.alice.request("create_room", room="討論")["type"], "ok")

    def test_racing_lookalike_registrations_cannot_both_pass(self):
        # both are checked before their hashes and again, with a hold, after them
        first, second = Client(self.server), Client(self.server)
        for client in (first, second):
            client.hello()
        first.send({"type": "register", "id": 1, "username": "mallory", "password": PASSWORD})
        second.send({"type": "register", "id": 1, "username": "mаllory", "password": PASSWORD})
        replies = [first.reply(1), second.reply(1)]
        self.assertEqual(sorted(r["type"] for r in replies), ["error", "ok"])

    def test_the_index_after_a_restart_and_a_failed_creation(self):
        index = Lookalikes()
        index.add("alice")
        self.assertEqual(index.reserve("аlice"), "alice")
        self.assertIsNone(index.reserve("bob"))
        index.remove("bob")                       # its creation failed: free again
        self.assertIsNone(index.holder("bоb"))
        self.assertIsNone(index.holder("ALICE"))  # the same name is the key's to refuse


class RacingRegistrationTests(unittest.TestCase):

    def test_the_loser_of_two_registrations_of_one_name_keeps_the_winners_protection(self):
        from twisted.internet import defer
        server = make_server()
        held = []

        def hold(f, *args):
            d = defer.Deferred()
            held.append((d, f, args))
            return d
        self.patch(server.accounts.hasher, "_run", hold)
        first, second = Client(server), Client(server)
        for client in (first, second):
            client.hello()
            client.send({"type": "register", "id": 5, "username": "alice",
                         "password": PASSWORD})
        while held:                    # the hasher runs one hash at a time here
            d, f, args = held.pop(0)
            d.callback(f(*args))
        self.assertEqual(first.reply(5)["type"], "ok")
        self.assertEqual(second.reply(5)["code"], NAME_TAKEN)
        third = Client(server)
        third.hello()
        self.assertEqual(third.error("register", username="аlice", password=PASSWORD),
                         NAME_TAKEN)
