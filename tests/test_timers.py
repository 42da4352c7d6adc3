"""Heartbeats on an injected clock: ping after 30 s of silence, drop after 90 s."""

from twisted.internet import task
from twisted.trial import unittest

from chat.protocol.heartbeat import Heartbeat
from tests.harness import make_server, user


class HeartbeatTests(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.calls = []
        self.beat = Heartbeat(self.clock, lambda: self.calls.append("ping"),
                              lambda: self.calls.append("expire"))
        self.beat.start()

    def test_ping_then_expire(self):
        self.clock.advance(29.9)
        self.assertEqual(self.calls, [])
        self.clock.advance(0.1)
        self.assertEqual(self.calls, ["ping"])
        self.clock.advance(59.9)
        self.assertEqual(self.calls, ["ping"])
        self.clock.advance(0.1)
        self.assertEqual(self.calls, ["ping", "expire"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_activity_postpones(self):
        self.clock.advance(20)
        self.beat.activity()
        self.clock.advance(20)
        self.assertEqual(self.calls, [])
        self.clock.advance(10)
        self.assertEqual(self.calls, ["ping"])
        self.beat.activity()  # the peer answered
        self.clock.advance(89)
        self.assertEqual(self.calls, ["ping", "ping"])  # a new silence gets a new ping
        self.clock.advance(1)
        self.assertEqual(self.calls, ["ping", "ping", "expire"])

    def test_stop_cancels(self):
        self.beat.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])


class ConnectionHeartbeatTests(unittest.TestCase):
    def test_silent_connection_is_pinged_then_dropped(self):
        server = make_server()
        alice = user(server, "alice")
        watcher = user(server, "bob")
        watcher.presence_changes()
        server.clock.advance(30)
        self.assertEqual(alice.events("ping"), [{"type": "ping"}])
        self.assertEqual(watcher.events(), [{"type": "ping"}])
        watcher.send({"type": "pong"})  # bob answers; alice does not
        server.clock.advance(60)
        self.assertEqual(alice.events("bye")[0]["code"], "timeout")
        self.assertTrue(alice.transport.disconnecting)
        self.assertFalse(watcher.transport.disconnecting)
        watcher.pump()
        self.assertEqual(watcher.inbox, [{"type": "ping"}])  # a new silence; pong got no reply
        watcher.inbox.clear()
        alice.disconnect()
        [offline] = watcher.presence_changes()
        self.assertEqual((offline["user"], offline["online"]), ("alice", False))

    def test_unresponsive_peer_is_cut(self):
        server = make_server()
        client = user(server, "alice")   # logged in: not closed earlier for want of a login
        aborted = []
        client.transport.abortConnection = lambda: aborted.append(True)
        server.clock.advance(90)
        self.assertTrue(client.transport.disconnecting)
        self.assertEqual(aborted, [])
        server.clock.advance(10)  # it never read the bye: the connection is aborted
        self.assertEqual(aborted, [True])
