"""Properties the design promises: a pure protocol package, hashing off the reactor thread,
one encoding per room message."""

import subprocess
import sys
import threading

from twisted.internet import defer
from twisted.trial import unittest

from chat.server import frames as fanout_module  # the native encoding of fan-out events
from chat.server.passwords import PasswordHasher
from tests.harness import make_server, user


class ProtocolPurityTests(unittest.TestCase):
    def test_protocol_imports_no_server_storage_qt_or_twisted(self):
        code = ("import sys, chat.protocol.commands, chat.protocol.framing, chat.protocol.codec,"
                " chat.protocol.names, chat.protocol.timestamps, chat.protocol.fields;"
                "bad = [m for m in sys.modules if m.startswith(('chat.server', 'chat.client',"
                " 'chat.qtclient', 'twisted', 'PyQt6', 'sqlite3'))];"
                "print(bad); sys.exit(1 if bad else 0)")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class HashingThreadTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_hash_and_verify_run_off_the_reactor_thread(self):
        hasher = PasswordHasher(time_cost=1, memory_kib=8)  # the real thread pool
        threads = []
        real = hasher._argon2

        class Recording:
            def hash(self, password):
                threads.append(threading.current_thread())
                return real.hash(password)

            def verify(self, password_hash, password):
                threads.append(threading.current_thread())
                return real.verify(password_hash, password)

        hasher._argon2 = Recording()
        hashed = yield hasher.hash("correct horse")
        self.assertTrue((yield hasher.verify(hashed, "correct horse")))
        self.assertFalse((yield hasher.verify(hashed, "wrong horse")))
        self.assertFalse((yield hasher.verify(None, "no such user")))
        self.assertEqual(len(threads), 4)
        self.assertNotIn(threading.main_thread(), threads)


class EncodeOnceTests(unittest.TestCase):
    def test_a_room_message_is_encoded_once_for_all_receivers(self):
        server = make_server()
        clients = [user(server, f"u{i}") for i in range(5)]
        for client in clients:
            client.presence_changes()
        encodings = []
        real = fanout_module.control_frame
        self.patch(fanout_module, "control_frame",
                   lambda obj: (encodings.append(obj["type"]), real(obj))[1])
        clients[0].ok("send", to="#lobby", text="hi all", cid="1")
        self.assertEqual(encodings, ["message"])
        self.assertEqual([len(c.events("message")) for c in clients], [1] * 5)
