"""The file I/O pool: its threads run below the reactor's priority."""

import os
import threading

from twisted.internet import defer, reactor
from twisted.trial import unittest

from chat.server.files.io import FILE_NICE, FileIO


def own_priority():
    return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class FilePoolPriorityTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_pool_threads_are_niced_and_the_reactor_is_not(self):
        io = FileIO(reactor, threads=2)
        self.addCleanup(io.stop)
        main_tid, main_nice = own_priority()
        results = yield defer.gatherResults([io.run(own_priority) for _ in range(6)])
        for tid, nice in results:
            self.assertNotEqual(tid, main_tid)
            self.assertEqual(nice, min(main_nice + FILE_NICE, 19))
        # the reactor thread kept its priority
        self.assertEqual(own_priority(), (main_tid, main_nice))
        # a second job on the same thread does not lower it again
        again = yield io.run(own_priority)
        self.assertEqual(again[1], min(main_nice + FILE_NICE, 19))
