"""A full disk is one clear warning line, never a critical traceback; last-seen times that
could not be written are written later."""

import errno

from twisted.internet import defer, task
from twisted.logger import LogLevel, globalLogPublisher
from twisted.trial import unittest

from chat.server.faults import disk_trouble, log_failure
from chat.server.last_seen import RETRY, LastSeenWriter
from chat.server.storage import StorageError
from chat.server.storage.memory import MemoryStorage
from tests.harness import make_server, user


class LogEvents:
    def __init__(self, case):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        case.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def at(self, level):
        return [e for e in self.events if e.get("log_level") == level]


class FullDiskStorage(MemoryStorage):
    """Memory storage whose last-seen writes fail while ``full`` is set."""

    def __init__(self):
        super().__init__()
        self.full = True

    def set_last_seen(self, account_id, now):
        if self.full:
            return defer.fail(StorageError("database or disk is full"))
        return super().set_last_seen(account_id, now)


class FaultLogTests(unittest.TestCase):
    def test_disk_faults_are_one_warning_line(self):
        from twisted.logger import Logger
        log = Logger()
        events = LogEvents(self)
        log_failure(log, OSError(errno.ENOSPC, "No space left on device"), "writing file {id}",
                    id=7)
        log_failure(log, StorageError("database or disk is full"), "saving progress")
        warnings = events.at(LogLevel.warn)
        self.assertEqual(len(warnings), 2)
        self.assertNotIn("log_failure", warnings[0])           # no traceback
        self.assertEqual(warnings[0]["trouble"], "No space left on device")
        self.assertEqual(events.at(LogLevel.critical), [])

    def test_a_bug_keeps_its_traceback(self):
        from twisted.logger import Logger
        events = LogEvents(self)
        try:
            raise ValueError("a bug")
        except ValueError:
            log_failure(Logger(), None, "writing file {id}", id=7)
        critical = events.at(LogLevel.critical)
        self.assertEqual(len(critical), 1)
        self.assertIn("log_failure", critical[0])
        self.flushLoggedErrors(ValueError)
        self.assertIsNone(disk_trouble(ValueError("x")))
        self.assertIsNone(disk_trouble(OSError(errno.ENOENT, "gone")))


class LastSeenTests(unittest.TestCase):
    @defer.inlineCallbacks
    def test_a_failed_write_is_kept_and_retried(self):
        storage, clock = FullDiskStorage(), task.Clock()
        account = yield storage.create_account("alice", "alice", "h", 1)
        events = LogEvents(self)
        writer = LastSeenWriter(storage, clock)
        yield writer.save(account.id, 1000)
        yield writer.save(account.id, 2000)            # the newer one is kept
        self.assertEqual(writer.failed, {account.id: 2000})
        self.assertEqual(len(events.at(LogLevel.warn)), 2)
        self.assertEqual(events.at(LogLevel.critical), [])
        clock.advance(RETRY)                            # still full: kept, tried again later
        self.assertEqual(writer.failed, {account.id: 2000})
        storage.full = False
        clock.advance(RETRY)
        self.assertEqual(writer.failed, {})
        self.assertEqual((yield storage.account_by_id(account.id)).last_seen, 2000)
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_a_user_going_offline_on_a_full_disk(self):
        storage = FullDiskStorage()
        server = make_server(storage)
        events = LogEvents(self)
        user(server, "alice").disconnect()
        self.assertEqual(events.at(LogLevel.critical), [])
        self.assertEqual(len(events.at(LogLevel.warn)), 1)
        storage.full = False
        stopped = server.stop()                         # the last try, at the stop
        self.assertTrue(stopped.called)
        account = storage._accounts[1]
        self.assertIsNotNone(account.last_seen)
