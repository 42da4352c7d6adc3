"""The browser client's modules unit-tested by node (``node --test tests/js/``): the client
core's outbox, resend, sync and de-duplication against a fake WebSocket, SHA-256, body
frames. ``make install`` installs nodejs; a missing node is a failure, not a skip."""

import os
import shutil
import subprocess

from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class NodeUnitTests(unittest.TestCase):

    def test_the_modules_pass_their_node_tests(self):
        node = shutil.which("node") or shutil.which("nodejs")
        self.assertIsNotNone(node, "node is missing: make install installs nodejs")
        js_dir = os.path.join(ROOT, "tests", "js")
        files = sorted(os.path.join(js_dir, f) for f in os.listdir(js_dir) if f.endswith(".test.mjs"))
        self.assertTrue(files)
        result = subprocess.run([node, "--test", *files], cwd=ROOT, capture_output=True,
                                text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stdout[-6000:] + result.stderr[-3000:])
        self.assertIn("# fail 0", result.stdout)
