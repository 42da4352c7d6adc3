"""The suite and the README's examples leave nothing untracked in the project folder."""

import os
import subprocess
import shutil

from twisted.trial import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class CleanTreeTests(unittest.TestCase):

    def test_mktemp_is_outside_the_project_folder(self):
        # pytest runs in the project folder: trial's mktemp made tests.test_x/ folders there
        path = os.path.abspath(self.mktemp())
        trial_temp = os.path.join(ROOT, "_trial_temp")
        inside = path.startswith(ROOT + os.sep) and not path.startswith(trial_temp)
        self.assertFalse(inside, path)
        os.makedirs(path)
        self.assertTrue(os.path.isdir(path))

    def test_hypothesis_keeps_its_files_outside_the_project_folder(self):
        try:
            from hypothesis.configuration import storage_directory
        except ImportError:
            self.skipTest("no hypothesis")
        where = storage_directory("examples", intent_to_write=False)
        where = os.path.abspath(str(getattr(where, "path", where)))
        self.assertFalse(where.startswith(ROOT + os.sep)
                         and not where.startswith(os.path.join(ROOT, "_trial_temp")), where)

    def test_the_daemon_example_leaves_nothing_untracked(self):
        if shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")):
            self.skipTest("not a git checkout")
        # README: twistd --pidfile chat.pid --logfile chat.log chatserver
        for name in ("chat.log", "chat.log.1", "chat.pid"):
            ignored = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", name])
            self.assertEqual(ignored.returncode, 0, f"{name} would show in git status")
