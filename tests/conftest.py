"""pytest's set-up of the suite: it leaves nothing in the project folder.

Under ``trial`` the tests run in ``_trial_temp/``; under pytest the current folder is the
project's, where trial's ``TestCase.mktemp`` would make ``tests.test_x/`` folders and
Hypothesis its ``.hypothesis/`` database. Both go to one temporary folder instead, removed
at the end of the run.
"""

import atexit
import os
import shutil
import tempfile

from twisted.trial import unittest as trial_unittest

SCRATCH = tempfile.mkdtemp(prefix="chat-tests-")
atexit.register(shutil.rmtree, SCRATCH, True)


def _mktemp(self) -> str:
    """A path that does not exist yet, in a new folder of its own (as trial's mktemp)."""
    return os.path.join(tempfile.mkdtemp(prefix=self.id().rsplit(".", 1)[-1][:40] + "-",
                                         dir=SCRATCH), "temp")


trial_unittest.SynchronousTestCase.mktemp = _mktemp

try:
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:        # hypothesis is a test dependency; without it its tests are skipped
    pass
else:
    # its example database and its caches (unicode data) go there too
    set_hypothesis_home_dir(os.path.join(SCRATCH, "hypothesis"))
