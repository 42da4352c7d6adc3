"""The Makefile's system step: apt-get busy (dpkg's lock held) is tried again, and a failed
step is never marked done. Runs make with fake apt-get, dpkg, python and sleep on PATH."""

import os
import shutil
import subprocess
import tempfile

from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class SystemStepTests(unittest.TestCase):

    def setUp(self):
        if shutil.which("make") is None:
            self.skipTest("no make")
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        self.log = os.path.join(self.dir, "calls")
        self.fake("dpkg", "exit 1")                      # every package is missing
        self.fake("sleep", "exit 0")
        self.fake("id", 'echo 0')                        # root, so apt-get is used
        self.fake("python", '[ "$1" = -m ] && mkdir -p "$3"; exit 0')   # venv, ensurepip

    def fake(self, name, body):
        path = os.path.join(self.bin, name)
        with open(path, "w") as f:
            f.write(f'#!/bin/sh\necho "{name} $*" >> "{self.log}"\n{body}\n')
        os.chmod(path, 0o755)

    def make(self):
        venv = os.path.join(self.dir, "venv")
        env = dict(os.environ, PATH=self.bin + os.pathsep + os.environ["PATH"])
        result = subprocess.run(
            ["make", "-s", "-C", ROOT, f"VENV={venv}", f"PYTHON={self.bin}/python",
             f"{venv}/.system"], env=env, capture_output=True, text=True, timeout=60)
        calls = []
        if os.path.exists(self.log):
            with open(self.log) as f:
                calls = f.read().splitlines()
            os.remove(self.log)
        return result, calls, os.path.exists(os.path.join(venv, ".system"))

    def test_a_busy_lock_leaves_the_step_unmarked_and_it_is_tried_again(self):
        self.fake("apt-get", 'case "$*" in *install*) echo "E: Could not get lock '
                  '/var/lib/dpkg/lock-frontend" >&2; exit 100;; esac; exit 0')
        result, calls, marked = self.make()
        self.assertFalse(marked, result.stdout + result.stderr)
        installs = [c for c in calls if c.startswith("apt-get") and " install " in c]
        self.assertEqual(len(installs), 3, calls)           # three attempts
        self.assertTrue(all("DPkg::Lock::Timeout=" in c for c in installs), installs)
        self.assertIn("make will try again next time", result.stdout)
        # the lock is free now: the next make installs and marks the step
        self.fake("apt-get", "exit 0")
        result, calls, marked = self.make()
        self.assertTrue(marked, result.stdout + result.stderr)
        result, calls, marked = self.make()
        self.assertEqual([c for c in calls if c.startswith("apt-get")], [])   # done once
