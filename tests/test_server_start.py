"""Starting `twistd -n chatserver` on a port in use, seen as a terminal shows it: stdout and
stderr on one file. The error is said once, and no database is made first."""

import os
import shutil
import socket
import subprocess
import tempfile

from twisted.trial import unittest

from tests.support.server_process import TWISTD, child_env, port_spec

FAST_HASH = ["--hash-time", "1", "--hash-memory", "8"]


class PortInUseTests(unittest.TestCase):

    def test_a_port_in_use_is_said_once_and_no_database_is_made(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        busy = socket.socket()
        self.addCleanup(busy.close)
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        data = os.path.join(tmp, "data")
        done = subprocess.run(
            TWISTD + ["-n", "--pidfile=", "chatserver", "--port", port_spec(port),
                      "--data-dir", data] + FAST_HASH,
            cwd=tmp, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        output = done.stdout.decode("utf-8", "replace")
        self.assertEqual(done.returncode, 1, output)
        said = [line for line in output.splitlines() if "cannot listen" in line]
        self.assertEqual(len(said), 1, output)
        self.assertIn("in use", said[0], output)
        self.assertNotIn("Traceback", output)
        self.assertFalse(os.path.exists(os.path.join(data, "chat_server.db")), output)
