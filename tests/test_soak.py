"""A short run of bench/soak.py (about 8 s of hostile connections against the real server) so
that the normal test suite covers it: the server survives, its memory comes back, and the real
users lose no message. The full soak is ``.venv/bin/python bench/soak.py`` (60 s, 200
connections; see docs/BENCHMARKS.md, *Soak*)."""

import json
import os
import subprocess
import sys
import tempfile

from twisted.trial import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ShortSoakTests(unittest.TestCase):
    def test_short_soak(self):
        out = os.path.join(tempfile.mkdtemp(prefix="chat-soak-test-"), "soak.json")
        result = subprocess.run(
            [sys.executable, os.path.join(REPO, "bench", "soak.py"), "--seconds", "8",
             "--connections", "40", "--users", "3", "--settle", "4", "--json", out],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        self.assertTrue(os.path.exists(out), result.stdout + result.stderr)
        with open(out) as f:
            figures = json.load(f)
        report = result.stdout + result.stderr
        self.assertEqual(result.returncode, 0, report)
        self.assertTrue(figures["passed"], report)
        self.assertGreater(figures["hostile"]["opened"], 40, report)
        messages = figures["messages"]
        self.assertGreater(messages["sent"], 0)
        self.assertEqual((messages["unacked"], messages["lost"], messages["duplicated"]),
                         (0, 0, 0), report)
        self.assertTrue(figures["fresh_login"]["ok"], report)
